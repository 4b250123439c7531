//go:build gc && !purego

package kernels

// Vector kernels in vec_arm64.s. Each covers the first len&^15 elements (siluMulNEON and
// softmaxExpNEON len&^7); neonTable wraps them (vec_asm.go) to finish the tail and
// report memory to the race detector.

// dotNEON returns Σ_{i < len(a)&^15} a[i]·b[i]. len(b) >= len(a)&^15.
//
//go:noescape
func dotNEON(a, b []float32) float32

// axpyNEON sets y[i] = fma(alpha, x[i], y[i]) for i < len(y)&^15.
//
//go:noescape
func axpyNEON(y []float32, alpha float32, x []float32)

// addNEON sets dst[i] = a[i] + b[i] for i < len(dst)&^15.
//
//go:noescape
func addNEON(dst, a, b []float32)

// scaleNEON sets x[i] *= alpha for i < len(x)&^15.
//
//go:noescape
func scaleNEON(x []float32, alpha float32)

// mulScaledNEON sets dst[i] = (x[i]·s)·w[i] for i < len(dst)&^15.
//
//go:noescape
func mulScaledNEON(dst, x, w []float32, s float32)

// sumSquaresNEON returns Σ_{i < len(x)&^15} float64(x[i])², in float64.
//
//go:noescape
func sumSquaresNEON(x []float32) float64

// siluMulNEON sets dst[i] = (g·σ(g))·up[i], g = gate[i], for i < len(dst)&^7, by the
// operations of siluMulAVX2 (see vec_arm64.s): relative error within 8·2⁻²⁴ of the exact
// value for g ≥ −87; below that the result is smaller than 2⁻¹²⁰·|g·up| in magnitude.
//
//go:noescape
func siluMulNEON(dst, gate, up []float32)

// softmaxExpNEON sets x[i] = exp(x[i]−mx) for i < len(x)&^7 (the polynomial exponential
// of softmaxExpAVX2, arguments ≤ 0, results below 2⁻¹²⁶ flushed to 0) and returns their
// float64 sum.
//
//go:noescape
func softmaxExpNEON(x []float32, mx float32) float64

// scaleRoundNEON sets x[i] = float32(float64(x[i])·s) for i < len(x)&^15.
//
//go:noescape
func scaleRoundNEON(x []float32, s float64)

// maxNEON returns the largest of x[i], i < len(x)&^15, ignoring NaNs (−Inf if there is
// none), and whether any of them is NaN.
//
//go:noescape
func maxNEON(x []float32) (mx float32, nan bool)
