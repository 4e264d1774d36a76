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

// ErrSource is wrapped by build errors about the sources a spec names: a
// missing file, a symlink leaving its source, a special file.
var ErrSource = errors.New("bad source")

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
