//go:build unix

package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestLogitsOutKeepsTarget: when writing --out fails, the target is left as it was. The
// target is a FIFO whose reader goes away (the write fails with EPIPE): it must still
// be there, a FIFO, afterwards; an existing file is replaced only by a complete write.
func TestLogitsOutKeepsTarget(t *testing.T) {
	dir := t.TempDir()
	ids := strings.TrimSuffix(strings.Repeat("5,", 64), ",") // 64 × vocab floats: more than a pipe holds
	args := func(out string) []string {
		return []string{"-m", filepath.Join(microDir, "hf"), "--tokens", ids, "--mask", "causal", "--out", out}
	}
	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	go func() {
		if f, err := os.Open(fifo); err == nil {
			f.Close() // the reader leaves before reading: the writer gets EPIPE
		}
	}()
	// Opening the FIFO read-write as well (os.Create) would make the write block forever.
	done := make(chan error, 1)
	go func() { done <- runLogits(args(fifo), outTo(io.Discard)) }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("writing into a closed pipe succeeded")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("writing into a pipe without reader hangs")
	}
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Fatalf("the FIFO is gone or replaced after the failed write: %v", err)
	}
	// A successful write into the FIFO reaches its reader, and the FIFO stays.
	got := make(chan int64)
	go func() {
		f, err := os.Open(fifo)
		if err != nil {
			got <- -1
			return
		}
		n, _ := io.Copy(io.Discard, f)
		f.Close()
		got <- n
	}()
	if err := runLogits(args(fifo), outTo(io.Discard)); err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-got:
		if n != 64*1024*4 {
			t.Fatalf("reader got %d bytes", n)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the reader never saw the output")
	}
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Fatalf("the FIFO is gone or replaced after a write: %v", err)
	}
	// An existing file is replaced by the complete output.
	file := filepath.Join(dir, "file")
	os.WriteFile(file, []byte("old"), 0o600)
	if err := runLogits(args(file), outTo(io.Discard)); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(file); err != nil || fi.Size() != 64*1024*4 {
		t.Fatalf("file after write: %v %v", fi, err)
	}
}
