package kernels

import (
	"fmt"
	"unsafe"
)

// Matrix is a weight matrix W[Rows×Cols] in Format, rows contiguous:
// len(Data) == Rows*RowBytes(Cols). Data is typically a view into a memory-mapped file.
type Matrix struct {
	Format     Format
	Rows, Cols int
	Data       []byte
	// repack, when set, makes a faster layout of Data once, by Repack or on the first
	// multiply (repack.go).
	repack *repacked
}

// NewMatrix returns the Rows×Cols matrix of format f stored in data, or an error when
// cols is not a whole number of blocks or len(data) is not rows*f.RowBytes(cols).
func NewMatrix(f Format, rows, cols int, data []byte) (Matrix, error) {
	rb, err := f.RowBytes(cols)
	if err != nil {
		return Matrix{}, err
	}
	if rows < 0 {
		return Matrix{}, fmt.Errorf("kernels: negative row count %d", rows)
	}
	if len(data) != rows*rb {
		return Matrix{}, fmt.Errorf("kernels: %d×%d %s matrix needs %d bytes, got %d", rows, cols, f, rows*rb, len(data))
	}
	return Matrix{Format: f, Rows: rows, Cols: cols, Data: data, repack: newRepacked(f, rows)}, nil
}

// F32Matrix returns a zero-copy F32 view of data as a rows×cols matrix.
// It panics if len(data) != rows*cols.
func F32Matrix(data []float32, rows, cols int) Matrix {
	if rows < 0 || cols < 0 || len(data) != rows*cols {
		panic(fmt.Sprintf("kernels: F32Matrix: %d floats for a %d×%d matrix", len(data), rows, cols))
	}
	var b []byte
	if len(data) > 0 {
		b = unsafe.Slice((*byte)(unsafe.Pointer(&data[0])), 4*len(data))
	}
	return Matrix{Format: F32, Rows: rows, Cols: cols, Data: b}
}

// RowBytes is the byte length of one row of m.
func (m Matrix) RowBytes() int {
	rb, err := m.Format.RowBytes(m.Cols)
	if err != nil {
		panic(err)
	}
	return rb
}

// Plain returns m multiplied from Data as it is, never repacked: for weights that
// should stay memory-mapped (a model larger than memory, pages shared between
// processes). Results differ from a repacked m's in the last bits at most.
func (m Matrix) Plain() Matrix {
	m.repack = nil
	return m
}

// Repacks reports whether multiplying m on this machine copies it, on the first
// multiply, into a layout of its own that the kernels read faster (Q4_K, Q6_K and
// Q8_0 on amd64 with AVX2: as much memory again as m's data, outside the Go heap).
func (m Matrix) Repacks() bool {
	_, ok := m.repackedKernels()
	return ok
}

// OnePassTail reports whether multiplying m takes the activation rows beyond the last
// multiple of 4 (2 or 3 of them) in one pass over its weights, as the repacked kernels
// do, rather than one pass per row: a caller that could pad those rows with zeros to a
// multiple of 4 gains nothing by it.
func (m Matrix) OnePassTail() bool {
	k, ok := m.repackedKernels()
	return ok && k.rows2to4
}

// RowRange returns the view of rows [r0, r1) of m, sharing its data (and multiplied
// from it: a view is never repacked).
func (m Matrix) RowRange(r0, r1 int) Matrix {
	if r0 < 0 || r1 < r0 || r1 > m.Rows {
		panic(fmt.Sprintf("kernels: RowRange [%d,%d) of a %d-row matrix", r0, r1, m.Rows))
	}
	rb := m.RowBytes()
	return Matrix{Format: m.Format, Rows: r1 - r0, Cols: m.Cols, Data: m.Data[r0*rb : r1*rb : r1*rb]}
}

// Row returns the bytes of row r.
func (m Matrix) Row(r int) []byte {
	rb := m.RowBytes()
	return m.Data[r*rb : (r+1)*rb : (r+1)*rb]
}

// validate panics with a descriptive message when m is internally inconsistent.
func (m Matrix) validate() int {
	rb, err := m.Format.RowBytes(m.Cols)
	if err != nil {
		panic(err)
	}
	if m.Rows < 0 || len(m.Data) != m.Rows*rb {
		panic(fmt.Sprintf("kernels: %d×%d %s matrix has %d bytes, want %d", m.Rows, m.Cols, m.Format, len(m.Data), m.Rows*rb))
	}
	return rb
}

// bytesAsF32 views b (length a multiple of 4) as float32s.
func bytesAsF32(b []byte) []float32 {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), len(b)/4)
}

// bytesAsU16 views b (even length) as uint16s (little-endian machines only).
func bytesAsU16(b []byte) []uint16 {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Slice((*uint16)(unsafe.Pointer(&b[0])), len(b)/2)
}
