package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// testLengths covers 0…3×(widest vector)+7 plus longer runs through every loop.
func testLengths() []int {
	var ls []int
	for n := 0; n <= 3*8+7; n++ {
		ls = append(ls, n)
	}
	ls = append(ls, 32, 33, 63, 64, 65, 100, 127, 257, 1000, 4099)
	return ls
}

func specialValues() []float32 {
	return []float32{0, float32(math.Copysign(0, -1)), 1, -1, float32(math.Inf(1)), float32(math.Inf(-1)),
		float32(math.NaN()), math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, 1e-40, math.MaxFloat32, -3.4e38}
}

func TestDot(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	eachImpl(t, func(t *testing.T) {
		for _, n := range testLengths() {
			for off := 0; off < 4; off++ {
				a := randFloats(r, n+off)[off:]
				b := randFloats(r, n+3)[3:]
				var want, mag float64
				for i := range a {
					want += float64(a[i]) * float64(b[i])
					mag += math.Abs(float64(a[i]) * float64(b[i]))
				}
				got := Dot(a, b)
				if e := math.Abs(float64(got) - want); e > float64(n+2)*0x1p-24*mag {
					t.Fatalf("n=%d off=%d: Dot = %g, want %g (Σ|ab| %g)", n, off, got, want, mag)
				}
			}
		}
	})
}

func TestAxpyAddScale(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	eachImpl(t, func(t *testing.T) {
		for _, n := range testLengths() {
			for off := 0; off < 4; off++ {
				x := randFloats(r, n)
				y0 := randFloats(r, n)
				alpha := float32(r.NormFloat64())

				y, check := guarded(t, n, off)
				copy(y, y0)
				Axpy(y, alpha, x)
				check()
				for i := range y {
					want := float64(y0[i]) + float64(alpha)*float64(x[i])
					if e := math.Abs(float64(y[i]) - want); e > 0x1p-23*(math.Abs(float64(y0[i]))+math.Abs(float64(alpha*x[i]))) {
						t.Fatalf("Axpy n=%d i=%d: %g, want %g", n, i, y[i], want)
					}
				}

				d, check := guarded(t, n, off)
				Add(d, x, y0)
				check()
				for i := range d {
					if !sameBits(d[i], x[i]+y0[i]) {
						t.Fatalf("Add n=%d i=%d: %g, want %g", n, i, d[i], x[i]+y0[i])
					}
				}

				s, check := guarded(t, n, off)
				copy(s, x)
				Scale(s, alpha)
				check()
				for i := range s {
					if !sameBits(s[i], x[i]*alpha) {
						t.Fatalf("Scale n=%d i=%d: %g, want %g", n, i, s[i], x[i]*alpha)
					}
				}
			}
		}
	})
}

// TestSpecialValues checks that the exact kernels (Add, Scale, the RMSNorm multiply)
// match the reference bit for bit on ±0, ±Inf, NaN, subnormals and extremes.
func TestSpecialValues(t *testing.T) {
	sp := specialValues()
	var a, b []float32
	for _, u := range sp {
		for _, v := range sp {
			a, b = append(a, u), append(b, v)
		}
	}
	wantAdd := make([]float32, len(a))
	addGeneric(wantAdd, a, b)
	wantMul := make([]float32, len(a))
	mulScaledGeneric(wantMul, a, b, 0.75)
	eachImpl(t, func(t *testing.T) {
		got := make([]float32, len(a))
		Add(got, a, b)
		for i := range got {
			if !sameBits(got[i], wantAdd[i]) {
				t.Errorf("Add(%g, %g) = %g, want %g", a[i], b[i], got[i], wantAdd[i])
			}
		}
		active.mulScaled(got, a, b, 0.75)
		for i := range got {
			if !sameBits(got[i], wantMul[i]) {
				t.Errorf("mulScaled(%g, %g) = %g, want %g", a[i], b[i], got[i], wantMul[i])
			}
		}
		for _, alpha := range sp {
			s := append([]float32(nil), a...)
			Scale(s, alpha)
			for i := range s {
				if !sameBits(s[i], a[i]*alpha) {
					t.Errorf("Scale(%g, %g) = %g", a[i], alpha, s[i])
				}
			}
		}
		// Non-finite inputs propagate through Dot and the sum of squares.
		if v := Dot([]float32{1, float32(math.NaN()), 2, 3, 4, 5, 6, 7, 8}, make([]float32, 9)); v == v {
			t.Errorf("Dot with NaN = %g", v)
		}
		if v := active.sumSquares([]float32{1, 2, 3, float32(math.Inf(-1)), 5, 6, 7, 8}); !math.IsInf(v, 1) {
			t.Errorf("sumSquares with -Inf = %g", v)
		}
	})
}

