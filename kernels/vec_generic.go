package kernels

import "math"

// dotGeneric returns Σ a[i]·b[i] summed left to right in float32.
func dotGeneric(a, b []float32) float32 {
	var s float32
	for i := range a {
		s += float32(a[i] * b[i])
	}
	return s
}

// axpyGeneric sets y[i] += alpha·x[i].
func axpyGeneric(y []float32, alpha float32, x []float32) {
	for i := range y {
		y[i] += float32(alpha * x[i])
	}
}

// addGeneric sets dst[i] = a[i] + b[i].
func addGeneric(dst, a, b []float32) {
	for i := range dst {
		dst[i] = a[i] + b[i]
	}
}

// scaleGeneric sets x[i] *= alpha.
func scaleGeneric(x []float32, alpha float32) {
	for i := range x {
		x[i] *= alpha
	}
}

// sumSquaresGeneric returns Σ x[i]² in float64 (each square exact in float64).
func sumSquaresGeneric(x []float32) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return s
}

// mulScaledGeneric sets dst[i] = (x[i]·s)·w[i], each product rounded to float32.
func mulScaledGeneric(dst, x, w []float32, s float32) {
	for i := range dst {
		dst[i] = float32(x[i]*s) * w[i]
	}
}

// siluMulGeneric sets dst[i] = g·σ(g)·up[i] with g = gate[i], evaluated in float64.
func siluMulGeneric(dst, gate, up []float32) {
	for i := range dst {
		g := float64(gate[i])
		dst[i] = float32(g / (1 + math.Exp(-g)) * float64(up[i]))
	}
}

// softmaxExpGeneric sets x[i] = exp(x[i]−mx), evaluated in float64 and rounded, and
// returns the float64 sum of the unrounded exponentials.
func softmaxExpGeneric(x []float32, mx float32) float64 {
	var sum float64
	for i, v := range x {
		e := math.Exp(float64(v) - float64(mx))
		x[i] = float32(e)
		sum += e
	}
	return sum
}

// scaleRoundGeneric sets x[i] = float32(float64(x[i])·s).
func scaleRoundGeneric(x []float32, s float64) {
	for i := range x {
		x[i] = float32(float64(x[i]) * s)
	}
}

// maxNaNGeneric returns the largest element of x ignoring NaNs (−Inf when there is
// none) and whether x holds a NaN.
func maxNaNGeneric(x []float32) (float32, bool) {
	mx := float32(math.Inf(-1))
	nan := false
	for _, v := range x {
		if v > mx {
			mx = v
		}
		nan = nan || v != v
	}
	return mx, nan
}
