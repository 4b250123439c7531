//go:build gc && !purego

package kernels

import (
	"math/rand/v2"
	"testing"
)

// TestVNNIMatchesAVX2: the VNNI Q8_0 kernels give the AVX2 kernels' bits (the
// same exact int32 sums, the same float32 steps), for every row count (4-row blocks and
// the one-row tail), weights with every byte value (−128 included) and activations at
// the quantizer's extremes.
func TestVNNIMatchesAVX2(t *testing.T) {
	if !useVNNI {
		t.Skip("this machine has no AVX-512 VNNI: nothing to compare")
	}
	r := rand.New(rand.NewPCG(41, 42))
	const N, K = 37, 320
	w, _ := NewMatrix(Q8_0, N, K, randWeights(r, Q8_0, N, K))
	for M := 1; M <= 9; M++ {
		x := randFloats(r, M*K)
		x[0], x[1] = 1e3, -1e3 // ±127 quants in the first block of row 0
		run := func(name string) []float32 {
			restore, err := Use(name)
			if err != nil {
				t.Fatal(err)
			}
			defer restore()
			y := make([]float32, M*N)
			NewPool(2).MatMul(y, x, w)
			return y
		}
		want, got := run("avx2"), run("avx512vnni")
		for i := range want {
			if !sameBits(got[i], want[i]) {
				t.Fatalf("M=%d: y[%d] = %g with VNNI, %g with AVX2", M, i, got[i], want[i])
			}
		}
	}
}

// TestSumInt8x32: the eight-bytes-at-a-time sum of prepQ8X8 against a byte loop, on
// random quants and on every byte value repeated (−128 and 127 the extremes).
func TestSumInt8x32(t *testing.T) {
	r := rand.New(rand.NewPCG(63, 64))
	var q [32]byte
	check := func() {
		t.Helper()
		var want int32
		for _, b := range q {
			want += int32(int8(b))
		}
		if got := sumInt8x32(&q); got != want {
			t.Fatalf("sum of % x: %d, want %d", q, got, want)
		}
	}
	for v := range 256 {
		for i := range q {
			q[i] = byte(v)
		}
		check()
	}
	for range 10000 {
		for i := range q {
			q[i] = byte(r.Uint32())
		}
		check()
	}
}