func TestRMSNorm(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	eachImpl(t, func(t *testing.T) {
		for _, n := range testLengths() {
			x := randFloats(r, n)
			for i := range x {
				x[i] *= 100 // sums of squares beyond float32 comfort
			}
			w := randFloats(r, n)
			var ss float64
			for _, v := range x {
				ss += float64(v) * float64(v)
			}
			s := 1 / math.Sqrt(ss/float64(max(n, 1))+1e-6)
			for _, weight := range [][]float32{w, nil} {
				d, check := guarded(t, n, n%3)
				RMSNorm(d, x, weight, 1e-6)
				check()
				for i := range d {
					want := float64(x[i]) * s
					if weight != nil {
						want *= float64(weight[i])
					}
					if e := math.Abs(float64(d[i]) - want); e > 3*0x1p-24*math.Abs(want)+1e-30 {
						t.Fatalf("n=%d i=%d: %g, want %g", n, i, d[i], want)
					}
				}
			}
			// In place.
			y := append([]float32(nil), x...)
			RMSNorm(y, y, w, 1e-6)
			z := make([]float32, n)
			RMSNorm(z, x, w, 1e-6)
			for i := range y {
				if y[i] != z[i] {
					t.Fatalf("in-place RMSNorm differs at %d", i)
				}
			}
		}
	})
}

func TestSiLUMulSoftmaxRoPE(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	eachImpl(t, func(t *testing.T) {
		for _, n := range testLengths() {
			g, u := randFloats(r, n), randFloats(r, n)
			d, check := guarded(t, n, 1)
			SiLUMul(d, g, u)
			check()
			for i := range d {
				gg := float64(g[i])
				want := gg / (1 + math.Exp(-gg)) * float64(u[i])
				if e := math.Abs(float64(d[i]) - want); e > 8*0x1p-24*math.Abs(want)+1e-38 {
					t.Fatalf("SiLUMul n=%d i=%d: %g, want %g", n, i, d[i], want)
				}
			}

			x := randFloats(r, n)
			for i := range x {
				x[i] *= 30
			}
			sm := append([]float32(nil), x...)
			Softmax(sm)
			var sum float64
			mx := math.Inf(-1)
			for _, v := range x {
				mx = math.Max(mx, float64(v))
			}
			for _, v := range x {
				sum += math.Exp(float64(v) - mx)
			}
			for i := range sm {
				want := math.Exp(float64(x[i])-mx) / sum
				if e := math.Abs(float64(sm[i]) - want); e > 8*0x1p-24*want+0x1p-125 {
					t.Fatalf("Softmax n=%d i=%d: %g, want %g", n, i, sm[i], want)
				}
			}

			h := n / 2
			cs, sn := randFloats(r, h), randFloats(r, h)
			v := randFloats(r, n+3)
			v0 := append([]float32(nil), v...)
			RoPENeoX(v, cs, sn)
			for i := 0; i < h; i++ {
				a, b := float64(v0[i]), float64(v0[h+i])
				wa := a*float64(cs[i]) - b*float64(sn[i])
				wb := b*float64(cs[i]) + a*float64(sn[i])
				sc := math.Abs(a*float64(cs[i])) + math.Abs(b*float64(sn[i]))
				sb := math.Abs(b*float64(cs[i])) + math.Abs(a*float64(sn[i]))
				if math.Abs(float64(v[i])-wa) > 2*0x1p-24*sc || math.Abs(float64(v[h+i])-wb) > 2*0x1p-24*sb {
					t.Fatalf("RoPE n=%d i=%d: %g %g, want %g %g (scale %g)", n, i, v[i], v[h+i], wa, wb, sc)
				}
			}
			for i := 2 * h; i < len(v); i++ {
				if v[i] != v0[i] {
					t.Fatalf("RoPE touched x[%d]", i)
				}
			}
		}
	})
	// Edge cases of Softmax.
	ninf := float32(math.Inf(-1))
	s := []float32{ninf, ninf}
	Softmax(s)
	if s[0] != 0.5 || s[1] != 0.5 {
		t.Errorf("Softmax(-Inf, -Inf) = %v", s)
	}
	s = []float32{1, float32(math.NaN()), 2}
	Softmax(s)
	for _, v := range s {
		if v == v {
			t.Errorf("Softmax with NaN = %v", s)
		}
	}
	eachImpl(t, func(t *testing.T) {
		s := []float32{ninf, 3, ninf, 1, 1, 1, 1, 1, 1, 1, 1, 1}
		Softmax(s)
		if s[0] != 0 || s[2] != 0 || math.Abs(float64(s[1])-0.450853) > 1e-5 {
			t.Errorf("Softmax(-Inf, 3, -Inf, …) = %v", s)
		}
		s = []float32{1, 2, 3, 4, 5, 6, 7, 8, float32(math.Inf(1))}
		Softmax(s)
		for _, v := range s {
			if v == v {
				t.Errorf("Softmax with +Inf = %v", s)
			}
		}
	})
	Softmax(nil)
}

