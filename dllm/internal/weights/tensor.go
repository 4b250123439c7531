// Package weights reads model checkpoints — safetensors (single or sharded) and GGUF —
// from memory-mapped files, and writes GGUF. Tensors are typed views into the mapping:
// opening a checkpoint touches no tensor data.
package weights

import (
	"fmt"
	"strconv"
)

// Tensor is a view of one tensor inside a mapped file. Shape is row-major, outermost
// dimension first (the PyTorch order; GGUF dims are reversed on reading). Data aliases
// the mapping and is valid until the Checkpoint that produced it is closed.
type Tensor struct {
	Name  string
	DType DType
	Shape []int
	Data  []byte
	File  string // file the tensor lives in, for error messages
}

// Elems returns the number of elements (the product of the shape).
func (t *Tensor) Elems() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// maxQuoted bounds how much of a name from a file an error message quotes: a corrupt
// length can turn a key or tensor name into kilobytes of header bytes.
const maxQuoted = 96

// Quote quotes a name read from a file for an error message, clipped to maxQuoted bytes.
func Quote(s string) string {
	if len(s) > maxQuoted {
		return strconv.Quote(s[:maxQuoted]) + fmt.Sprintf("… (%d bytes)", len(s))
	}
	return strconv.Quote(s)
}
