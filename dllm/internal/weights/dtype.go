package weights

import (
	"fmt"

	"github.com/dllm-go/dllm/kernels"
)

// DType is the element type of a stored tensor: the union of the safetensors dtypes and the
// ggml tensor types. It is our own enumeration rather than the ggml type id because
// safetensors has types ggml lacks (BOOL, unsigned integers); GGUFType converts.
type DType uint8

// Tensor element types. The zero value is deliberately invalid so that a forgotten
// assignment is caught by the first size check.
const (
	Invalid DType = iota
	F64
	F32
	F16
	BF16
	I64
	I32
	I16
	I8
	U64
	U32
	U16
	U8
	Bool
	Q4_0
	Q4_1
	Q5_0
	Q5_1
	Q8_0
	Q8_1
	Q2_K
	Q3_K
	Q4_K
	Q5_K
	Q6_K
	Q8_K
	numDTypes
)

// noGGML marks dtypes with no ggml type id.
const noGGML = -1

var dtypeInfo = [numDTypes]struct {
	name       string // lower-case GGUF-style name, used by String
	st         string // safetensors dtype string, "" if safetensors cannot store it
	ggml       int    // ggml_type id, noGGML if GGUF cannot store it
	blockElems int
	blockBytes int
}{
	Invalid: {"invalid", "", noGGML, 0, 0},
	F64:     {"f64", "F64", 28, 1, 8},
	F32:     {"f32", "F32", 0, 1, 4},
	F16:     {"f16", "F16", 1, 1, 2},
	BF16:    {"bf16", "BF16", 30, 1, 2},
	I64:     {"i64", "I64", 27, 1, 8},
	I32:     {"i32", "I32", 26, 1, 4},
	I16:     {"i16", "I16", 25, 1, 2},
	I8:      {"i8", "I8", 24, 1, 1},
	U64:     {"u64", "U64", noGGML, 1, 8},
	U32:     {"u32", "U32", noGGML, 1, 4},
	U16:     {"u16", "U16", noGGML, 1, 2},
	U8:      {"u8", "U8", noGGML, 1, 1},
	Bool:    {"bool", "BOOL", noGGML, 1, 1},
	// ggml block layouts (ggml-common.h): elements per block, bytes per block.
	Q4_0: {"q4_0", "", 2, 32, 2 + 16},
	Q4_1: {"q4_1", "", 3, 32, 2 + 2 + 16},
	Q5_0: {"q5_0", "", 6, 32, 2 + 4 + 16},
	Q5_1: {"q5_1", "", 7, 32, 2 + 2 + 4 + 16},
	Q8_0: {"q8_0", "", 8, 32, 2 + 32},
	Q8_1: {"q8_1", "", 9, 32, 2 + 2 + 32},
	Q2_K: {"q2_k", "", 10, 256, 16 + 64 + 2 + 2},
	Q3_K: {"q3_k", "", 11, 256, 32 + 64 + 12 + 2},
	Q4_K: {"q4_k", "", 12, 256, 2 + 2 + 12 + 128},
	Q5_K: {"q5_k", "", 13, 256, 2 + 2 + 12 + 32 + 128},
	Q6_K: {"q6_k", "", 14, 256, 128 + 64 + 16 + 2},
	Q8_K: {"q8_k", "", 15, 256, 4 + 256 + 16*2},
}

// Valid reports whether d is a known dtype.
func (d DType) Valid() bool { return d > Invalid && d < numDTypes }

// String returns the lower-case name ("bf16", "q8_0", …).
func (d DType) String() string {
	if !d.Valid() {
		return fmt.Sprintf("DType(%d)", uint8(d))
	}
	return dtypeInfo[d].name
}

// BlockElems is the number of elements one block encodes (1 for scalar types).
func (d DType) BlockElems() int {
	if !d.Valid() {
		return 0
	}
	return dtypeInfo[d].blockElems
}

// BlockBytes is the size in bytes of one block (the element size for scalar types).
func (d DType) BlockBytes() int {
	if !d.Valid() {
		return 0
	}
	return dtypeInfo[d].blockBytes
}

// Quantized reports whether d stores blocks of more than one element.
func (d DType) Quantized() bool { return d.BlockElems() > 1 }

