package kernels

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// activationInputs are rows that exercise the activation quantizers' corners: zero
// blocks, halves exactly between two quants, ties for the largest magnitude (with
// either sign first, the first at many positions), negative maxima, tiny and subnormal
// values, and scales that round to zero or overflow in f16, some at the thresholds.
func activationInputs(r *rand.Rand) [][]float32 {
	n := 512
	var rows [][]float32
	add := func(f func(i int) float32) {
		x := make([]float32, n)
		for i := range x {
			x[i] = f(i)
		}
		rows = append(rows, x)
	}
	add(func(int) float32 { return 0 })
	add(func(i int) float32 { return float32(r.NormFloat64()) })
	add(func(i int) float32 { return float32(r.NormFloat64() * 1e-3) })
	add(func(i int) float32 { return float32(i%41-20) / 40 * 127 })                      // many exact halves
	add(func(i int) float32 { return float32(i%9-4) * 0.5 })                             // ties in magnitude
	add(func(i int) float32 { return -float32(i%7) - float32(i%256)/8 })                 // negative maxima
	add(func(i int) float32 { return float32(1-2*(i%2)) * 3 })                           // ±3: first sign wins
	add(func(i int) float32 { return math.Float32frombits(uint32(i%5+1) * 0x00012345) }) // subnormal
	add(func(i int) float32 { return float32(r.NormFloat64()) * 1e-30 })                 // f16 scale flushes to 0
	add(func(i int) float32 { return float32(r.NormFloat64()) * 1e8 })                   // f16 scale overflows
	// Scales ±1 (q = round(±v)): halves next to odd and to even integers, both signs.
	add(func(i int) float32 {
		if i%32 == 0 {
			return float32(127 - 254*(i/256%2))
		}
		return float32(i%64-32) + 0.5
	})
	// Scales ±1 again, with the floats either side of each half (q = round(±v) must
	// not carry the float below k+½ up: a rounding by adding ½ would).
	add(func(i int) float32 {
		if i%32 == 0 {
			return float32(127 - 254*(i/256%2))
		}
		h := float32(i%64-32) + 0.5
		return math.Nextafter32(h, float32(math.Inf(1-2*(i/64%2))))
	})
	add(func(i int) float32 {
		if i%32 == 0 || i%256 == 7 {
			return 0
		}
		return float32(r.IntN(255) - 127)
	})
	half := make([]float32, n) // a zero block next to a non-zero one
	for i := 256; i < n; i++ {
		half[i] = float32(r.NormFloat64())
	}
	rows = append(rows, half)

	// The first element of largest magnitude (2) at positions a vector kernel treats
	// differently (first and last lanes of vectors, of 8- and 16-element groups, of the
	// block), tied later in the block with the other sign: negative first in block 0,
	// positive first in block 1.
	for _, p := range []int{0, 1, 3, 4, 7, 8, 11, 12, 15, 16, 31, 32, 100, 127, 128, 200, 252, 255} {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(r.Float64()*2 - 1)
		}
		for b, s := range []float32{-2, 2} {
			x[256*b+p] = s
			for _, q := range []int{p + 1, p + 5, p + 12, 255} {
				if q > p && q < 256 {
					x[256*b+q] = -s
				}
			}
		}
		rows = append(rows, x)
	}

	// Largest magnitudes mx a few ulps either side of where the scales stop being finite
	// (Q8_K's iscale at 127·2⁻¹²⁸, Q8_0's 1/d 2 to 5 ulps above), and of where Q8_0's
	// f16 scale overflows (d = 65520), flushes to 0 (d = 2⁻²⁵) or rounds a tie between
	// subnormals (d = 3·2⁻²⁵). Every block of 32 holds ±mx, alternating signs.
	for _, m := range []float64{127 * 0x1p-128, 127 * 65520, 127 * 0x1p-25, 127 * 3 * 0x1p-25} {
		for _, k := range []int32{-5, -2, -1, 0, 1, 2, 5} {
			mx := math.Float32frombits(uint32(int32(math.Float32bits(float32(m))) + k))
			x := make([]float32, n)
			for i := range x {
				x[i] = mx * float32(r.Float64()*2-1)
			}
			for c := 0; c < n/32; c++ {
				x[32*c+c*5%32] = mx * float32(1-2*(c%2))
			}
			rows = append(rows, x)
		}
	}
	return rows
}

