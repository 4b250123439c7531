package dllm

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// copyDir copies the regular files of src into a new temporary directory.
func copyDir(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// A weights file truncated or rewritten in place after loading is an error at the next
// generation, naming the file, instead of a SIGBUS or silently different output.
func TestModelChangedOnDisk(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(path string) error
		want   string
	}{
		{"truncated", func(p string) error { return os.Truncate(p, 4096) }, "4096 bytes"},
		{"rewritten", func(p string) error {
			// Timestamps tick coarsely; a rewrite in the same tick as the copy that
			// created the file would look unchanged.
			time.Sleep(20 * time.Millisecond)
			f, err := os.OpenFile(p, os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = f.WriteAt(make([]byte, 4096), 1<<16)
			return err
		}, "rewritten"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := copyDir(t, filepath.Join(microDir, "hf"))
			m := loadModel(t, dir)
			s := newSession(t, m)
			opts := DefaultOptions()
			opts.MaxTokens, opts.BlockLength, opts.Steps = 8, 8, 8
			if _, err := s.Generate(context.Background(), "hello", opts); err != nil {
				t.Fatal(err)
			}
			weights := filepath.Join(dir, "model.safetensors")
			if err := c.change(weights); err != nil {
				t.Fatal(err)
			}
			_, err := s.Generate(context.Background(), "hello", opts)
			if !errors.Is(err, ErrModelChanged) || !strings.Contains(err.Error(), weights) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("generate after the change: %v, want ErrModelChanged naming %s (%s)", err, weights, c.want)
			}
			if _, err := m.Logits([]int32{1, 2}, "causal"); !errors.Is(err, ErrModelChanged) {
				t.Fatalf("logits after the change: %v", err)
			}
			if _, err := m.NewSession(); !errors.Is(err, ErrModelChanged) {
				t.Fatalf("new session after the change: %v", err)
			}
		})
	}
}