func TestArgmaxTopK(t *testing.T) {
	nan := float32(math.NaN())
	for _, c := range []struct {
		x    []float32
		want int
	}{
		{nil, -1}, {[]float32{nan}, 0}, {[]float32{nan, 1, 3, 3}, 2}, {[]float32{-1, nan, -0.5}, 2},
		{[]float32{float32(math.Inf(-1)), nan}, 0}, {[]float32{2, 1}, 0},
	} {
		if got := Argmax(c.x); got != c.want {
			t.Errorf("Argmax(%v) = %d, want %d", c.x, got, c.want)
		}
	}
	r := rand.New(rand.NewPCG(11, 12))
	for _, n := range []int{0, 1, 5, 100, 1000} {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(r.IntN(20)) // many ties
			if r.IntN(17) == 0 {
				x[i] = nan
			}
		}
		for _, k := range []int{0, 1, 3, 64, 65, 200, n + 5} {
			got := TopK(make([]int, 3), x, k)
			want := min(max(k, 0), n)
			if len(got) != want {
				t.Fatalf("TopK n=%d k=%d: %d results", n, k, len(got))
			}
			// Descending, ties by lower index, NaN last, and nothing left out ranks above.
			seen := map[int]bool{}
			for i, idx := range got {
				seen[idx] = true
				if i > 0 && !ranksAbove(x[got[i-1]], got[i-1], x[idx], idx) {
					t.Fatalf("TopK n=%d k=%d: order broken at %d: %v", n, k, i, got)
				}
			}
			if len(got) > 0 {
				last := got[len(got)-1]
				for i := range x {
					if !seen[i] && ranksAbove(x[i], i, x[last], last) {
						t.Fatalf("TopK n=%d k=%d: %d (%g) left out", n, k, i, x[i])
					}
				}
				if a := Argmax(x); n > 0 && got[0] != a && x[a] == x[a] {
					t.Fatalf("TopK[0] = %d, Argmax = %d", got[0], a)
				}
			}
		}
	}
}

// TestArgmaxChunks compares Argmax, which searches one chunk after taking chunk maxima,
// with the element-by-element argmaxGeneric on rows of several chunks: ties across
// chunks, signed zeros, infinities, whole chunks of NaN, nothing above −Inf.
func TestArgmaxChunks(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	r := rand.New(rand.NewPCG(13, 14))
	var rows [][]float32
	for _, n := range []int{argmaxChunk - 1, argmaxChunk, argmaxChunk + 1, 3*argmaxChunk + 17, 157184} {
		ties := make([]float32, n)
		for i := range ties {
			ties[i] = float32(r.IntN(5))
			if r.IntN(9) == 0 {
				ties[i] = nan
			}
		}
		zeros := make([]float32, n) // −0 and +0 only: the first of either
		for i := range zeros {
			if r.IntN(2) == 0 {
				zeros[i] = float32(math.Copysign(0, -1))
			}
		}
		late := randFloats(r, n) // the maximum in the last chunk, +Inf in the next run
		late[n-1] = 1e30
		withInf := append([]float32(nil), late...)
		withInf[n/2] = inf
		nanChunk := make([]float32, n) // a chunk of NaN before a row of −Inf
		for i := range nanChunk {
			nanChunk[i] = float32(math.Inf(-1))
			if i < argmaxChunk {
				nanChunk[i] = nan
			}
		}
		allNaN := make([]float32, n)
		for i := range allNaN {
			allNaN[i] = nan
		}
		rows = append(rows, ties, zeros, late, withInf, nanChunk, allNaN)
	}
	eachImpl(t, func(t *testing.T) {
		for i, x := range rows {
			if got, want := Argmax(x), argmaxGeneric(x); got != want {
				t.Fatalf("row %d (%d elements): Argmax %d, want %d", i, len(x), got, want)
			}
		}
	})
}

