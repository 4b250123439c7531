//go:build unix

package regfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// within fails the test instead of hanging when f blocks (as opening a FIFO would).
func within(t *testing.T, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("blocked for 10 s")
	}
}

func TestOnlyRegularFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "config.json")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	reg := filepath.Join(dir, "ok.json")
	os.WriteFile(reg, []byte("{}"), 0o644)
	link := filepath.Join(dir, "link.json")
	os.Symlink(reg, link)
	fifoLink := filepath.Join(dir, "fifo-link.json")
	os.Symlink(fifo, fifoLink)
	for _, c := range []struct {
		path, want string
	}{{fifo, "a FIFO"}, {fifoLink, "a FIFO"}, {dir, "a directory"}, {"/dev/null", "a device"}} {
		within(t, func() {
			_, err := ReadFile(c.path, 1<<20)
			if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), c.path) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s: %v, want %s naming the path", c.path, err, c.want)
			}
		})
	}
	for _, p := range []string{reg, link} {
		if b, err := ReadFile(p, 2); err != nil || string(b) != "{}" {
			t.Errorf("%s: %q, %v", p, b, err)
		}
	}
	if _, err := ReadFile(reg, 1); err == nil || !strings.Contains(err.Error(), reg) {
		t.Errorf("over the limit: %v", err)
	}
}
