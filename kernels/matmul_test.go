package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/x448/float16"
)

// randWeights returns rows×cols random weights of format f (valid blocks with modest
// scales), as raw bytes.
func randWeights(r *rand.Rand, f Format, rows, cols int) []byte {
	rb, err := f.RowBytes(cols)
	if err != nil {
		panic(err)
	}
	b := make([]byte, rows*rb)
	switch f {
	case F32:
		for i := 0; i < len(b); i += 4 {
			binary.LittleEndian.PutUint32(b[i:], math.Float32bits(float32(r.NormFloat64())))
		}
		return b
	case F16:
		for i := 0; i < len(b); i += 2 {
			binary.LittleEndian.PutUint16(b[i:], float16.Fromfloat32(float32(r.NormFloat64())).Bits())
		}
		return b
	case BF16:
		for i := 0; i < len(b); i += 2 {
			binary.LittleEndian.PutUint16(b[i:], bf16Bits(float32(r.NormFloat64())))
		}
		return b
	}
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	// Overwrite the f16 scales with small positive values so sums stay finite.
	scale := func(off int) {
		binary.LittleEndian.PutUint16(b[off:], float16.Fromfloat32(float32(0.001+0.01*r.Float64())).Bits())
	}
	nb := len(b) / f.BlockBytes()
	for k := 0; k < nb; k++ {
		o := k * f.BlockBytes()
		switch f {
		case Q8_0, Q4_0:
			scale(o)
		case Q4_K:
			scale(o)
			scale(o + 2)
		case Q6_K:
			scale(o + 208)
		}
	}
	return b
}

func randFloats(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return x
}

// refMatMul is the float64 reference over dequantized weights and (for quantized formats)
// the dequantized 8-bit activations; it also returns Σ|x·w| per output for tolerances.
func refMatMul(x []float32, w Matrix) (y, mag []float64) {
	K, N := w.Cols, w.Rows
	M := len(x) / K
	xq := x
	switch w.Format {
	case Q8_0, Q4_0, Q4_K, Q6_K:
		xs := &xPrep{m: M, k: K, f: x}
		bs, bb := 32, q8BlockBytes
		if w.Format == Q4_K || w.Format == Q6_K {
			xs.quantizeQ8K()
			bs, bb = 256, q8KBlockBytes
		} else {
			xs.quantizeQ8()
		}
		xq = make([]float32, len(x))
		for i := range xq {
			blk := xs.q[i/bs*bb:]
			xq[i] = float32(blockQ(blk, i%bs)) * blockD(blk)
		}
	}
	wf := make([]float32, K)
	y, mag = make([]float64, M*N), make([]float64, M*N)
	for n := 0; n < N; n++ {
		if err := Dequantize(w.Format, wf, w.Row(n)); err != nil {
			panic(err)
		}
		for m := 0; m < M; m++ {
			var s, a float64
			for k := 0; k < K; k++ {
				p := float64(xq[m*K+k]) * float64(wf[k])
				s += p
				a += math.Abs(p)
			}
			y[m*N+n], mag[m*N+n] = s, a
		}
	}
	return y, mag
}

var allFormats = []Format{F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K}

func TestMatMulReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	pool := NewPool(3)
	defer pool.Close()
	for _, f := range allFormats {
		for _, shape := range [][3]int{{1, 1, 256}, {3, 7, 512}, {5, 13, 256}, {1, 40, 1024}} {
			M, N, K := shape[0], shape[1], shape[2]
			t.Run(fmt.Sprintf("%s/%dx%dx%d", f, M, N, K), func(t *testing.T) {
				w, err := NewMatrix(f, N, K, randWeights(r, f, N, K))
				if err != nil {
					t.Fatal(err)
				}
				x := randFloats(r, M*K)
				want, mag := refMatMul(x, w)
				y := make([]float32, M*N)
				pool.MatMul(y, x, w)
				for i := range y {
					if d := math.Abs(float64(y[i]) - want[i]); d > 4e-7*float64(K)*mag[i]+1e-30 {
						t.Errorf("y[%d] = %g, want %g (Σ|x·w| = %g)", i, y[i], want[i], mag[i])
					}
				}
				pool.MatMulAdd(y, x, w)
				for i := range y {
					if d := math.Abs(float64(y[i]) - 2*want[i]); d > 8e-7*float64(K)*mag[i]+1e-30 {
						t.Errorf("add: y[%d] = %g, want %g", i, y[i], 2*want[i])
					}
				}
			})
		}
	}
}
