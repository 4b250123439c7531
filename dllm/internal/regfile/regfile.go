// Package regfile opens the files a model is read from, refusing anything but regular
// files (symlinks to them included) before it can block or have side effects: opening a
// FIFO for reading waits for a writer forever, and a device can stream without end.
package regfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrNotRegular marks a path that exists but is not a regular file.
var ErrNotRegular = errors.New("not a regular file")

// Open opens path for reading if it is a regular file. The type is checked by name
// before opening (so that a FIFO is never opened) and again on the open descriptor (so
// that a path swapped in between cannot slip through); the open itself does not block.
func Open(path string) (*os.File, os.FileInfo, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, nil, err
	}
	if err := check(path, st); err != nil {
		return nil, nil, err
	}
	f, err := openNonblock(path)
	if err != nil {
		return nil, nil, err
	}
	st, err = f.Stat()
	if err == nil {
		err = check(path, st)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, st, nil
}

func check(path string, st os.FileInfo) error {
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s: %w (%s)", path, ErrNotRegular, kind(st.Mode()))
	}
	return nil
}

func kind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeDevice != 0:
		return "a device"
	}
	return "mode " + m.String()
}

// MaxTextBytes bounds a tokenizer or configuration file read whole into memory; real
// ones are tens of megabytes at most.
const MaxTextBytes = 512 << 20

// ReadFile reads a regular file of at most limit bytes. Errors name the path.
func ReadFile(path string, limit int64) ([]byte, error) {
	f, st, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st.Size() > limit {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d allowed", path, st.Size(), limit)
	}
	// Read one byte past the limit: a file that grew since the stat is refused too.
	buf := bytes.NewBuffer(make([]byte, 0, st.Size()+1))
	if _, err := buf.ReadFrom(io.LimitReader(f, limit+1)); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	b := buf.Bytes()
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: more than the %d bytes allowed", path, limit)
	}
	return b, nil
}
