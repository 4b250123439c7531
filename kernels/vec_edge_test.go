package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Special values at every position of rows long enough to reach the assembly, which
// covers the first len&^7 or len&^15 elements and leaves the rest to the generic code.

var edgeLengths = []int{8, 16, 23, 32, 55}

func TestSiLUMulSpecial(t *testing.T) {
	negz := float32(math.Copysign(0, -1))
	specials := []float32{0, negz, 1e-30, -1e-30, 1e-40, -1e-40, 87.3, -87, -87.3, -88.5, -100,
		-1e30, -math.MaxFloat32, float32(math.Inf(1)), float32(math.NaN())}
	r := rand.New(rand.NewPCG(17, 18))
	eachImpl(t, func(t *testing.T) {
		for _, n := range edgeLengths {
			for _, v := range specials {
				for p := -1; p < n; p++ { // p < 0: the whole row is v
					g, up := randFloats(r, n), randFloats(r, n)
					for i := range g {
						if p < 0 || i == p {
							g[i] = v
						}
						if up[i] == 0 {
							up[i] = 1
						}
					}
					d := make([]float32, n)
					SiLUMul(d, g, up)
					for i := range d {
						checkSiLU(t, g[i], up[i], d[i])
					}
				}
			}
		}
	})
}

// checkSiLU checks got against the documented bounds of SiLUMul: 8·2⁻²⁴ relative for
// gates ≥ −87, else 2⁻¹²⁰·|gate·up|; plus 2⁻¹⁵⁰ per rounding of a subnormal result
// (g·σ, then ·up).
func checkSiLU(t *testing.T, g, up, got float32) {
	t.Helper()
	gg, uu := float64(g), float64(up)
	switch {
	case gg != gg:
		if got == got {
			t.Fatalf("SiLUMul(NaN)·%g = %g", up, got)
		}
		return
	case math.IsInf(gg, 1):
		if want := math.Inf(1) * uu; float64(got) != want {
			t.Fatalf("SiLUMul(+Inf)·%g = %g, want %g", up, got, want)
		}
		return
	}
	want := gg / (1 + math.Exp(-gg)) * uu
	tol := 8 * 0x1p-24 * math.Abs(want)
	if gg < -87 {
		tol = math.Max(tol, 0x1p-120*math.Abs(gg*uu))
	}
	tol += 0x1p-150 * (1 + math.Abs(uu))
	if e := math.Abs(float64(got) - want); !(e <= tol) {
		t.Fatalf("SiLUMul(%g)·%g = %g, want %g", g, up, got, want)
	}
}

