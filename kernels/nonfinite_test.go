package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// nonFiniteValues are the values a corrupt weight or an overflow can put in a row of
// activations: quiet and signalling NaNs of both signs, and both infinities.
var nonFiniteValues = []float32{
	float32(math.NaN()), math.Float32frombits(0xffc00000), math.Float32frombits(0x7f800001),
	float32(math.Inf(1)), float32(math.Inf(-1)),
}

// TestQuantizeNonFinite puts each non-finite value at every position of the middle one
// of three blocks: that block quantizes to a NaN scale and zeros in every
// implementation, and its neighbours to what they give alone.
func TestQuantizeNonFinite(t *testing.T) {
	r := rand.New(rand.NewPCG(45, 46))
	for _, q := range []struct {
		name      string
		be, bb    int
		generic   func(dst []byte, x []float32)
		quantize  func(xs *xPrep)
		positions int
	}{
		{"Q8_0", 32, q8BlockBytes, quantQ8Generic, quantizeQ8, 32},
		{"Q8_K", 256, q8KBlockBytes, quantQ8KGeneric, quantizeQ8K, 256},
	} {
		x := randFloats(r, 3*q.be)
		want := make([]byte, 3*q.bb)
		q.generic(want, x)
		putNonFinite(want[q.bb : 2*q.bb])
		if d := binary.LittleEndian.Uint32(want[q.bb:]); !math.IsNaN(float64(math.Float32frombits(d))) {
			t.Fatalf("the non-finite block's scale is %#x, not a NaN", d)
		}
		t.Run(q.name, func(t *testing.T) {
			eachImpl(t, func(t *testing.T) {
				for p := 0; p < q.positions; p++ {
					for _, v := range nonFiniteValues {
						bad := append([]float32(nil), x...)
						bad[q.be+p] = v
						xs := &xPrep{m: 1, k: len(bad), f: bad}
						q.quantize(xs)
						if err := diffBlocks(xs.q, want); err != nil {
							t.Fatalf("%v at %d of the middle block: %v", v, p, err)
						}
					}
				}
			})
		})
	}
}

// TestMatMulNonFiniteRow gives one row of x a NaN or an infinity: that row of y is not
// finite anywhere (NaN throughout for quantized weights, whose kernels see a NaN scale),
// and the other rows are the bits they are without it, for every format and
// implementation, in the one-row, few-row and many-row kernels, of the file's layout (37
// rows) and of the repacked ones where the implementation has one (48).
func TestMatMulNonFiniteRow(t *testing.T) {
	r := rand.New(rand.NewPCG(47, 48))
	pool := NewPool(2)
	defer pool.Close()
	const K = 512
	for _, f := range allFormats {
		for _, N := range []int{37, 48} {
			w, err := NewMatrix(f, N, K, randWeights(r, f, N, K))
			if err != nil {
				t.Fatal(err)
			}
			t.Run(fmt.Sprintf("%s N=%d", f, N), func(t *testing.T) {
				eachImpl(t, func(t *testing.T) {
					if w.Repacks() {
						t.Log("repacked layout")
					}
					for _, M := range []int{1, 3, 6} {
						x := randFloats(r, M*K)
						clean := make([]float32, M*N)
						pool.MatMul(clean, x, w)
						for row := 0; row < M; row++ {
							for i, v := range nonFiniteValues {
								bad := append([]float32(nil), x...)
								bad[row*K+(i*131+row*7)%K] = v
								y := make([]float32, M*N)
								pool.MatMul(y, bad, w)
								for j, got := range y {
									m := j / N
									switch {
									case m == row && f.BlockElems() > 1 && !math.IsNaN(float64(got)):
										t.Fatalf("M=%d, %v in row %d: y[%d][%d] = %v, want NaN", M, v, row, m, j%N, got)
									case m == row && !math.IsNaN(float64(got)) && !math.IsInf(float64(got), 0):
										t.Fatalf("M=%d, %v in row %d: y[%d][%d] = %v, want NaN or ±Inf", M, v, row, m, j%N, got)
									case m != row && math.Float32bits(got) != math.Float32bits(clean[j]):
										t.Fatalf("M=%d, %v in row %d: y[%d][%d] = %v, want %v as without it", M, v, row, m, j%N, got, clean[j])
									}
								}
							}
						}
					}
				})
			})
		}
	}
}
