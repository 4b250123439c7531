//go:build gc && !purego

package kernels

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"slices"
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

// TestQuantQ8X8: quantQ8X8AVX2 gives each generic Q8_0 block followed by −128 times
// the sum of its quants (0 for a block with a NaN or an infinity, whose quants are 0),
// on the activation quantizers' inputs (scales about to overflow, flush or tie, NaNs
// among them) and on every quant sum's extremes.
func TestQuantQ8X8(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2")
	}
	r := rand.New(rand.NewPCG(63, 64))
	inputs := activationInputs(r)
	for _, v := range []float32{1, -1, float32(math.NaN()), float32(math.Inf(-1)), 0} {
		inputs = append(inputs, slices.Repeat([]float32{v}, 64))
	}
	for i, x := range inputs {
		if err := diffBlocks(quantQ8X8(x), q8X8Reference(x)); err != nil {
			t.Fatalf("input %d: %v", i, err)
		}
	}
}

// FuzzQuantQ8X8 compares quantQ8X8AVX2 with the generic quantizer and sums on arbitrary
// rows.
func FuzzQuantQ8X8(f *testing.F) {
	if !useAVX2 {
		f.Skip("no AVX2")
	}
	f.Add(make([]byte, 256))
	f.Add(bytes.Repeat([]byte{0, 0, 0xc0, 0x7f, 0, 0, 0x80, 0xff}, 32))
	f.Fuzz(func(t *testing.T, data []byte) {
		x := floatsFrom(data)
		x = x[:len(x)/32*32]
		if err := diffBlocks(quantQ8X8(x), q8X8Reference(x)); err != nil {
			t.Fatal(err)
		}
	})
}

// quantQ8X8 is quantQ8X8AVX2's blocks of x, into a buffer of stale bytes.
func quantQ8X8(x []float32) []byte {
	got := bytes.Repeat([]byte{0xa5}, len(x)/32*q8X8ActBlockBytes)
	quantQ8X8AVX2Go(got, x)
	return got
}

// q8X8Reference is prepQ8X8's layout of x made from the generic blocks, summed a byte
// at a time.
func q8X8Reference(x []float32) []byte {
	q := make([]byte, len(x)/32*q8BlockBytes)
	quantQ8Generic(q, x)
	var want []byte
	for blk := range slices.Chunk(q, q8BlockBytes) {
		var sum int32
		for _, b := range blk[q8QuantsOff:] {
			sum += int32(int8(b))
		}
		want = binary.LittleEndian.AppendUint32(append(want, blk...), uint32(-128*sum))
	}
	return want
}
