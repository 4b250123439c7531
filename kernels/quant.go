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
	var id float32
	if d != 0 {
		id = 1 / d
	}
	for j, v := range x {
		q[j] = int8(math.Round(float64(v * id)))
	}
	return float16.Fromfloat32(d).Bits()
}

// xPrep is the left operand of a matrix multiply, x[m×k] in float32, plus its 8-bit
// quantization when the weights are quantized.
//
// For Q8_0/Q4_0 weights x is quantized to Q8_0 blocks: q holds m×k int8, d holds one
// scale per 32 (the f16-rounded value, widened). For Q4_K/Q6_K it is quantized to Q8_K
// blocks: d holds one float32 scale per 256 and bsums the sum of each 16 quants.
type xPrep struct {
	m, k  int
	f     []float32
	q     []int8
	d     []float32
	bsums []int16
}

func (xs *xPrep) grow(nq, nd, nsum int) {
	if cap(xs.q) < nq {
		xs.q = make([]int8, nq)
	}
	if cap(xs.d) < nd {
		xs.d = make([]float32, nd)
	}
	if cap(xs.bsums) < nsum {
		xs.bsums = make([]int16, nsum)
	}
	xs.q, xs.d, xs.bsums = xs.q[:nq], xs.d[:nd], xs.bsums[:nsum]
}

// quantizeQ8 fills xs.q and xs.d with the Q8_0 quantization of xs.f.
func (xs *xPrep) quantizeQ8() {
	n := xs.m * xs.k
	xs.grow(n, n/32, 0)
	for b := 0; b < n/32; b++ {
		h := quantBlockQ8(xs.q[32*b:32*b+32], xs.f[32*b:32*b+32])
		xs.d[b] = float16.Frombits(h).Float32()
	}
}

// quantizeQ8K fills xs.q, xs.d and xs.bsums with the Q8_K quantization of xs.f
// (ggml's quantize_row_q8_K: the element of largest magnitude maps to −127, scale
// d = 1/iscale with iscale = −127/max, q = round-half-even(iscale·x) clamped to 127).
func (xs *xPrep) quantizeQ8K() {
	n := xs.m * xs.k
	xs.grow(n, n/256, n/16)
	for b := 0; b < n/256; b++ {
		x, q := xs.f[256*b:256*b+256], xs.q[256*b:256*b+256]
		var amax, mx float32
		for _, v := range x {
			if a := float32(math.Abs(float64(v))); a > amax {
				amax, mx = a, v
			}
		}
		if amax == 0 {
			clear(q)
			clear(xs.bsums[16*b : 16*b+16])
			xs.d[b] = 0
			continue
		}
		iscale := -127 / mx
		for j, v := range x {
			q[j] = int8(min(127, int32(math.RoundToEven(float64(iscale*v)))))
		}
		for g := 0; g < 16; g++ {
			var s int16
			for _, v := range q[16*g : 16*g+16] {
				s += int16(v)
			}
			xs.bsums[16*b+g] = s
		}
		xs.d[b] = 1 / iscale
	}
}
