package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

// streamMemoryLimit is the floor of the soft limit on the Go heap for
// commands that stream a kit (verify, unpack, pull, publish, images push).
// Their live heap is the kit's head plus fixed buffers (about 40 MiB of
// zstd frames in flight); without a limit the collector lets the heap grow
// to twice that before collecting.
const streamMemoryLimit = 96 << 20

// limitMemory keeps the heap near what is live, unless GOMEMLIMIT is set:
// after every collection the soft limit becomes the live heap plus a
// quarter (and at least streamMemoryLimit). A fixed limit below a large
// head (tens of thousands of files) kept the collector running without
// pause: verify of a 46,786-file kit took twice as long.
func limitMemory() {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetMemoryLimit(streamMemoryLimit)
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	var tune func(*gcSentinel)
	tune = func(g *gcSentinel) {
		metrics.Read(s)
		if s[0].Value.Kind() == metrics.KindUint64 {
			live := int64(s[0].Value.Uint64())
			debug.SetMemoryLimit(max(streamMemoryLimit, live+live/4+32<<20))
			notePeak(live)
		}
		runtime.SetFinalizer(g, tune) // again after the next collection
	}
	runtime.SetFinalizer(&gcSentinel{}, tune)
}

// gcSentinel is garbage at once: its finalizer runs after each collection.
type gcSentinel struct{ _ [64]byte } // not tiny: the tiny allocator would batch it
