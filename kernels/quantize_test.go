package kernels

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
)

func gaussRow(rng *rand.Rand, n int, std float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * std)
	}
	return x
}

func roundTrip(t *testing.T, f Format, x []float32) []float32 {
	t.Helper()
	rb, err := f.RowBytes(len(x))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, rb)
	if err := Quantize(f, buf, x); err != nil {
		t.Fatal(err)
	}
	y := make([]float32, len(x))
	if err := Dequantize(f, y, buf); err != nil {
		t.Fatal(err)
	}
	return y
}

// relRMSE is the root-mean-square error of y against x, relative to the rms of x.
func relRMSE(x, y []float32) float64 {
	var e, s float64
	for i := range x {
		d := float64(x[i] - y[i])
		e += d * d
		s += float64(x[i]) * float64(x[i])
	}
	return math.Sqrt(e / s)
}

// TestQuantizeRoundTrip bounds the error of every quantizer on Gaussian rows. The bounds
// sit a little above what the reference quantizers give on such data (Q8_0 ≈ 0.5 %,
// Q6_K ≈ 1.8 %, Q4_K ≈ 7.1 %, Q4_0 ≈ 8.6 % relative RMSE), so a broken search (say, a
// K-quant that lost its least-squares refinement and fell back to min/max scaling) fails.
func TestQuantizeRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	bounds := map[Format]float64{F32: 0, F16: 5e-4, BF16: 4e-3, Q8_0: 0.008, Q6_K: 0.021, Q4_K: 0.08, Q4_0: 0.10}
	for f, bound := range bounds {
		x := gaussRow(rng, 256*64, 0.02)
		got := relRMSE(x, roundTrip(t, f, x))
		t.Logf("%s: relative RMSE %.4f", f, got)
		if got > bound {
			t.Errorf("%s: relative RMSE %.4f > %.4f", f, got, bound)
		}
	}
}

// TestQuantizeQ4_0Block checks the Q4_0 rule on a hand-made block: the value of largest
// magnitude sets d = m/−8 and decodes exactly; every element lands within d/2 (or is the
// clipped opposite extreme).
func TestQuantizeQ4_0Block(t *testing.T) {
	x := make([]float32, 32)
	for i := range x {
		x[i] = float32(i-12) / 4 // −3 … 4.75; the largest magnitude is +4.75
	}
	buf := make([]byte, 18)
	QuantizeQ4_0(buf, x)
	d := halfAt(buf, 0)
	if want := f16Round(4.75 / -8); d != want {
		t.Fatalf("d = %v, want %v", d, want)
	}
	if q := buf[2+15] >> 4; q != 0 { // element 31 is the maximum: q = 0 → d·(0−8) = 4.75
		t.Errorf("q(max) = %d, want 0", q)
	}
	y := roundTrip(t, Q4_0, x)
	for i := range x {
		if e := math.Abs(float64(x[i] - y[i])); e > math.Abs(float64(d))/2+1e-6 {
			t.Errorf("x[%d] = %v decodes to %v (error %v > |d|/2)", i, x[i], y[i], e)
		}
	}
}

// TestQuantizeSpecialBlocks: zero blocks encode to zeros (and decode to exact zeros),
// constant and one-hot blocks stay finite and close.
func TestQuantizeSpecialBlocks(t *testing.T) {
	for _, f := range []Format{Q8_0, Q4_0, Q4_K, Q6_K} {
		zero := make([]float32, 256)
		y := roundTrip(t, f, zero)
		for i, v := range y {
			if v != 0 {
				t.Fatalf("%s: zero row decodes to %v at %d", f, v, i)
			}
		}
		for _, c := range []float32{1.5, -0.25} {
			x := make([]float32, 256)
			for i := range x {
				x[i] = c
			}
			y := roundTrip(t, f, x)
			for i, v := range y {
				if math.IsNaN(float64(v)) || math.Abs(float64(v-c)) > 0.07*math.Abs(float64(c)) {
					t.Fatalf("%s: constant %v decodes to %v at %d", f, c, v, i)
				}
			}
		}
		x := make([]float32, 256)
		x[77] = -3
		y = roundTrip(t, f, x)
		if math.Abs(float64(y[77]+3)) > 0.05 {
			t.Errorf("%s: one-hot −3 decodes to %v", f, y[77])
		}
	}
}

// TestQuantizeQ4_KLayout decodes a Q4_K super-block by hand: the f16 d/dmin and 6-bit
// scale/min fields must describe the levels, i.e. every decoded value equals
// d·sc·q − dmin·m for some q in 0…15 and lies within half a step of the input.
func TestQuantizeQ4_KLayout(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	x := gaussRow(rng, 256, 1)
	buf := make([]byte, 144)
	QuantizeQ4_K(buf, x)
	d, dmin := halfAt(buf, 0), halfAt(buf, 2)
	y := roundTrip(t, Q4_K, x)
	for j := 0; j < 8; j++ {
		sc, m := Q4KScaleMin(j, buf[4:16])
		step := d * float32(sc)
		for i := 32 * j; i < 32*j+32; i++ {
			// values outside the fitted range clip; inside it the error is at most a step/2
			lo, hi := -dmin*float32(m), step*15-dmin*float32(m)
			if x[i] >= lo && x[i] <= hi && math.Abs(float64(x[i]-y[i])) > float64(step)/2*1.001 {
				t.Errorf("sub-block %d: x=%v → %v, step %v", j, x[i], y[i], step)
			}
		}
	}
}

// TestQuantizeQ6_KScales checks the Q6_K super-block scale: d = −max_scale/128, so the
// sub-block of largest |scale| is stored at the int8 extreme (−128, or 127 after the
// clamp), using the whole scale range.
func TestQuantizeQ6_KScales(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	x := gaussRow(rng, 256, 1)
	buf := make([]byte, 210)
	QuantizeQ6_K(buf, x)
	var extreme bool
	for _, s := range buf[192:208] {
		if int8(s) == -128 || int8(s) == 127 {
			extreme = true
		}
	}
	if !extreme {
		t.Errorf("no sub-block scale at the int8 extreme: %v", buf[192:208])
	}
	if d := binary.LittleEndian.Uint16(buf[208:]); d == 0 {
		t.Error("d = 0")
	}
}

func TestQuantizeErrors(t *testing.T) {
	if err := Quantize(Q4_K, make([]byte, 144), make([]float32, 128)); err == nil {
		t.Error("Q4_K accepted a row of 128")
	}
	if err := Quantize(Q8_0, make([]byte, 10), make([]float32, 32)); err == nil {
		t.Error("Q8_0 accepted a short destination")
	}
}
