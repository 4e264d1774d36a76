package bundle

import (
	"errors"
	"fmt"

	"github.com/offkit/offkit/manifest"
)

// ErrCorrupt is wrapped by every error that reports a kit which is not
// well-formed: bad compression, a truncated or malformed tar stream, an
// entry out of place, of the wrong type or over a limit. It wraps
// manifest.ErrMalformed, so one errors.Is test covers both packages.
var ErrCorrupt = fmt.Errorf("%w: corrupt kit", manifest.ErrMalformed)

// ErrSource is wrapped by build errors about sources that break the rules of
// docs/FORMAT.md: a symlink leaving its source, a special file, an empty
// component. It wraps manifest.ErrMalformed. (A source that is missing or
// cannot be read is an I/O error, wrapping the fs error.)
var ErrSource = fmt.Errorf("%w: bad source", manifest.ErrMalformed)

// ErrSourceChanged is returned when a source changed while a kit was built.
var ErrSourceChanged = errors.New("source changed during the build")

// ErrTooLarge is returned when a kit would exceed a limit of the format
// (docs/FORMAT.md, Limits), which readers would refuse.
var ErrTooLarge = errors.New("kit exceeds a limit of the format")

// EntryError reports a problem with one archive entry.
type EntryError struct {
	Name string // the entry's name in the archive
	Err  error
}

func (e *EntryError) Error() string { return fmt.Sprintf("entry %q: %v", e.Name, e.Err) }
func (e *EntryError) Unwrap() error { return e.Err }

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
}
