//go:build gc && !purego

package kernels

// Vector kernels in vec_arm64.s. Each covers the first len&^15 elements; the wrappers
// below finish the tail with the generic code and report memory to the race detector.

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

func dotNEONGo(a, b []float32) float32 {
	n := len(a) &^ 15
	raceReadF32(a)
	raceReadF32(b)
	return dotNEON(a, b[:len(a)]) + dotGeneric(a[n:], b[n:len(a)])
}

func axpyNEONGo(y []float32, alpha float32, x []float32) {
	n := len(y) &^ 15
	raceReadF32(x)
	raceWriteF32(y)
	axpyNEON(y, alpha, x[:len(y)])
	axpyGeneric(y[n:], alpha, x[n:len(y)])
}

func addNEONGo(dst, a, b []float32) {
	n := len(dst) &^ 15
	raceReadF32(a)
	raceReadF32(b)
	raceWriteF32(dst)
	addNEON(dst, a[:len(dst)], b[:len(dst)])
	addGeneric(dst[n:], a[n:len(dst)], b[n:len(dst)])
}

func scaleNEONGo(x []float32, alpha float32) {
	n := len(x) &^ 15
	raceWriteF32(x)
	scaleNEON(x, alpha)
	scaleGeneric(x[n:], alpha)
}

func mulScaledNEONGo(dst, x, w []float32, s float32) {
	n := len(dst) &^ 15
	raceReadF32(x)
	raceReadF32(w)
	raceWriteF32(dst)
	mulScaledNEON(dst, x[:len(dst)], w[:len(dst)], s)
	mulScaledGeneric(dst[n:], x[n:len(dst)], w[n:len(dst)], s)
}

// sumSquaresNEON returns Σ_{i < len(x)&^15} float64(x[i])², in float64.
//
//go:noescape
func sumSquaresNEON(x []float32) float64

func sumSquaresNEONGo(x []float32) float64 {
	n := len(x) &^ 15
	raceReadF32(x)
	return sumSquaresNEON(x) + sumSquaresGeneric(x[n:])
}
