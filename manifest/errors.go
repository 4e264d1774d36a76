package manifest

import (
	"errors"
	"fmt"
)

// ErrMalformed is wrapped by every error that reports input which does not
// follow the kit format: a bad spec, SHA256SUMS line, statement or envelope.
var ErrMalformed = errors.New("malformed")

// ErrDigestMismatch is wrapped by every error that reports content whose
// size or digest is not the one that names it: a payload file against
// SHA256SUMS, an image blob against its descriptor. It is defined here,
// once; bundle and images wrap it.
var ErrDigestMismatch = errors.New("digest mismatch")

// ErrUnsafePath is wrapped by errors that reject a path which could escape
// the kit root, collide with another path, or could not be represented
// faithfully by GNU tar and sha256sum.
var ErrUnsafePath = fmt.Errorf("%w: unsafe path", ErrMalformed)

// FieldError reports a problem with one field of a document, located by a
// JSON pointer-like path and, where known, a line number in the source file.
type FieldError struct {
	File  string // the document's file name, if known
	Line  int    // 1-based line, 0 if unknown
	Field string // e.g. "components[1].path"
	Err   error
}

func (e *FieldError) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", loc, e.Line)
	}
	if loc != "" {
		loc += ": "
	}
	if e.Field == "" {
		return loc + e.Err.Error()
	}
	return fmt.Sprintf("%s%s: %v", loc, e.Field, e.Err)
}

func (e *FieldError) Unwrap() error { return e.Err }

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}
