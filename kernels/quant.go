package kernels

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/x448/float16"
)

// QuantizeQ8_0 encodes x (a multiple of 32 long) as Q8_0 blocks into dst, which must be
// len(x)/32*34 bytes, with ggml's quantize_row_q8_0 semantics: per block d = max|x|/127,
// q = round(x·(1/d)) (halves away from zero), d stored as f16.
func QuantizeQ8_0(dst []byte, x []float32) {
	if len(x)%32 != 0 || len(dst) != len(x)/32*34 {
		panic(fmt.Sprintf("kernels: QuantizeQ8_0: %d floats into %d bytes", len(x), len(dst)))
	}
	var q [32]int8
	for b := 0; b < len(x)/32; b++ {
		d := quantBlockQ8(q[:], x[32*b:32*b+32])
		blk := dst[34*b : 34*b+34]
		binary.LittleEndian.PutUint16(blk, d)
		for j, v := range q {
			blk[2+j] = byte(v)
		}
	}
}

// quantBlockQ8 quantizes one block of 32 and returns the f16 bits of its scale.
func quantBlockQ8(q []int8, x []float32) uint16 {
	var amax float32
	for _, v := range x {
		amax = max(amax, float32(math.Abs(float64(v))))
	}
	d := amax / 127
	id := 1 / d
	if id > math.MaxFloat32 {
		// d is 0, or so small (< 2⁻¹²⁸) that its f16 is 0 too: the block is zeros.
		id = 0
	}
	for j, v := range x {
		q[j] = int8(math.Round(float64(v * id)))
	}
	return float16.Fromfloat32(d).Bits()
}

// nonFiniteD is the scale of an activation block holding a NaN or an infinity: a quiet
// NaN, with zero quants (and sums), so every product with the block is NaN and the
// value reaches the matrix multiply's output instead of vanishing into int8 quants (or
// sending the assembly's search for the largest magnitude past the block).
const nonFiniteD = 0x7fc00000

// putNonFinite writes blk as the block of a non-finite input.
func putNonFinite(blk []byte) {
	clear(blk)
	binary.LittleEndian.PutUint32(blk, nonFiniteD)
}

// allFinite reports whether x holds no NaN and no infinity.
func allFinite(x []float32) bool {
	for _, v := range x {
		if math.Float32bits(v)&0x7fffffff >= 0x7f800000 {
			return false
		}
	}
	return true
}

// quantQ8Generic sets dst (len(x)/32 blocks of q8BlockBytes) to the Q8_0 quantization
// of x: per block of 32 the scale as quantBlockQ8 computes it, rounded to f16 and stored
// widened to float32, then the 32 quants; a block holding a NaN or an infinity gets
// putNonFinite's.
func quantQ8Generic(dst []byte, x []float32) {
	var q [32]int8
	for b := 0; b < len(x)/32; b++ {
		blk := dst[b*q8BlockBytes : (b+1)*q8BlockBytes]
		if !allFinite(x[32*b : 32*b+32]) {
			putNonFinite(blk)
			continue
		}
		h := quantBlockQ8(q[:], x[32*b:32*b+32])
		binary.LittleEndian.PutUint32(blk, math.Float32bits(float16.Frombits(h).Float32()))
		for j, v := range q {
			blk[4+j] = byte(v)
		}
	}
}

// quantQ8KGeneric sets dst (len(x)/256 blocks of q8KBlockBytes) to the Q8_K quantization
// of x (ggml's quantize_row_q8_K): the first element of largest magnitude, mx, maps to
// −127; iscale = −127/mx, d = 1/iscale, q = round-half-even(iscale·x) clamped to 127;
// then the int16 sums of each 16 quants. A block where iscale overflows (all zero, or
// |mx| < 127·2⁻¹²⁸) is all zero bytes; one holding a NaN or an infinity gets
// putNonFinite's.
func quantQ8KGeneric(dst []byte, x []float32) {
	for b := 0; b < len(x)/256; b++ {
		x := x[256*b : 256*b+256]
		blk := dst[b*q8KBlockBytes : (b+1)*q8KBlockBytes]
		if !allFinite(x) {
			putNonFinite(blk)
			continue
		}
		q := blk[4:260]
		var amax, mx float32
		for _, v := range x {
			if a := float32(math.Abs(float64(v))); a > amax {
				amax, mx = a, v
			}
		}
		iscale := -127 / mx
		if math.IsInf(float64(iscale), 0) {
			// All zero, or too small (|mx| < 127·2⁻¹²⁸) for a float32 scale.
			clear(blk)
			continue
		}
		for j, v := range x {
			q[j] = byte(int8(min(127, int32(math.RoundToEven(float64(iscale*v))))))
		}
		for g := 0; g < 16; g++ {
			var s int16
			for _, v := range q[16*g : 16*g+16] {
				s += int16(int8(v))
			}
			binary.LittleEndian.PutUint16(blk[260+2*g:], uint16(s))
		}
		binary.LittleEndian.PutUint32(blk, math.Float32bits(1/iscale))
	}
}

// Accessors for one activation block.
func blockD(blk []byte) float32      { return math.Float32frombits(binary.LittleEndian.Uint32(blk)) }
func blockQ(blk []byte, j int) int32 { return int32(int8(blk[4+j])) }
func blockBsum(blk []byte, g int) int32 {
	return int32(int16(binary.LittleEndian.Uint16(blk[260+2*g:])))
}
