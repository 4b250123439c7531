//go:build gc && !purego

package kernels

// Vector kernels in vec_amd64.s. Each covers the first len&^7 elements; avx2Table wraps
// them (vec_asm.go) to finish the tail and report memory to the race detector.

// dotAVX2 returns Σ_{i < len(a)&^7} a[i]·b[i]. len(b) >= len(a)&^7.
//
//go:noescape
func dotAVX2(a, b []float32) float32

// axpyAVX2 sets y[i] = fma(alpha, x[i], y[i]) for i < len(y)&^7. len(x) >= len(y)&^7.
//
//go:noescape
func axpyAVX2(y []float32, alpha float32, x []float32)

// addAVX2 sets dst[i] = a[i] + b[i] for i < len(dst)&^7.
//
//go:noescape
func addAVX2(dst, a, b []float32)

// scaleAVX2 sets x[i] *= alpha for i < len(x)&^7.
//
//go:noescape
func scaleAVX2(x []float32, alpha float32)

// mulScaledAVX2 sets dst[i] = (x[i]·s)·w[i] for i < len(dst)&^7.
//
//go:noescape
func mulScaledAVX2(dst, x, w []float32, s float32)

// sumSquaresAVX2 returns Σ_{i < len(x)&^7} float64(x[i])², in float64.
//
//go:noescape
func sumSquaresAVX2(x []float32) float64

// siluMulAVX2 sets dst[i] = (g·σ(g))·up[i], g = gate[i], for i < len(dst)&^7, with a
// polynomial exponential (see vec_amd64.s): relative error within 8·2⁻²⁴ of the exact
// value for g ≥ −87; below that the result is smaller than 2⁻¹²⁰·|g·up| in magnitude.
//
//go:noescape
func siluMulAVX2(dst, gate, up []float32)

// softmaxExpAVX2 sets x[i] = exp(x[i]−mx) for i < len(x)&^7 (polynomial exponential,
// arguments ≤ 0, results below 2⁻¹²⁶ flushed to 0) and returns their float64 sum.
//
//go:noescape
func softmaxExpAVX2(x []float32, mx float32) float64

// scaleRoundAVX2 sets x[i] = float32(float64(x[i])·s) for i < len(x)&^7.
//
//go:noescape
func scaleRoundAVX2(x []float32, s float64)

// maxAVX2 returns the largest of x[i], i < len(x)&^7, ignoring NaNs (−Inf if there is
// none), and whether any of them is NaN.
//
//go:noescape
func maxAVX2(x []float32) (mx float32, nan bool)
