package main

import (
	"fmt"
	"io"
	"strings"
	"unicode"
)

// printable returns s with every control character (C0 but newline and
// tab, DEL, C1) and every bidirectional formatting character escaped as
// \xNN or \uNNNN: what a store, a registry or an unverified kit says is
// printed as text, and cannot move the cursor, recolour the terminal or
// forge "ok" lines of a report.
func printable(s string) string {
	if strings.IndexFunc(s, unprintable) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case !unprintable(r):
			b.WriteRune(r)
		case r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
	}
	return b.String()
}

// printableLine is printable with newlines and tabs escaped too: for one
// line of output made of text from elsewhere (an error message, a field),
// which must not be able to start a line of its own.
func printableLine(s string) string {
	return strings.NewReplacer("\n", `\n`, "\t", `\t`).Replace(printable(s))
}

func unprintable(r rune) bool {
	if r == '\n' || r == '\t' {
		return false
	}
	return unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Bidi_Control, r) || r == unicode.ReplacementChar
}

// printableWriter passes everything written through printable: for the
// human renderings of inspections, reports and listings, whose own text
// has no control characters but whose fields come from kits and stores.
type printableWriter struct{ w io.Writer }

func (p printableWriter) Write(b []byte) (int, error) {
	if _, err := io.WriteString(p.w, printable(string(b))); err != nil {
		return 0, err
	}
	return len(b), nil
}