func TestConversions(t *testing.T) {
	// Every 16-bit pattern widens exactly and narrows back to itself (NaNs to a NaN).
	src := make([]byte, 2<<16)
	for i := 0; i < 1<<16; i++ {
		src[2*i], src[2*i+1] = byte(i), byte(i>>8)
	}
	f := make([]float32, 1<<16)
	back := make([]byte, len(src))
	for _, c := range []struct {
		name   string
		widen  func([]float32, []byte)
		narrow func([]byte, []float32)
	}{{"bf16", BF16ToF32, F32ToBF16}, {"f16", F16ToF32, F32ToF16}} {
		c.widen(f, src)
		var want [1]float32
		for i := range f {
			if err := Dequantize(map[string]Format{"bf16": BF16, "f16": F16}[c.name], want[:], src[2*i:2*i+2]); err != nil {
				t.Fatal(err)
			}
			if !sameBits(f[i], want[0]) || (f[i] == f[i] && math.Float32bits(f[i]) != math.Float32bits(want[0])) {
				t.Fatalf("%s widen %#04x = %g, want %g", c.name, i, f[i], want[0])
			}
		}
		c.narrow(back, f)
		for i := 0; i < 1<<16; i++ {
			if f[i] != f[i] {
				if g := f16or(c.name, back[2*i:]); g == g {
					t.Fatalf("%s NaN %#04x narrowed to a number", c.name, i)
				}
				continue
			}
			if back[2*i] != src[2*i] || back[2*i+1] != src[2*i+1] {
				t.Fatalf("%s round trip of %#04x gave %#02x%02x", c.name, i, back[2*i+1], back[2*i])
			}
		}
	}
	// Rounding to nearest even between neighbours.
	cases := []struct {
		in   float32
		want uint16
	}{
		{math.Float32frombits(0x3f808000), 0x3f80}, // tie, even below
		{math.Float32frombits(0x3f818000), 0x3f82}, // tie, even above
		{math.Float32frombits(0x3f808001), 0x3f81},
		{math.Float32frombits(0x7f7fffff), 0x7f80}, // rounds up to +Inf
	}
	var b [2]byte
	for _, c := range cases {
		F32ToBF16(b[:], []float32{c.in})
		if got := uint16(b[0]) | uint16(b[1])<<8; got != c.want {
			t.Errorf("F32ToBF16(%#08x) = %#04x, want %#04x", math.Float32bits(c.in), got, c.want)
		}
	}
	F32ToF16(b[:], []float32{1 + 0x1p-11}) // tie between 1 and 1+2^-10 → 1
	if b[0] != 0 || b[1] != 0x3c {
		t.Errorf("F32ToF16(1+2^-11) = %#02x%02x", b[1], b[0])
	}
}

func f16or(name string, b []byte) float32 {
	var v [1]float32
	if name == "bf16" {
		BF16ToF32(v[:], b[:2])
	} else {
		F16ToF32(v[:], b[:2])
	}
	return v[0]
}

