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

func quantQ8NEONGo(dst []byte, x []float32) { quantRows(quantQ8NEON, dst, x, 32, q8BlockBytes) }

func quantQ8KNEONGo(dst []byte, x []float32) { quantRows(quantQ8KNEON, dst, x, 256, q8KBlockBytes) }
