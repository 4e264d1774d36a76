// Package sample holds what the deterministic benchmark generators
// (internal/gensample, internal/genimage) share: size arguments and seeded
// random streams.
package sample

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// ParseSize accepts a plain byte count or a number with a unit suffix:
// B, K/KB/KiB, M/MB/MiB, G/GB/GiB, T/TB/TiB. Bare K/M/G and the *iB forms are
// binary; KB/MB/GB are decimal. Fractions are allowed ("1.5GiB").
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	if num == "" {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	var mult float64
	switch unit {
	case "", "b":
		mult = 1
	case "k", "kib":
		mult = 1 << 10
	case "m", "mib":
		mult = 1 << 20
	case "g", "gib":
		mult = 1 << 30
	case "t", "tib":
		mult = 1 << 40
	case "kb":
		mult = 1e3
	case "mb":
		mult = 1e6
	case "gb":
		mult = 1e9
	case "tb":
		mult = 1e12
	default:
		return 0, fmt.Errorf("invalid size %q: unknown unit %q", s, unit)
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	n := int64(f * mult)
	if n <= 0 {
		return 0, fmt.Errorf("size %q must be positive", s)
	}
	return n, nil
}

// NewRNG derives an independent ChaCha8 stream from seed and a domain label,
// so each kind of content is stable even if another kind's layout changes.
func NewRNG(seed uint64, domain string) *rand.ChaCha8 {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:8], seed)
	copy(key[8:], domain)
	return rand.NewChaCha8(key)
}
