//go:build unix

package outfile

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestFIFOTarget: a named pipe is written in place, never replaced nor removed, whether
// the write succeeds or fails (the stand-in for a device node, which tests cannot
// create safely).
func TestFIFOTarget(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 20000)
	for _, fail := range []bool{false, true} {
		path := filepath.Join(t.TempDir(), "pipe")
		if err := unix.Mkfifo(path, 0o600); err != nil {
			t.Skip("no FIFOs here:", err)
		}
		got := make(chan []byte)
		go func() {
			f, err := os.Open(path)
			if err != nil {
				got <- nil
				return
			}
			b, _ := io.ReadAll(f)
			f.Close()
			got <- b
		}()
		err := Write(path, writer(data, fail))
		if fail != (err != nil) {
			t.Fatalf("fail %v: %v", fail, err)
		}
		select {
		case b := <-got:
			if !bytes.Equal(b, data) {
				t.Fatalf("reader got %d bytes, want %d", len(b), len(data))
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the reader never saw the data: the FIFO was replaced")
		}
		if fi, err := os.Lstat(path); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
			t.Fatalf("fail %v: the FIFO is gone or replaced: %v %v", fail, fi, err)
		}
	}
}
