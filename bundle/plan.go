package bundle

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/offkit/offkit/manifest"
)

// source is one payload file to be read from disk.
type source struct {
	kitPath string // relative to the kit root
	file    string // absolute path on disk (symlinks resolved)
	size    int64
	mode    string
	comp    int    // index in spec.Components; -1 for an image layout file
	layout  string // for an image layout file: its path in the layout, streamed from the plan
}

// plan resolves the spec's components to the files they carry, refusing
// sources that could make the kit ambiguous or unsafe.
func plan(spec *manifest.Spec, specDir string) ([]source, map[int][]byte, error) {
	base, err := filepath.Abs(specDir)
	if err == nil {
		base, err = filepath.EvalSymlinks(base)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%w: spec directory: %v", ErrSource, err)
	}
	var out []source
	sboms := map[int][]byte{}
	for i, c := range spec.Components {
		if c.SBOM != "" {
			b, err := readSBOM(base, c.SBOM)
			if err != nil {
				return nil, nil, fmt.Errorf("component %q: sbom %s: %w", c.Name, c.SBOM, err)
			}
			sboms[i] = b
		}
		if c.Pending || c.IsImage() {
			continue
		}
		files, err := walkComponent(base, c, i)
		if err != nil {
			return nil, nil, fmt.Errorf("component %q: %w", c.Name, err)
		}
		if len(files) == 0 {
			return nil, nil, fmt.Errorf("%w: component %q: from %s has no files (mark it pending: true if it is a placeholder)", ErrSource, c.Name, c.From)
		}
		out = append(out, files...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].kitPath < out[j].kitPath })
	// Refuse paths that collide on case-insensitive or normalising file
	// systems, files against files and against directories.
	// A PathSet does it in time linear in the paths' bytes, at any depth.
	ps := manifest.NewPathSet(len(out))
	root := spec.Name + "-" + spec.Version
	for _, s := range out {
		if err := ps.Add(s.kitPath, false); err != nil {
			var ce *manifest.CollisionError
			if errors.As(err, &ce) {
				return nil, nil, fmt.Errorf("%w: %q and %q collide on case-insensitive file systems", manifest.ErrUnsafePath, ce.Path, ce.Other)
			}
			return nil, nil, err
		}
		if n := len(root) + 1 + len(s.kitPath); n > manifest.MaxPathLen {
			return nil, nil, fmt.Errorf("%w: %q: its tar name under %s/ is %d bytes, longer than %d", manifest.ErrUnsafePath, s.kitPath, root, n, manifest.MaxPathLen)
		}
	}
	return out, sboms, nil
}

// within reports whether p is dir or below it (both cleaned, absolute).
func within(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, dir+string(filepath.Separator))
}

func resolve(base, rel string) (string, error) {
	p, err := filepath.EvalSymlinks(filepath.Join(base, filepath.FromSlash(rel)))
	if err != nil {
		return "", fmt.Errorf("source %s: %w", rel, err)
	}
	if !within(p, base) {
		return "", fmt.Errorf("%w: %s resolves to %s, outside the spec's directory %s", ErrSource, rel, p, base)
	}
	return p, nil
}

func readSBOM(base, rel string) ([]byte, error) {
	p, err := resolve(base, rel)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, manifest.MaxSBOMSize+1))
	if err != nil {
		return nil, err
	}
	if err := manifest.CheckSBOM(b); err != nil {
		return nil, err
	}
	return b, nil
}

func modeOf(fi fs.FileInfo) string {
	if fi.Mode().Perm()&0o111 != 0 {
		return manifest.ModeExec
	}
	return manifest.ModeFile
}

func walkComponent(base string, c manifest.ComponentSpec, idx int) ([]source, error) {
	root, err := resolve(base, c.From)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(root)
	if err != nil {
		return nil, err
	}
	if fi.Mode().IsRegular() {
		return []source{{kitPath: c.Path, file: root, size: fi.Size(), mode: modeOf(fi), comp: idx}}, nil
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%w: %s is not a regular file or directory", ErrSource, c.From)
	}
	var out []source
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		if d.IsDir() {
			if matchAny(c.Exclude, rel) {
				return filepath.SkipDir
			}
			return nil
		}
		// Filters first: an excluded special file or symlink is no error.
		if (len(c.Include) > 0 && !matchAny(c.Include, rel)) || matchAny(c.Exclude, rel) {
			return nil
		}
		file := p
		if d.Type()&fs.ModeSymlink != 0 {
			t, err := filepath.EvalSymlinks(p)
			if err != nil {
				return fmt.Errorf("%w: symlink %s: %v", ErrSource, p, err)
			}
			if !within(t, root) {
				return fmt.Errorf("%w: symlink %s points to %s, outside its source %s", ErrSource, p, t, root)
			}
			file = t
		}
		fi, err := os.Stat(file)
		if err != nil {
			return err
		}
		if fi.IsDir() {
			return fmt.Errorf("%w: %s is a symlink to a directory, which kits do not carry", ErrSource, p)
		}
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("%w: %s is a special file (%s)", ErrSource, p, fi.Mode().Type())
		}
		kp := c.Path + "/" + rel
		if err := manifest.CheckPath(kp); err != nil {
			return fmt.Errorf("source %s: %w", p, err)
		}
		out = append(out, source{kitPath: kp, file: file, size: fi.Size(), mode: modeOf(fi), comp: idx})
		return nil
	})
	return out, err
}

// matchAny reports whether rel matches one of the globs. A glob without a
// slash matches any single path element (so "*.tmp" and "obj" work at any
// depth); a glob with one matches the whole path or any leading part of it.
func matchAny(globs []string, rel string) bool {
	elems := strings.Split(rel, "/")
	for _, g := range globs {
		if !strings.Contains(g, "/") {
			for _, e := range elems {
				if ok, _ := path.Match(g, e); ok {
					return true
				}
			}
			continue
		}
		for i := range elems {
			if ok, _ := path.Match(g, strings.Join(elems[:i+1], "/")); ok {
				return true
			}
		}
	}
	return false
}
