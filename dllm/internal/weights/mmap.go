package weights

import (
	"fmt"
	"os"

	"github.com/edsrzf/mmap-go"
)

// mapping is a read-only memory map of one whole file. It is deliberately thin: the
// parsers only ever see the []byte, so they can be tested (and fuzzed) on in-memory data.
type mapping struct {
	path string
	data []byte
	m    mmap.MMap // nil for an empty file, which cannot be mapped
}

// mapFile maps path read-only. The file descriptor is closed right away; the mapping
// keeps the pages reachable until unmap. Nothing is read: pages fault in on first touch.
func mapFile(path string) (*mapping, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	if st.Size() == 0 {
		return &mapping{path: path, data: []byte{}}, nil
	}
	if int64(int(st.Size())) != st.Size() {
		return nil, fmt.Errorf("%s: %d bytes do not fit in the address space", path, st.Size())
	}
	m, err := mmap.Map(f, mmap.RDONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: mmap: %w", path, err)
	}
	return &mapping{path: path, data: m, m: m}, nil
}

// unmap releases the mapping; every slice of data becomes invalid (touching it faults).
func (m *mapping) unmap() error {
	if m == nil || m.m == nil {
		return nil
	}
	err := m.m.Unmap()
	m.m, m.data = nil, nil
	if err != nil {
		return fmt.Errorf("%s: munmap: %w", m.path, err)
	}
	return nil
}
