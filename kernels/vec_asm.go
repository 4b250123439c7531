//go:build gc && !purego && (amd64 || arm64)

package kernels

// Table entries for the assembly vector kernels of every architecture. An assembly
// kernel covers the first len&^(w−1) elements (w, a power of two, is its block); the
// entry finishes the tail with the generic kernel and reports the memory the assembly
// touches to the race detector.

func asmDot(asm func(a, b []float32) float32, w int) func(a, b []float32) float32 {
	return func(a, b []float32) float32 {
		n := len(a) &^ (w - 1)
		raceReadF32(a)
		raceReadF32(b)
		return asm(a, b[:len(a)]) + dotGeneric(a[n:], b[n:len(a)])
	}
}

func asmAxpy(asm func(y []float32, alpha float32, x []float32), w int) func(y []float32, alpha float32, x []float32) {
	return func(y []float32, alpha float32, x []float32) {
		n := len(y) &^ (w - 1)
		raceReadF32(x)
		raceWriteF32(y)
		asm(y, alpha, x[:len(y)])
		axpyGeneric(y[n:], alpha, x[n:len(y)])
	}
}

// asmElementwise is for dst[i] = f(a[i], b[i]) kernels (Add, SiLUMul).
func asmElementwise(asm, generic func(dst, a, b []float32), w int) func(dst, a, b []float32) {
	return func(dst, a, b []float32) {
		n := len(dst) &^ (w - 1)
		raceReadF32(a)
		raceReadF32(b)
		raceWriteF32(dst)
		asm(dst, a[:len(dst)], b[:len(dst)])
		generic(dst[n:], a[n:len(dst)], b[n:len(dst)])
	}
}

func asmScale(asm func(x []float32, alpha float32), w int) func(x []float32, alpha float32) {
	return func(x []float32, alpha float32) {
		n := len(x) &^ (w - 1)
		raceWriteF32(x)
		asm(x, alpha)
		scaleGeneric(x[n:], alpha)
	}
}

func asmMulScaled(asm func(dst, x, wt []float32, s float32), w int) func(dst, x, wt []float32, s float32) {
	return func(dst, x, wt []float32, s float32) {
		n := len(dst) &^ (w - 1)
		raceReadF32(x)
		raceReadF32(wt)
		raceWriteF32(dst)
		asm(dst, x[:len(dst)], wt[:len(dst)], s)
		mulScaledGeneric(dst[n:], x[n:len(dst)], wt[n:len(dst)], s)
	}
}

func asmSumSquares(asm func(x []float32) float64, w int) func(x []float32) float64 {
	return func(x []float32) float64 {
		n := len(x) &^ (w - 1)
		raceReadF32(x)
		return asm(x) + sumSquaresGeneric(x[n:])
	}
}

func asmSoftmaxExp(asm func(x []float32, mx float32) float64, w int) func(x []float32, mx float32) float64 {
	return func(x []float32, mx float32) float64 {
		n := len(x) &^ (w - 1)
		raceWriteF32(x)
		return asm(x, mx) + softmaxExpGeneric(x[n:], mx)
	}
}

func asmScaleRound(asm func(x []float32, s float64), w int) func(x []float32, s float64) {
	return func(x []float32, s float64) {
		n := len(x) &^ (w - 1)
		raceWriteF32(x)
		asm(x, s)
		scaleRoundGeneric(x[n:], s)
	}
}

func asmMaxNaN(asm func(x []float32) (float32, bool), w int) func(x []float32) (float32, bool) {
	return func(x []float32) (float32, bool) {
		n := len(x) &^ (w - 1)
		raceReadF32(x)
		mx, nan := asm(x)
		tm, tn := maxNaNGeneric(x[n:])
		return max(mx, tm), nan || tn // neither is NaN
	}
}
