package outfile

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

var errForced = errors.New("forced write error")

// writer writes data and then, if fail, fails.
func writer(data []byte, fail bool) func(io.Writer) error {
	return func(w io.Writer) error {
		if _, err := w.Write(data); err != nil {
			return err
		}
		if fail {
			return errForced
		}
		return nil
	}
}

// entries lists dir, so a test can see that no temporary file was left behind.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// TestRegularTargets: a new path, an existing file and a link to one; a failed write
// leaves each exactly as it was (content, mode, link), a successful one replaces the
// content only.
func TestRegularTargets(t *testing.T) {
	old, data := []byte("precious"), bytes.Repeat([]byte("new data "), 100000)
	for _, kind := range []string{"new", "file", "symlink"} {
		for _, fail := range []bool{true, false} {
			dir := t.TempDir()
			path, real := filepath.Join(dir, "out"), filepath.Join(dir, "out")
			switch kind {
			case "file":
				os.WriteFile(path, old, 0o600)
			case "symlink":
				real = filepath.Join(dir, "real")
				os.WriteFile(real, old, 0o600)
				if err := os.Symlink("real", path); err != nil {
					t.Fatal(err)
				}
			}
			before := entries(t, dir)
			err := Write(path, writer(data, fail))
			if fail != (err != nil) {
				t.Fatalf("%s, fail %v: %v", kind, fail, err)
			}
			if got := entries(t, dir); fail && len(got) != len(before) || !fail && kind == "new" && len(got) != 1 {
				t.Fatalf("%s, fail %v: directory holds %v, before %v", kind, fail, got, before)
			}
			got, rerr := os.ReadFile(real)
			switch {
			case fail && kind == "new":
				if !errors.Is(rerr, os.ErrNotExist) {
					t.Fatalf("failed write of a new path left a file: %v", rerr)
				}
				continue
			case fail && !bytes.Equal(got, old):
				t.Fatalf("%s: failed write changed the target to %d bytes", kind, len(got))
			case !fail && !bytes.Equal(got, data):
				t.Fatalf("%s: target holds %d bytes, want %d", kind, len(got), len(data))
			}
			if fi, _ := os.Stat(real); kind != "new" && fi.Mode().Perm() != 0o600 {
				t.Fatalf("%s: mode %v, want the original 0600", kind, fi.Mode().Perm())
			}
			if fi, _ := os.Lstat(path); kind == "symlink" && fi.Mode()&os.ModeSymlink == 0 {
				t.Fatalf("the symbolic link was replaced by a file")
			}
		}
	}
}

// TestRefusedTargets: a directory and a dangling link are refused and left alone.
func TestRefusedTargets(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	os.WriteFile(filepath.Join(sub, "keep"), []byte("x"), 0o644)
	dangling := filepath.Join(dir, "dangling")
	os.Symlink("nowhere", dangling)
	for _, p := range []string{sub, dangling} {
		if err := Write(p, writer([]byte("data"), false)); err == nil {
			t.Errorf("%s: accepted", p)
		}
	}
	if fi, err := os.Stat(filepath.Join(sub, "keep")); err != nil || fi.Size() != 1 {
		t.Errorf("directory content changed: %v", err)
	}
	if fi, err := os.Lstat(dangling); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("dangling link changed: %v", err)
	}
	if got := entries(t, dir); len(got) != 2 {
		t.Errorf("directory holds %v", got)
	}
}

func TestCommitTwice(t *testing.T) {
	o, err := Create(filepath.Join(t.TempDir(), "x"))
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := o.Commit(); err == nil {
		t.Fatal("second Commit succeeded")
	}
	o.Abort() // no-op after Commit
}
