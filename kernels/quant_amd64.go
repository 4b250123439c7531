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

func quantQ8AVX2Go(dst []byte, x []float32) { quantRows(quantQ8AVX2, dst, x, 32, q8BlockBytes) }

func quantQ8KAVX2Go(dst []byte, x []float32) { quantRows(quantQ8KAVX2, dst, x, 256, q8KBlockBytes) }
