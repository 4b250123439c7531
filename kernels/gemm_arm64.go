//go:build gc && !purego

package kernels

// NEON float micro-kernels (gemm_float_arm64.s). The doc comment of each is its exact Go
// specification; the generic kernels are the reference.

// gemmF32x4NEON sets y[i*ldy+j] += Σ_{p<k} x[i*ldx+p]·W_j[p] for i < 4, j < n, where W_j
// is the float32 row at w[j*ldw:]. n > 0, n%4 == 0, k > 0, k%8 == 0. Meanwhile it
// prefetches pf into L2, a cache line per 8 elements of k, as far as it gets.
//
//go:noescape
func gemmF32x4NEON(y []float32, ldy int, x []float32, ldx int, w []byte, ldw int, n int, k int, pf []byte)

// gemmBF16x4NEON is gemmF32x4NEON with bfloat16 weight rows.
//
//go:noescape
func gemmBF16x4NEON(y []float32, ldy int, x []float32, ldx int, w []byte, ldw int, n int, k int, pf []byte)

// gemvF32NEON sets y[j] += Σ_{p<len(x)} x[p]·W_j[p] for j < len(y), W_j the float32 row at
// w[j*ldw:]. len(x)%8 == 0.
//
//go:noescape
func gemvF32NEON(y []float32, x []float32, w []byte, ldw int)

// gemvBF16NEON is gemvF32NEON with bfloat16 weight rows.
//
//go:noescape
func gemvBF16NEON(y []float32, x []float32, w []byte, ldw int)

// gemmF16x4NEON is gemmF32x4NEON with IEEE half weight rows.
//
//go:noescape
func gemmF16x4NEON(y []float32, ldy int, x []float32, ldx int, w []byte, ldw int, n int, k int, pf []byte)

// gemvF16NEON is gemvF32NEON with IEEE half weight rows.
//
//go:noescape
func gemvF16NEON(y []float32, x []float32, w []byte, ldw int)

var (
	f32NEON  = floatKernels{4, 4, gemmF32x4NEON, gemvF32NEON}
	bf16NEON = floatKernels{2, 4, gemmBF16x4NEON, gemvBF16NEON}
	f16NEON  = floatKernels{2, 4, gemmF16x4NEON, gemvF16NEON}
)

// gemmQ8_0x4NEON sets y[i*ldy+j] += dotQ8_0Generic(W_j, x[i*ldx:][:nb*36]) for i < 4,
// j < n, W_j = w[j*ldw:] (up to float32 summation order). n > 0, nb > 0. Needs DotProd.
//
//go:noescape
func gemmQ8_0x4NEON(y []float32, ldy int, x []byte, ldx int, w []byte, ldw int, n int, nb int)

// gemmQ4_0x4NEON is gemmQ8_0x4NEON for Q4_0 weights (dotQ4_0Generic).
//
//go:noescape
func gemmQ4_0x4NEON(y []float32, ldy int, x []byte, ldx int, w []byte, ldw int, n int, nb int)

// gemvQ8_0NEON sets y[j] += dotQ8_0Generic(W_j, x[:nb*36]) for j < len(y), W_j = w[j*ldw:].
// nb > 0. Needs DotProd.
//
//go:noescape
func gemvQ8_0NEON(y []float32, x []byte, w []byte, ldw int, nb int)

// gemvQ4_0NEON is gemvQ8_0NEON for Q4_0 weights.
//
//go:noescape
func gemvQ4_0NEON(y []float32, x []byte, w []byte, ldw int, nb int)

var (
	q8_0NEON = quantKernels{k4: gemmQ8_0x4NEON, gemv: gemvQ8_0NEON}
	q4_0NEON = quantKernels{k4: gemmQ4_0x4NEON, gemv: gemvQ4_0NEON}
)

// gemmQ4_Kx4NEON is gemmQ8_0x4NEON for Q4_K weights against Q8_K activation blocks
// (dotQ4_KGeneric, 292-byte blocks).
//
//go:noescape
func gemmQ4_Kx4NEON(y []float32, ldy int, x []byte, ldx int, w []byte, ldw int, n int, nb int)

// gemvQ4_KNEON is gemvQ8_0NEON for Q4_K weights (dotQ4_KGeneric).
//
//go:noescape
func gemvQ4_KNEON(y []float32, x []byte, w []byte, ldw int, nb int)

// gemmQ6_Kx4NEON is gemmQ8_0x4NEON for Q6_K weights against Q8_K activation blocks
// (dotQ6_KGeneric).
//
//go:noescape
func gemmQ6_Kx4NEON(y []float32, ldy int, x []byte, ldx int, w []byte, ldw int, n int, nb int)

// gemvQ6_KNEON is gemvQ8_0NEON for Q6_K weights (dotQ6_KGeneric).
//
//go:noescape
func gemvQ6_KNEON(y []float32, x []byte, w []byte, ldw int, nb int)

var (
	q4_KNEON = quantKernels{k4: gemmQ4_Kx4NEON, gemv: gemvQ4_KNEON}
	q6_KNEON = quantKernels{k4: gemmQ6_Kx4NEON, gemv: gemvQ6_KNEON}
)
