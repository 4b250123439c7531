//go:build gc && !purego

package kernels

// Assembly micro-kernels (gemm_float_amd64.s). The doc comment of each is its exact Go
// specification; the generic kernels are the reference.

// gemmF32x4AVX2 sets y[i*ldy+j] += Σ_{p<k} x[i*ldx+p]·W_j[p] for i < 4, j < n, where W_j
// is the float32 row at w[j*ldw:]. n > 0, n%3 == 0, k > 0, k%8 == 0. Meanwhile it
// prefetches pf, a cache line per 16 elements of k, as far as it gets.
//
//go:noescape
func gemmF32x4AVX2(y []float32, ldy int, x []float32, ldx int, w []byte, ldw int, n int, k int, pf []byte)

// gemmBF16x4AVX2 is gemmF32x4AVX2 with bfloat16 weight rows.
//
//go:noescape
func gemmBF16x4AVX2(y []float32, ldy int, x []float32, ldx int, w []byte, ldw int, n int, k int, pf []byte)

// gemmF16x4AVX2 is gemmF32x4AVX2 with IEEE half weight rows.
//
//go:noescape
func gemmF16x4AVX2(y []float32, ldy int, x []float32, ldx int, w []byte, ldw int, n int, k int, pf []byte)

// gemvF32AVX2 sets y[j] += Σ_{p<len(x)} x[p]·W_j[p] for j < len(y), W_j the float32 row at
// w[j*ldw:]. len(x)%8 == 0.
//
//go:noescape
func gemvF32AVX2(y []float32, x []float32, w []byte, ldw int)

// gemvBF16AVX2 is gemvF32AVX2 with bfloat16 weight rows.
//
//go:noescape
func gemvBF16AVX2(y []float32, x []float32, w []byte, ldw int)

// gemvF16AVX2 is gemvF32AVX2 with IEEE half weight rows.
//
//go:noescape
func gemvF16AVX2(y []float32, x []float32, w []byte, ldw int)

var (
	f32AVX2  = floatKernels{4, 3, gemmF32x4AVX2, gemvF32AVX2}
	bf16AVX2 = floatKernels{2, 3, gemmBF16x4AVX2, gemvBF16AVX2}
	f16AVX2  = floatKernels{2, 3, gemmF16x4AVX2, gemvF16AVX2}
)
