//go:build gc && !purego && (amd64 || arm64)

package kernels

// widen runs the assembly conversion asm over the first len(dst)&^15 values and the
// generic one over the rest, reporting the memory to the race detector.
func widen(asm, generic func(dst []float32, src []byte), dst []float32, src []byte) {
	n := len(dst) &^ 15
	raceReadBytes(src)
	raceWriteF32(dst)
	asm(dst[:n], src[:2*n])
	generic(dst[n:], src[2*n:])
}

// narrow is widen for the conversions from float32.
func narrow(asm, generic func(dst []byte, src []float32), dst []byte, src []float32) {
	n := len(src) &^ 15
	raceReadF32(src)
	raceWriteBytes(dst)
	asm(dst[:2*n], src[:n])
	generic(dst[2*n:], src[n:])
}
