package manifest

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
)

// MaxSumsSize bounds SHA256SUMS (about 400,000 lines of typical length).
const MaxSumsSize = 64 << 20

// Sum is one line of SHA256SUMS.
type Sum struct {
	Name   string // relative to the kit root
	Digest Digest
}

// Sums is the content of SHA256SUMS: one line per file, sorted bytewise by
// name, in GNU coreutils' text format "<hex>  <name>\n".
type Sums []Sum

// Sort orders s bytewise by name.
func (s Sums) Sort() { sort.Slice(s, func(i, j int) bool { return s[i].Name < s[j].Name }) }

// Marshal returns SHA256SUMS as written in a kit. s must be sorted.
func (s Sums) Marshal() []byte {
	var b bytes.Buffer
	for _, e := range s {
		b.WriteString(e.Digest.Hex())
		b.WriteString("  ")
		b.WriteString(e.Name)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// Map returns the digests by name.
func (s Sums) Map() map[string]Digest {
	m := make(map[string]Digest, len(s))
	for _, e := range s {
		m[e.Name] = e.Digest
	}
	return m
}

// ParseSums parses SHA256SUMS strictly: every line is "<64 lower-case hex>
// <two spaces><name>\n", names are safe kit paths (CheckPath), sorted
// bytewise with no duplicates, and no signature file is listed. Anything
// else — a binary-mode "*" marker, GNU's backslash escaping, a BSD-style
// line, a blank line, a missing final newline — is malformed.
func ParseSums(data []byte) (Sums, error) {
	if len(data) > MaxSumsSize {
		return nil, malformed("%s is larger than %d bytes", SumsName, MaxSumsSize)
	}
	if len(data) == 0 {
		return nil, malformed("%s is empty", SumsName)
	}
	if data[len(data)-1] != '\n' {
		return nil, malformed("%s does not end with a newline", SumsName)
	}
	lines := strings.Split(string(data[:len(data)-1]), "\n")
	out := make(Sums, 0, len(lines))
	for i, line := range lines {
		n := i + 1
		if len(line) < 67 || line[64] != ' ' || line[65] != ' ' {
			return nil, malformed("%s line %d: not \"<sha256 hex>  <name>\"", SumsName, n)
		}
		d, err := ParseHex(line[:64])
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %w", SumsName, n, err)
		}
		name := line[66:]
		if err := CheckPath(name); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", SumsName, n, err)
		}
		if IsSignatureFile(name) || name == SumsName {
			return nil, malformed("%s line %d: lists %s, which it must not", SumsName, n, name)
		}
		if len(out) > 0 {
			prev := out[len(out)-1].Name
			if prev == name {
				return nil, malformed("%s line %d: %q is listed twice", SumsName, n, name)
			}
			if prev > name {
				return nil, malformed("%s line %d: %q is out of order (lines must be sorted bytewise by name)", SumsName, n, name)
			}
		}
		out = append(out, Sum{Name: name, Digest: d})
	}
	return out, nil
}
