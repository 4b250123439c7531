package weights

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"time"

	"github.com/dllm-go/dllm/dllm/internal/regfile"
	"github.com/edsrzf/mmap-go"
)

// ErrChanged marks a model file that was truncated or rewritten after it was mapped: the
// mapping then shows the new bytes (or faults past the new end), so the weights can no
// longer be trusted.
var ErrChanged = errors.New("model file changed on disk after loading")

// mapping is a read-only memory map of one whole file. It is deliberately thin: the
// parsers only ever see the []byte, so they can be tested (and fuzzed) on in-memory data.
type mapping struct {
	path string
	data []byte
	m    mmap.MMap // nil for an empty file, which cannot be mapped
	// f stays open so that verify can fstat the very inode that is mapped: a file
	// replaced by rename leaves the mapping intact and is no change.
	f     *os.File
	stamp stamp
}

// stamp is what a write to a file changes: its size, modification time and (where the
// platform has one) status-change time, which a caller cannot set back.
type stamp struct {
	size  int64
	mtime time.Time
	ctime int64 // nanoseconds; 0 where unavailable
}

func (a stamp) same(b stamp) bool {
	return a.size == b.size && a.mtime.Equal(b.mtime) && a.ctime == b.ctime
}

func stampOf(st os.FileInfo) stamp {
	return stamp{size: st.Size(), mtime: st.ModTime(), ctime: changeTime(st)}
}

// mapFile maps path read-only. Only regular files are opened (a FIFO would block the
// open forever). Nothing is read: pages fault in on first touch.
func mapFile(path string) (*mapping, error) {
	f, st, err := regfile.Open(path)
	if err != nil {
		return nil, err
	}
	mp := &mapping{path: path, f: f, stamp: stampOf(st)}
	if st.Size() == 0 {
		mp.data = []byte{}
		return mp, nil
	}
	if int64(int(st.Size())) != st.Size() {
		f.Close()
		return nil, fmt.Errorf("%s: %d bytes do not fit in the address space", path, st.Size())
	}
	m, err := mmap.Map(f, mmap.RDONLY, 0)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: mmap: %w", path, err)
	}
	mp.data, mp.m = m, m
	return mp, nil
}

// verify reports ErrChanged when the mapped file's size or times differ from those at
// mapping time. It costs one fstat.
func (m *mapping) verify() error {
	if m.f == nil {
		return nil
	}
	st, err := m.f.Stat()
	if err != nil {
		return fmt.Errorf("%s: %w: %v", m.path, ErrChanged, err)
	}
	now := stampOf(st)
	switch {
	case now.size != m.stamp.size:
		return fmt.Errorf("%s: %w: %d bytes, %d when loaded; reload the model", m.path, ErrChanged, now.size, m.stamp.size)
	case !now.same(m.stamp):
		return fmt.Errorf("%s: %w: rewritten at %s; reload the model", m.path, ErrChanged, now.mtime.Format(time.RFC3339))
	}
	return nil
}

// unmap releases the mapping; every slice of data becomes invalid (touching it faults).
func (m *mapping) unmap() error {
	if m == nil {
		return nil
	}
	var err error
	if m.m != nil {
		err = m.m.Unmap()
	}
	if m.f != nil {
		m.f.Close()
	}
	m.m, m.data, m.f = nil, nil, nil
	if err != nil {
		return fmt.Errorf("%s: munmap: %w", m.path, err)
	}
	return nil
}

// CatchFaults runs f with memory faults turned into errors: a file truncated under its
// mapping makes a read past the new end raise SIGBUS, which would otherwise kill the
// process. Only faults on the calling goroutine are caught, so f must not hand mapped
// memory to other goroutines. file names what is read in the error.
func CatchFaults(file string, f func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		if fault, ok := r.(interface{ Addr() uintptr }); ok {
			err = fmt.Errorf("%s: %w: memory fault at %#x reading it (truncated?)", file, ErrChanged, fault.Addr())
			return
		}
		panic(r)
	}()
	return f()
}