// TestQuantizeActivations checks that every implementation's activation quantizers
// give exactly the generic bytes.
func TestQuantizeActivations(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	inputs := activationInputs(r)
	want8 := make([][]byte, len(inputs))
	want8K := make([][]byte, len(inputs))
	for i, x := range inputs {
		want8[i] = make([]byte, len(x)/32*q8BlockBytes)
		quantQ8Generic(want8[i], x)
		want8K[i] = make([]byte, len(x)/256*q8KBlockBytes)
		quantQ8KGeneric(want8K[i], x)
	}
	eachImpl(t, func(t *testing.T) {
		for i, x := range inputs {
			for _, f := range []struct {
				name string
				run  func(xs *xPrep)
				want []byte
			}{{"Q8_0", quantizeQ8, want8[i]}, {"Q8_K", quantizeQ8K, want8K[i]}} {
				xs := &xPrep{m: 2, k: len(x) / 2, f: x}
				xs.q = bytes.Repeat([]byte{0xa5}, len(f.want)+7)[:0] // stale bytes must not survive
				f.run(xs)
				if err := diffBlocks(xs.q, f.want); err != nil {
					t.Fatalf("%s of input %d: %v", f.name, i, err)
				}
			}
		}
	})
}

func diffBlocks(got, want []byte) error {
	if len(got) != len(want) {
		return fmt.Errorf("%d bytes, want %d", len(got), len(want))
	}
	for j := range got {
		if got[j] != want[j] {
			return fmt.Errorf("byte %d = %#x, want %#x", j, got[j], want[j])
		}
	}
	return nil
}

// FuzzQuantizeActivations compares every implementation's activation quantizers with
// the generic ones on arbitrary rows, NaNs and infinities included.
func FuzzQuantizeActivations(f *testing.F) {
	f.Add(make([]byte, 1024))
	f.Add(bytes.Repeat([]byte{0, 0, 0xc0, 0x3f, 0, 0, 0, 0xbf}, 128))
	f.Add(bytes.Repeat([]byte{0, 0, 0xc0, 0x7f, 0, 0, 0x80, 0xff}, 128))
	f.Fuzz(func(t *testing.T, data []byte) {
		x := floatsFrom(data)
		x = x[:len(x)/256*256]
		checkQuantizers(t, 1, len(x), x)
	})
}

// TestQuantizeActivationsChunks covers inputs longer than one quantizer call takes.
func TestQuantizeActivationsChunks(t *testing.T) {
	r := rand.New(rand.NewPCG(43, 44))
	k := quantChunk/2 + 256
	checkQuantizers(t, 3, k, randFloats(r, 3*k))
}

// checkQuantizers checks that every implementation quantizes the m×k rows x to the
// generic bytes, as Q8_0 and as Q8_K blocks.
func checkQuantizers(t *testing.T, m, k int, x []float32) {
	want8 := make([]byte, len(x)/32*q8BlockBytes)
	quantQ8Generic(want8, x)
	want8K := make([]byte, len(x)/256*q8KBlockBytes)
	quantQ8KGeneric(want8K, x)
	eachImpl(t, func(t *testing.T) {
		xs := &xPrep{m: m, k: k, f: x}
		quantizeQ8(xs)
		if err := diffBlocks(xs.q, want8); err != nil {
			t.Fatalf("Q8_0: %v", err)
		}
		quantizeQ8K(xs)
		if err := diffBlocks(xs.q, want8K); err != nil {
			t.Fatalf("Q8_K: %v", err)
		}
	})
}
