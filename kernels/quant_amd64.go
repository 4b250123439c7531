//go:build gc && !purego

package kernels

// Activation quantizers (quant_amd64.s). Each gives exactly the bytes of its generic
// counterpart.

// quantQ8AVX2 is quantQ8Generic: len(x)/32 Q8_0 activation blocks into dst.
//
//go:noescape
func quantQ8AVX2(dst []byte, x []float32)

// quantQ8KAVX2 is quantQ8KGeneric: len(x)/256 Q8_K activation blocks into dst.
//
//go:noescape
func quantQ8KAVX2(dst []byte, x []float32)

func quantQ8AVX2Go(dst []byte, x []float32) {
	n := len(x) / 32
	raceReadF32(x)
	raceWriteBytes(dst[:n*q8BlockBytes])
	quantQ8AVX2(dst[:n*q8BlockBytes], x[:n*32])
}

func quantQ8KAVX2Go(dst []byte, x []float32) {
	n := len(x) / 256
	raceReadF32(x)
	raceWriteBytes(dst[:n*q8KBlockBytes])
	quantQ8KAVX2(dst[:n*q8KBlockBytes], x[:n*256])
}
