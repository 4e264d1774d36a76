package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// peakLive is the largest live heap seen after a collection, for
// $OFFKIT_PEAKPROFILE.
var peakLive int64

// notePeak writes a heap profile to $OFFKIT_PEAKPROFILE each time the live
// heap after a collection is larger than ever: the profile of the peak.
func notePeak(live int64) {
	path := os.Getenv("OFFKIT_PEAKPROFILE")
	if path == "" || live <= peakLive {
		return
	}
	peakLive = live
	if f, err := os.Create(path); err == nil {
		pprof.Lookup("heap").WriteTo(f, 0)
		f.Close()
	}
}

// startProfiles writes a CPU profile to $OFFKIT_CPUPROFILE and, when the
// command ends, a heap profile to $OFFKIT_MEMPROFILE: for engineers
// measuring where a command's time and memory go (`go tool pprof`).
// Without either variable it does nothing. $OFFKIT_PEAKPROFILE (see
// notePeak) is the heap at its largest.
func startProfiles() (stop func()) {
	cpu, mem := os.Getenv("OFFKIT_CPUPROFILE"), os.Getenv("OFFKIT_MEMPROFILE")
	var f *os.File
	if cpu != "" {
		var err error
		if f, err = os.Create(cpu); err != nil {
			fmt.Fprintf(os.Stderr, "offkit: OFFKIT_CPUPROFILE: %v\n", err)
		} else if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(os.Stderr, "offkit: OFFKIT_CPUPROFILE: %v\n", err)
			f.Close()
			f = nil
		}
	}
	return func() {
		if f != nil {
			pprof.StopCPUProfile()
			f.Close()
		}
		if mem != "" {
			m, err := os.Create(mem)
			if err != nil {
				fmt.Fprintf(os.Stderr, "offkit: OFFKIT_MEMPROFILE: %v\n", err)
				return
			}
			runtime.GC()
			pprof.Lookup("allocs").WriteTo(m, 0)
			m.Close()
		}
	}
}
