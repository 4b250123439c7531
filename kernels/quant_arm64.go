//go:build gc && !purego

package kernels

// Activation quantizers (quant_arm64.s). Each gives exactly the bytes of its generic
// counterpart.

// quantQ8NEON is quantQ8Generic: len(x)/32 Q8_0 activation blocks into dst.
//
//go:noescape
func quantQ8NEON(dst []byte, x []float32)

// quantQ8KNEON is quantQ8KGeneric: len(x)/256 Q8_K activation blocks into dst.
//
//go:noescape
func quantQ8KNEON(dst []byte, x []float32)

func quantQ8NEONGo(dst []byte, x []float32) {
	n := len(x) / 32
	raceReadF32(x)
	raceWriteBytes(dst[:n*q8BlockBytes])
	quantQ8NEON(dst[:n*q8BlockBytes], x[:n*32])
}

func quantQ8KNEONGo(dst []byte, x []float32) {
	n := len(x) / 256
	raceReadF32(x)
	raceWriteBytes(dst[:n*q8KBlockBytes])
	quantQ8KNEON(dst[:n*q8KBlockBytes], x[:n*256])
}