// Format maps d to the kernel weight format with the same byte layout; ok is false for
// dtypes the kernels do not read (integers, F64, the rarer quantizations).
func (d DType) Format() (kernels.Format, bool) {
	switch d {
	case F32:
		return kernels.F32, true
	case F16:
		return kernels.F16, true
	case BF16:
		return kernels.BF16, true
	case Q8_0:
		return kernels.Q8_0, true
	case Q4_0:
		return kernels.Q4_0, true
	case Q4_K:
		return kernels.Q4_K, true
	case Q6_K:
		return kernels.Q6_K, true
	}
	return 0, false
}

// DTypeOfFormat is the inverse of Format.
func DTypeOfFormat(f kernels.Format) (DType, bool) {
	for d := F64; d < numDTypes; d++ {
		if g, ok := d.Format(); ok && g == f {
			return d, true
		}
	}
	return Invalid, false
}

// GGUFType returns the ggml type id of d; ok is false when GGUF cannot store d.
func (d DType) GGUFType() (id uint32, ok bool) {
	if !d.Valid() || dtypeInfo[d].ggml == noGGML {
		return 0, false
	}
	return uint32(dtypeInfo[d].ggml), true
}

// DTypeFromGGUF maps a ggml type id to a DType; ok is false for ids we do not recognise
// (including the IQ* codebook formats, which we never read).
func DTypeFromGGUF(id uint32) (DType, bool) {
	for d := F64; d < numDTypes; d++ {
		if dtypeInfo[d].ggml == int(id) {
			return d, true
		}
	}
	return Invalid, false
}

// DTypeFromSafetensors maps a safetensors dtype string ("BF16", "I64", …) to a DType.
func DTypeFromSafetensors(s string) (DType, bool) {
	for d := F64; d < numDTypes; d++ {
		if dtypeInfo[d].st != "" && dtypeInfo[d].st == s {
			return d, true
		}
	}
	return Invalid, false
}

// SafetensorsName returns the safetensors dtype string of d, or "" if it has none.
func (d DType) SafetensorsName() string {
	if !d.Valid() {
		return ""
	}
	return dtypeInfo[d].st
}

// ByteSize returns the number of bytes of a tensor of dtype d and the given row-major shape,
// checking that every dimension is non-negative, that the innermost dimension is a whole
// number of blocks, and that nothing overflows. limit bounds the result (pass the bytes
// available) so that absurd shapes fail before any arithmetic can wrap.
func (d DType) ByteSize(shape []int, limit int64) (int64, error) {
	if !d.Valid() {
		return 0, fmt.Errorf("invalid dtype %d", uint8(d))
	}
	// The product of the non-zero dimensions is bounded too: a zero dimension makes the
	// tensor empty, but code that multiplies the others (an expert count times the
	// rest) must not overflow.
	elems, empty := int64(1), false
	for _, n := range shape {
		if n < 0 {
			return 0, fmt.Errorf("negative dimension in shape %v", shape)
		}
		if n == 0 {
			empty = true
			continue
		}
		if int64(n) > (1<<62)/elems {
			return 0, fmt.Errorf("shape %v overflows", shape)
		}
		elems *= int64(n)
	}
	if empty {
		elems = 0
	}
	be := int64(d.BlockElems())
	if be > 1 {
		inner := int64(1)
		if len(shape) > 0 {
			inner = int64(shape[len(shape)-1])
		}
		if inner%be != 0 {
			return 0, fmt.Errorf("%s row of %d elements is not a multiple of the block size %d", d, inner, be)
		}
	}
	blocks := elems / be
	bb := int64(d.BlockBytes())
	if blocks > limit/bb+1 {
		return 0, fmt.Errorf("shape %v of %s needs more than the %d bytes available", shape, d, limit)
	}
	return blocks * bb, nil
}

// FileType is llama.cpp's general.file_type for a file whose matrices are stored as t
// (MOSTLY_F16 = 1, MOSTLY_Q4_0 = 2, MOSTLY_Q8_0 = 7, MOSTLY_Q4_K_M = 14, MOSTLY_Q6_K = 18,
// MOSTLY_BF16 = 32; anything else ALL_F32 = 0).
func FileType(t DType) uint32 {
	switch t {
	case F16:
		return 1
	case Q4_0:
		return 2
	case Q8_0:
		return 7
	case Q4_K:
		return 14
	case Q6_K:
		return 18
	case BF16:
		return 32
	}
	return 0
}
