package verify

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/offkit/offkit/internal/fsutil"
	"github.com/offkit/offkit/manifest"

	"github.com/offkit/offkit/internal/strictjson"
)

// StateVersion identifies the JSON form of a Record.
const StateVersion = "offkit.dev/state/v1"

// maxRecordSize bounds a state record file.
const maxRecordSize = 64 << 10

// State is a site's memory of the kits it has accepted: per kit name, the
// highest version and its signed statement's digest. It lives in a
// directory the site owns, one file per kit name (<name>.json), each
// replaced atomically.
type State struct{ dir string }

// Record is what the state remembers of a kit name.
type Record struct {
	SchemaVersion string `json:"schemaVersion"`
	Name          string `json:"name"`
	Version       string `json:"version"`
	Statement     string `json:"statement"` // digest of the signed statement
	Accepted      string `json:"accepted"`  // when, RFC 3339
}

// StateReport is the rollback check's view of the state, for the report.
type StateReport struct {
	Dir            string  `json:"dir"`
	Previous       *Record `json:"previous"` // null: nothing recorded for this name
	AllowDowngrade bool    `json:"allowDowngrade"`
}

// RollbackError is a kit refused by the state: older than the highest
// version accepted, or a different kit under that version.
type RollbackError struct {
	Name, Version string
	Previous      *Record
	SameVersion   bool
}

func (e *RollbackError) Error() string {
	if e.SameVersion {
		return fmt.Sprintf("rollback protection: %s %s was accepted before with a different signed statement (%s); a kit's content may not change under one version",
			e.Name, e.Version, e.Previous.Statement)
	}
	return fmt.Sprintf("rollback protection: %s %s is older than %s, the highest version accepted on %s",
		e.Name, e.Version, e.Previous.Version, e.Previous.Accepted)
}

// OpenState opens the state directory dir, which must exist: a mistyped
// path must not silently turn rollback protection off.
func OpenState(dir string) (*State, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("state directory: %w (create it first)", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("state directory %s: not a directory", dir)
	}
	return &State{dir: dir}, nil
}

// Dir returns the state directory.
func (s *State) Dir() string { return s.dir }

func (s *State) path(name string) string { return filepath.Join(s.dir, name+".json") }

// Get returns the record for a kit name, or nil if there is none.
func (s *State) Get(name string) (*Record, error) {
	f, err := os.Open(s.path(name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxRecordSize+1))
	if err != nil {
		return nil, fmt.Errorf("state: %s: %w", f.Name(), err)
	}
	var r Record
	if len(data) > maxRecordSize || strictjson.Unmarshal(data, &r) != nil || r.SchemaVersion != StateVersion || r.Name != name || r.Version == "" {
		return nil, fmt.Errorf("state: %s is not a valid %s record; inspect or remove it", f.Name(), StateVersion)
	}
	return &r, nil
}

// Check returns the record for the kit's name and whether the kit may be
// accepted: a *RollbackError if its version is older than the recorded
// one, or equal with a different statement, unless allowDowngrade.
func (s *State) Check(name, version, statement string, allowDowngrade bool) (*Record, error) {
	prev, err := s.Get(name)
	if err != nil || prev == nil {
		return prev, err
	}
	if allowDowngrade {
		return prev, nil
	}
	switch c := manifest.CompareVersions(version, prev.Version); {
	case c < 0:
		return prev, &RollbackError{Name: name, Version: version, Previous: prev}
	case c == 0 && statement != prev.Statement:
		return prev, &RollbackError{Name: name, Version: version, Previous: prev, SameVersion: true}
	}
	return prev, nil
}

// Record remembers that version of name, with the given statement digest,
// was accepted at now — unless a version at least as high is recorded
// already (another run may have recorded one since Check). With
// allowDowngrade an older kit, or a different kit under the recorded
// version, is accepted but the record is left alone.
// The record is written atomically under an exclusive lock.
func (s *State) Record(name, version, statement string, allowDowngrade bool, now time.Time) error {
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	prev, err := s.Get(name)
	if err != nil {
		return err
	}
	if prev != nil {
		c := manifest.CompareVersions(version, prev.Version)
		if c < 0 || (c == 0 && (prev.Statement == statement || allowDowngrade)) {
			return nil // the record stands: --allow-downgrade leaves it alone
		}
		if c == 0 {
			return &RollbackError{Name: name, Version: version, Previous: prev, SameVersion: true}
		}
	}
	rec := Record{SchemaVersion: StateVersion, Name: name, Version: version, Statement: statement, Accepted: now.UTC().Format(time.RFC3339)}
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(s.path(name), append(data, '\n'))
}

// lock takes an exclusive advisory lock on the state directory.
func (s *State) lock() (func(), error) {
	f, err := os.OpenFile(filepath.Join(s.dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	if err := fsutil.Lock(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("state: lock %s: %w", f.Name(), err)
	}
	return func() { f.Close() }, nil
}

// writeAtomic replaces path with data: a temporary file in the same
// directory, synced, renamed over path, and the directory synced.
func writeAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("state: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	if err = fsutil.SyncDir(dir); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	return nil
}
