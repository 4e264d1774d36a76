package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCreateNewRace: an output that appears while createNew's file is
// being written is not replaced; Commit fails naming it and leaves no
// temporary file.
func TestCreateNewRace(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "kit.tar.zst")
	f, err := createNew(out, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("new"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, []byte("theirs"), 0o644); err != nil {
		t.Fatal(err)
	}
	err = f.Commit()
	if err == nil || !strings.Contains(err.Error(), "kit.tar.zst already exists (use --force to replace it)") {
		t.Fatalf("Commit = %v, want 'already exists'", err)
	}
	if b, _ := os.ReadFile(out); string(b) != "theirs" {
		t.Errorf("%s = %q, want it untouched", out, b)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("left %v, want only kit.tar.zst", ents)
	}

	// Without a rival, Commit puts the file in place and no temporary name.
	out2 := filepath.Join(dir, "other.tar.zst")
	f, err = createNew(out2, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("mine")
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	f.Abort() // a no-op after Commit
	if b, _ := os.ReadFile(out2); string(b) != "mine" {
		t.Errorf("%s = %q", out2, b)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Errorf("left %v, want the two outputs only", ents)
	}
}
