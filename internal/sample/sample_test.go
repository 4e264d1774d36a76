package sample

import "testing"

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"1048576": 1 << 20, "64MiB": 64 << 20, "64M": 64 << 20, "1GiB": 1 << 30,
		"1.5GiB": 3 << 29, "500MB": 500e6, "2kb": 2000, "7 B": 7,
	} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MiB", "0", "-1", "1XB", "1..2M"} {
		if got, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", in, got)
		}
	}
}

// The same seed and domain give the same stream; another domain another.
func TestNewRNG(t *testing.T) {
	a, b, c := NewRNG(1, "x"), NewRNG(1, "x"), NewRNG(1, "y")
	if a.Uint64() != b.Uint64() {
		t.Fatal("same seed and domain, different streams")
	}
	if NewRNG(1, "x").Uint64() == c.Uint64() {
		t.Fatal("different domains, same stream")
	}
}
