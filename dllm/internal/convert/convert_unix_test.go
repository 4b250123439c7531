//go:build unix

package convert

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestFailedConversionKeepsTarget: a conversion that fails midway leaves an existing
// output as it was: a previous model file untouched, and a FIFO (written in place)
// neither replaced nor removed (nor by a complete conversion); no temporary file stays behind.
func TestFailedConversionKeepsTarget(t *testing.T) {
	dir := t.TempDir()
	convertCancelled := func(dst string) error {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		calls := 0
		_, err := Convert(ctx, filepath.Join(microDir, "hf"), dst, Options{Type: "q8_0", Progress: func(done, total int64) {
			if calls++; calls == 5 {
				cancel()
			}
		}})
		return err
	}
	old := filepath.Join(dir, "old.gguf")
	os.WriteFile(old, []byte("the previous model"), 0o600)
	if err := convertCancelled(old); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if b, err := os.ReadFile(old); err != nil || string(b) != "the previous model" {
		t.Fatalf("existing output after a failed conversion: %q, %v", b, err)
	}
	fifo := filepath.Join(dir, "fifo.gguf")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	firstReader := make(chan struct{})
	go func() {
		defer close(firstReader)
		if f, err := os.Open(fifo); err == nil {
			io.Copy(io.Discard, f)
			f.Close()
		}
	}()
	if err := convertCancelled(fifo); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	// The conversion may have been cancelled before it opened the FIFO, leaving that
	// reader waiting in open: a writer that opens and closes at once releases it. The
	// reader must be gone before the next one comes, or it could take the next output.
	if w, err := os.OpenFile(fifo, os.O_WRONLY|unix.O_NONBLOCK, 0); err == nil {
		w.Close()
	}
	<-firstReader
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Fatalf("the FIFO is gone or replaced after a failed conversion: %v", err)
	}
	// A complete conversion is written into the FIFO, not renamed over it.
	got := make(chan int64, 1)
	go func() {
		if f, err := os.Open(fifo); err == nil {
			n, _ := io.Copy(io.Discard, f)
			f.Close()
			got <- n
		}
	}()
	if _, err := Convert(context.Background(), filepath.Join(microDir, "hf"), fifo, Options{Type: "q8_0"}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Fatalf("the FIFO is gone or replaced after a conversion: %v", err)
	}
	if n := <-got; n == 0 {
		t.Fatal("the FIFO's reader got nothing")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Fatalf("directory holds %v, want the two targets only", entries)
	}
}