func TestQuantizeQ8_0(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	x := randFloats(r, 32*9)
	clear(x[64:96]) // an all-zero block
	x[5] = 1e-39    // subnormal
	dst := make([]byte, 9*34)
	QuantizeQ8_0(dst, x)
	y := make([]float32, len(x))
	if err := Dequantize(Q8_0, y, dst); err != nil {
		t.Fatal(err)
	}
	for b := 0; b < 9; b++ {
		var amax float64
		for _, v := range x[32*b : 32*b+32] {
			amax = math.Max(amax, math.Abs(float64(v)))
		}
		for i := 32 * b; i < 32*b+32; i++ {
			// Half a step of d = amax/127, plus the f16 rounding of d.
			if e := math.Abs(float64(y[i]) - float64(x[i])); e > amax/127*0.5+amax*0x1p-10 {
				t.Fatalf("block %d elem %d: %g → %g", b, i, x[i], y[i])
			}
		}
	}
	for i := 64; i < 96; i++ {
		if y[i] != 0 {
			t.Fatalf("zero block decoded to %g", y[i])
		}
	}
	// Halves round away from zero (ggml uses roundf): 0.5·d → 1.
	x2 := make([]float32, 32)
	x2[0], x2[1], x2[2] = 127, 0.5, -0.5
	QuantizeQ8_0(dst[:34], x2)
	if int8(dst[2]) != 127 || int8(dst[3]) != 1 || int8(dst[4]) != -1 {
		t.Errorf("QuantizeQ8_0 rounding: %d %d %d", int8(dst[2]), int8(dst[3]), int8(dst[4]))
	}
}

func ExampleTopK() {
	fmt.Println(TopK(nil, []float32{0.1, 0.7, 0.2, 0.7}, 3))
	// Output: [1 3 2]
}

// TestSiLUMulRange sweeps the gate over [−100, 100] (the polynomial exponential's whole
// range plus the clamped tail).
func TestSiLUMulRange(t *testing.T) {
	var g []float32
	for v := -100.0; v <= 100; v += 0.0137 {
		g = append(g, float32(v))
	}
	g = append(g, 0, float32(math.Copysign(0, -1)), 1e-30, -1e-30, 87.3, -87.3, 88.5, -88.5)
	up := make([]float32, len(g))
	for i := range up {
		up[i] = float32(1 + i%7)
	}
	eachImpl(t, func(t *testing.T) {
		d := make([]float32, len(g))
		SiLUMul(d, g, up)
		for i := range d {
			gg := float64(g[i])
			want := gg / (1 + math.Exp(-gg)) * float64(up[i])
			tol := 8 * 0x1p-24 * math.Abs(want)
			if gg < -87 {
				tol = math.Max(tol, 0x1p-120*math.Abs(gg*float64(up[i])))
			}
			if e := math.Abs(float64(d[i]) - want); e > tol+1e-45 {
				t.Fatalf("SiLUMul(%g)·%g = %g, want %g", g[i], up[i], d[i], want)
			}
		}
	})
}

func TestMaxNaN(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	nan := float32(math.NaN())
	eachImpl(t, func(t *testing.T) {
		for _, n := range testLengths() {
			for trial := 0; trial < 4; trial++ {
				x := randFloats(r, n)
				if trial == 1 && n > 0 {
					x[r.IntN(n)] = nan
				}
				if trial == 2 {
					for i := range x {
						x[i] = nan
					}
				}
				if trial == 3 && n > 0 {
					x[r.IntN(n)] = float32(math.Inf(1))
				}
				wm, wn := maxNaNGeneric(x)
				gm, gn := active.maxNaN(x)
				if gn != wn || gm != wm {
					t.Fatalf("n=%d trial %d: maxNaN = %g,%v, want %g,%v", n, trial, gm, gn, wm, wn)
				}
			}
		}
	})
}

// TestRoPEInterleaved: adjacent pairs rotate exactly like RoPENeoX's split halves, so
// permuting a head's dimensions (i ↔ pair position) maps one onto the other bit for bit.
func TestRoPEInterleaved(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for h := 0; h <= 40; h++ {
		cs, sn := randFloats(r, h), randFloats(r, h)
		neox := randFloats(r, 2*h+3)
		inter := make([]float32, len(neox))
		for i := 0; i < h; i++ {
			inter[2*i], inter[2*i+1] = neox[i], neox[h+i]
		}
		copy(inter[2*h:], neox[2*h:])
		RoPENeoX(neox, cs, sn)
		RoPEInterleaved(inter, cs, sn)
		for i := 0; i < h; i++ {
			if inter[2*i] != neox[i] || inter[2*i+1] != neox[h+i] {
				t.Fatalf("h=%d pair %d: %g %g, NeoX %g %g", h, i, inter[2*i], inter[2*i+1], neox[i], neox[h+i])
			}
		}
		for i := 2 * h; i < len(neox); i++ {
			if inter[i] != neox[i] {
				t.Fatalf("h=%d: touched x[%d]", h, i)
			}
		}
	}
}