func TestSoftmaxSpecial(t *testing.T) {
	ninf := float32(math.Inf(-1))
	// Offsets from the maximum around the clamp at −87.3 and the flush to 0 below it.
	offsets := []float32{0, -1e-40, -1e-7, -1, -87, -87.29, -87.3, -87.31, -87.4, -100, -103.2,
		-104, -150, -1e30}
	r := rand.New(rand.NewPCG(19, 20))
	eachImpl(t, func(t *testing.T) {
		for _, n := range edgeLengths {
			for p := 0; p < n; p++ {
				// −Inf at p and at every third element: exactly 0.
				x := randFloats(r, n)
				for i := range x {
					x[i] *= 30
					if i == p || i%3 == 2 {
						x[i] = ninf
					}
				}
				checkSoftmax(t, x)

				// Extremes: x − max overflows to −Inf (and must give 0, not NaN).
				x = make([]float32, n)
				for i := range x {
					x[i] = float32((2*r.Float64() - 1) * 3e38)
					if i%2 == 1 {
						x[i] = -math.MaxFloat32
					}
				}
				x[p] = math.MaxFloat32
				checkSoftmax(t, x)

				// The clamp: each offset from the maximum at p, the rest spread over them.
				for _, mx := range []float32{0, 5, -40, 1000} {
					x = make([]float32, n)
					for i := range x {
						x[i] = mx + offsets[(i+p)%len(offsets)]
					}
					x[p] = mx
					checkSoftmax(t, x)
				}

				// A single finite element: exactly 1 there, 0 elsewhere.
				x = make([]float32, n)
				for i := range x {
					x[i] = ninf
				}
				x[p] = float32(r.NormFloat64() * 100)
				Softmax(x)
				for i, v := range x {
					if want := float32(b2f(i == p)); v != want {
						t.Fatalf("n=%d: Softmax of one finite element at %d: x[%d] = %g", n, p, i, v)
					}
				}
			}
		}
	})
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// checkSoftmax runs Softmax on a copy of x and checks it against float64 within the
// documented 8·2⁻²⁴ relative plus 2⁻¹²⁵ absolute; −Inf inputs must give exactly 0.
func checkSoftmax(t *testing.T, x []float32) {
	t.Helper()
	mx := math.Inf(-1)
	for _, v := range x {
		mx = math.Max(mx, float64(v))
	}
	var sum float64
	for _, v := range x {
		sum += math.Exp(float64(v) - mx)
	}
	sm := append([]float32(nil), x...)
	Softmax(sm)
	at := make([]float32, len(x))
	for i := range x {
		copy(at, x)
		if got := SoftmaxAt(at, i); math.Float32bits(got) != math.Float32bits(sm[i]) {
			t.Fatalf("SoftmaxAt(%v, %d) = %g, Softmax gives %g", x, i, got, sm[i])
		}
	}
	for i, v := range sm {
		if math.IsInf(float64(x[i]), -1) {
			if v != 0 {
				t.Fatalf("Softmax(%v)[%d] = %g for −Inf", x, i, v)
			}
			continue
		}
		want := math.Exp(float64(x[i])-mx) / sum
		if e := math.Abs(float64(v) - want); !(e <= 8*0x1p-24*want+0x1p-125) {
			t.Fatalf("Softmax(%v)[%d] = %g, want %g", x, i, v, want)
		}
	}
}

func TestMaxNaNSpecial(t *testing.T) {
	snan := math.Float32frombits(0x7f800001)
	nnan := math.Float32frombits(0xffc00000)
	negz := float32(math.Copysign(0, -1))
	inf, ninf := float32(math.Inf(1)), float32(math.Inf(-1))
	values := []float32{snan, nnan, float32(math.NaN()), inf, ninf, math.MaxFloat32, -math.MaxFloat32,
		math.SmallestNonzeroFloat32, 0, negz, 1}
	eachImpl(t, func(t *testing.T) {
		for _, n := range append(edgeLengths, 64, 71) {
			for _, base := range []float32{ninf, -1e30, negz, snan} {
				for _, v := range values {
					for p := -1; p < n; p++ { // p < 0: the whole row is base
						x := make([]float32, n)
						for i := range x {
							x[i] = base
						}
						if p >= 0 {
							x[p] = v
						}
						wm, wn := maxNaNGeneric(x)
						gm, gn := active.maxNaN(x)
						if gn != wn || gm != wm {
							t.Fatalf("n=%d base %g, %g at %d: maxNaN = %g,%v, want %g,%v", n, base, v, p, gm, gn, wm, wn)
						}
					}
				}
			}
		}
	})
}

// TestScaleRoundSpecial checks the bits: every implementation computes
// float32(float64(x)·s) with the same two roundings.
func TestScaleRoundSpecial(t *testing.T) {
	x := specialValues()
	r := rand.New(rand.NewPCG(21, 22))
	for range 60 {
		x = append(x, float32(r.NormFloat64()*math.Pow(2, float64(r.IntN(280)-140))))
	}
	eachImpl(t, func(t *testing.T) {
		for _, s := range []float64{1, 0.75, 1.0 / 3, -2.5, 0x1p-40, 0x1p-149, 1e-300, 1e30, 1e300, 0, math.Inf(1)} {
			for n := 0; n <= len(x); n++ {
				for off := 0; off < 2 && off+n <= len(x); off++ {
					want := append([]float32(nil), x[off:off+n]...)
					scaleRoundGeneric(want, s)
					got := append([]float32(nil), x[off:off+n]...)
					active.scaleRound(got, s)
					for i := range got {
						if !sameBits(got[i], want[i]) || (got[i] == 0 && math.Signbit(float64(got[i])) != math.Signbit(float64(want[i]))) {
							t.Fatalf("scaleRound(%g · %g) = %g, want %g", x[off+i], s, got[i], want[i])
						}
					}
				}
			}
		}
	})
}
