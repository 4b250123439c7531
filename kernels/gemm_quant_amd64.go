//go:build gc && !purego

package kernels

// Quantized matrix-multiply kernels (gemm_q8_amd64.s, gemm_q4k_amd64.s,
// gemm_q6k_amd64.s). x holds activation blocks in the xPrep layout; each doc comment is
// the exact Go specification.

// gemmQ8_0x4AVX2 sets y[i*ldy+j] += dotQ8_0Generic(W_j, x[i*ldx:][:nb*36]) for i < 4,
// j < n, W_j = w[j*ldw:] (up to float32 summation order). n > 0, nb > 0.
//
//go:noescape
func gemmQ8_0x4AVX2(y []float32, ldy int, x []byte, ldx int, w []byte, ldw int, n int, nb int)

// gemmQ4_0x4AVX2 is gemmQ8_0x4AVX2 for Q4_0 weights (dotQ4_0Generic).
//
//go:noescape
func gemmQ4_0x4AVX2(y []float32, ldy int, x []byte, ldx int, w []byte, ldw int, n int, nb int)

// gemvQ8_0AVX2 sets y[j] += dotQ8_0Generic(W_j, x[:nb*36]) for j < len(y), W_j = w[j*ldw:].
// nb > 0.
//
//go:noescape
func gemvQ8_0AVX2(y []float32, x []byte, w []byte, ldw int, nb int)

// gemvQ4_0AVX2 is gemvQ8_0AVX2 for Q4_0 weights.
//
//go:noescape
func gemvQ4_0AVX2(y []float32, x []byte, w []byte, ldw int, nb int)

var (
	q8_0AVX2 = quantKernels{k4: gemmQ8_0x4AVX2, gemv: gemvQ8_0AVX2}
	q4_0AVX2 = quantKernels{k4: gemmQ4_0x4AVX2, gemv: gemvQ4_0AVX2}
)

// gemmQ4_Kx4AVX2 is gemmQ8_0x4AVX2 for Q4_K weights against Q8_K activation blocks
// (dotQ4_KGeneric, 292-byte blocks).
//
//go:noescape
func gemmQ4_Kx4AVX2(y []float32, ldy int, x []byte, ldx int, w []byte, ldw int, n int, nb int)

// gemvQ4_KAVX2 is gemvQ8_0AVX2 for Q4_K weights (dotQ4_KGeneric).
//
//go:noescape
func gemvQ4_KAVX2(y []float32, x []byte, w []byte, ldw int, nb int)

// gemmQ6_Kx4AVX2 is gemmQ8_0x4AVX2 for Q6_K weights against Q8_K activation blocks
// (dotQ6_KGeneric).
//
//go:noescape
func gemmQ6_Kx4AVX2(y []float32, ldy int, x []byte, ldx int, w []byte, ldw int, n int, nb int)

// gemvQ6_KAVX2 is gemvQ8_0AVX2 for Q6_K weights (dotQ6_KGeneric).
//
//go:noescape
func gemvQ6_KAVX2(y []float32, x []byte, w []byte, ldw int, nb int)

// gemmQ4_KX8xNAVX2 is gemmQ4_Kx4AVX2 for 2 ≤ rows ≤ 4 activation rows and weights in
// the q4KX8 layout (repack.go), n a multiple of 8 and ldw the bytes per row (8·ldw per
// group of 8), bit-identical to dotQ4_KGeneric.
//
//go:noescape
func gemmQ4_KX8xNAVX2(y []float32, ldy int, x []byte, ldx int, w []byte, ldw int, n int, nb int, rows int, pf []byte)

// gemvQ4_KX8AVX2 is gemvQ4_KAVX2 for weights in the q4KX8 layout, len(y) a multiple of
// 8, bit-identical to dotQ4_KGeneric.
//
//go:noescape
func gemvQ4_KX8AVX2(y []float32, x []byte, w []byte, ldw int, nb int)

// gemmQ6_KX8xNAVX2 is gemmQ6_Kx4AVX2 for 2 ≤ rows ≤ 4 activation rows and weights in
// the q6KX8 layout (repack.go), n a multiple of 8 and ldw the bytes per row (8·ldw per
// group of 8), bit-identical to dotQ6_KGeneric.
//
//go:noescape
func gemmQ6_KX8xNAVX2(y []float32, ldy int, x []byte, ldx int, w []byte, ldw int, n int, nb int, rows int, pf []byte)

// gemvQ6_KX8AVX2 is gemvQ6_KAVX2 for weights in the q6KX8 layout, len(y) a multiple of
// 8, bit-identical to dotQ6_KGeneric.
//
//go:noescape
func gemvQ6_KX8AVX2(y []float32, x []byte, w []byte, ldw int, nb int)

// gemmQ8_0X8xNAVX2 is gemmQ8_0x4AVX2 for 2 ≤ rows ≤ 4 activation rows and weights in
// the q8X8 layout (repack.go), n a multiple of 8 and ldw the bytes per row (8·ldw per
// group of 8), bit-identical to dotQ8_0Generic.
//
//go:noescape
func gemmQ8_0X8xNAVX2(y []float32, ldy int, x []byte, ldx int, w []byte, ldw int, n int, nb int, rows int, pf []byte)

// gemvQ8_0X8AVX2 is gemvQ8_0AVX2 for weights in the q8X8 layout, len(y) a multiple of
// 8, bit-identical to dotQ8_0Generic.
//
//go:noescape
func gemvQ8_0X8AVX2(y []float32, x []byte, w []byte, ldw int, nb int)

var (
	q8_0X8AVX2 = quantKernels{kN: gemmQ8_0X8xNAVX2, gemv: gemvQ8_0X8AVX2}
	q4_KX8AVX2 = quantKernels{kN: gemmQ4_KX8xNAVX2, gemv: gemvQ4_KX8AVX2}
	q6_KX8AVX2 = quantKernels{kN: gemmQ6_KX8xNAVX2, gemv: gemvQ6_KX8AVX2}
	q4_KAVX2   = quantKernels{k4: gemmQ4_Kx4AVX2, gemv: gemvQ4_KAVX2}
	q6_KAVX2   = quantKernels{k4: gemmQ6_Kx4AVX2, gemv: gemvQ6_KAVX2}
)

// gemvPrefetch is how far ahead (bytes) the one-row quantized kernels (gemvQ*) and
// the repacked 2–4-row ones (gemm*X8xN*, whose first pass over a tile streams it from
// memory) prefetch their weight stream: a single stream per thread leaves DRAM latency
// exposed between the hardware prefetcher's requests. 2–4 KiB measured best on the
// 2-core Zen 3 (file pages); on the 2-vCPU AVX-512 Xeon, streaming 1000 expert-sized
// matrices, 2 KiB was within noise of the best distance for every format and row count
// from huge and small pages alike, while 3 KiB lost up to 10 % on huge pages (the
// repacked Q8_0 kernels, one row: 30.1 GB/s against 27.4).
var gemvPrefetch = 2048

// gemvX16Prefetch is gemvPrefetch for the one-row kernels of the 16-wide Q4_K and
// Q8_0 layouts (gemvQ4_KX16VNNI, gemvQ8_0X16VNNI). On AMD they stream fastest with no
// distance (0: a group's lines are requested as it starts). On the 2-vCPU Zen 4 EPYC,
// BenchmarkOneRowPrefetch (three runs, 1 and 2 threads) read Q4_K at 28–35 GB/s with 0
// against 21–28 with 2 KiB, Q8_0 at 32–43 against 30–40; 512 B and 4 KiB stayed well
// below 0 for Q4_K and a little below for Q8_0. The Q6_K one-row kernel read 16–26
// with 0 against 25–31 and keeps gemvPrefetch, as do the 2–4-row kernels (every
// distance 0 slowed the first step of a block, whose experts mostly take 2–4 rows, by
// 6 % on the 20-layer mini q8_0).
// Intel keeps 2 KiB, the distance measured there.
var gemvX16Prefetch = func() int {
	if isAMD {
		return 0
	}
	return gemvPrefetch
}()

// gemmX16L2Prefetch, where not 0, has the 2–4-row kernels of the 16-wide Q4_K and Q6_K
// layouts (gemmQ4_KX16xNVNNI, gemmQ6_KX16xNVNNI) prefetch their first pass over a tile
// this far ahead into L2 (PREFETCHT2) instead of gemvPrefetch ahead into L1. On AMD
// the L1 prefetches left the cold stream little overlap with the arithmetic. On the
// 2-vCPU Zen 4 EPYC, 256 MiB of cold 1024×2048 matrices (two rounds) read, at M=2, 3
// and 4 on one thread: Q4_K 20.8–21.8, 21.1–21.8 and 22.2–22.9 GB/s against
// 18.9–19.6, 18.0–18.3 and 15.5–15.9 with 2 KiB into L1 (8–48 KiB into L2 all within
// 6 % of 12 KiB; 2 KiB into L2 was slower), Q6_K 27.0–28.7, 26.1–26.5 and 22.1–22.7
// against 20.1–20.2, 16.1–16.3 and 14.5–15.1; on two threads, where memory bound
// them, Q4_K 26.8–27.0, 26.5–26.6 and 26.6–26.8 against 27.0–27.1, 26.5–26.7 and
// 24.5–24.7, Q6_K 29.6–29.9, 27.4–28.1 and 24.3–25.0 against 26.2–26.9, 22.7–23.2 and
// 21.2–21.6. The Q8_0 kernel lost at 2 rows with it and keeps L1. Intel keeps
// gemvPrefetch into L1, the distance measured there.
var gemmX16L2Prefetch = func() int {
	if isAMD {
		return 12 << 10
	}
	return 0
}()

// gemmQ8_0x4VNNI is gemmQ8_0x4AVX2 on AVX-512 VNNI, bit-identical to it, with the
// activation quants flipped (flipQ8VNNI).
//
//go:noescape
func gemmQ8_0x4VNNI(y []float32, ldy int, x []byte, ldx int, w []byte, ldw int, n int, nb int)

// gemvQ8_0VNNI is gemvQ8_0AVX2 on AVX-512 VNNI, bit-identical to it, with the
// activation quants flipped (flipQ8VNNI).
//
//go:noescape
func gemvQ8_0VNNI(y []float32, x []byte, w []byte, ldw int, nb int)

// flipQ8VNNI sets the n blocks of dst to the n Q8_0 activation blocks of src
// (q8BlockBytes each) with their quants XOR 0x80: q+128, what VPDPBUSD takes unsigned.
// n > 0.
//
//go:noescape
func flipQ8VNNI(dst []byte, src []byte, n int)

var q8_0VNNI = quantKernels{k4: gemmQ8_0x4VNNI, gemv: gemvQ8_0VNNI, alt: true}

// prepQ8VNNI flips the Q8_0 activation quants for q8_0VNNI (into xPrep.alt).
var prepQ8VNNI = &actLayout{blockBytes: q8BlockBytes, fill: func(dst, src []byte, n int) {
	if n == 0 {
		return
	}
	raceReadBytes(src[:n*q8BlockBytes])
	raceWriteBytes(dst[:n*q8BlockBytes])
	flipQ8VNNI(dst, src[:n*q8BlockBytes], n)
}}

// gemmQ8_0X16xNVNNI is gemmQ8_0x4AVX2 for 2 ≤ rows ≤ 4 activation rows and weights in
// the q8X16 layout (repack.go), n a multiple of 16 and ldw the bytes per row (16·ldw
// per group of 16), against activation blocks in prepQ8X8's layout; bit-identical to
// dotQ8_0Generic.
//
//go:noescape
func gemmQ8_0X16xNVNNI(y []float32, ldy int, x []byte, ldx int, w []byte, ldw int, n int, nb int, rows int, pf []byte)

// gemvQ8_0X16VNNI is gemvQ8_0AVX2 for weights in the q8X16 layout, len(y) a multiple
// of 16, against activation blocks in prepQ8X8's layout; bit-identical to
// dotQ8_0Generic.
//
//go:noescape
func gemvQ8_0X16VNNI(y []float32, x []byte, w []byte, ldw int, nb int)

var q8_0X16VNNI = quantKernels{kN: gemmQ8_0X16xNVNNI, gemv: gemvQ8_0X16VNNI, alt: true}

// gemmQ4_KX16xNVNNI is gemmQ4_KX8xNAVX2 on AVX-512 VNNI (512-bit vectors) for
// weights in the q4KX16 layout, n a multiple of 16 (16·ldw bytes per group of 16),
// bit-identical to it and to dotQ4_KGeneric.
//
//go:noescape
func gemmQ4_KX16xNVNNI(y []float32, ldy int, x []byte, ldx int, w []byte, ldw int, n int, nb int, rows int, pf []byte)

// gemvQ4_KX16VNNI is gemvQ4_KX8AVX2 on AVX-512 VNNI for weights in the q4KX16 layout,
// len(y) a multiple of 16, bit-identical to it and to dotQ4_KGeneric.
//
//go:noescape
func gemvQ4_KX16VNNI(y []float32, x []byte, w []byte, ldw int, nb int)

var q4_KX16VNNI = quantKernels{kN: gemmQ4_KX16xNVNNI, gemv: gemvQ4_KX16VNNI}

// gemmQ6_KX16xNVNNI is gemmQ6_KX8xNAVX2 on AVX-512 (BW, VNNI) with 512-bit vectors for
// weights in the q6KX16 layout, n a multiple of 16 (16·ldw bytes per group of 16),
// bit-identical to it and to dotQ6_KGeneric.
//
//go:noescape
func gemmQ6_KX16xNVNNI(y []float32, ldy int, x []byte, ldx int, w []byte, ldw int, n int, nb int, rows int, pf []byte)

// gemvQ6_KX16VNNI is gemvQ6_KX8AVX2 on AVX-512 (BW, VNNI) for weights in the q6KX16
// layout, len(y) a multiple of 16, bit-identical to it and to dotQ6_KGeneric.
//
//go:noescape
func gemvQ6_KX16VNNI(y []float32, x []byte, w []byte, ldw int, nb int)

var q6_KX16VNNI = quantKernels{kN: gemmQ6_KX16xNVNNI, gemv: gemvQ6_KX16VNNI}

// The activation blocks of the q8X16 kernels: the Q8_0 block (float32 d, 32 int8)
// then int32 −128·Σq, the term that takes the weights' +128 back off.
const (
	q8X8ActCorrOff    = q8BlockBytes
	q8X8ActBlockBytes = q8X8ActCorrOff + 4
)

// prepQ8X8 lays the Q8_0 activation blocks out for q8_0X16VNNI (into xPrep.alt):
// each block, then −128·Σq, quantized straight into that layout.
var prepQ8X8 = &actLayout{blockBytes: q8X8ActBlockBytes, quant: quantQ8X8AVX2Go}

// quantQ8X8AVX2 is quantQ8AVX2 with each block followed by int32 −128·Σq of its quants
// (prepQ8X8's layout), in one pass: quantizing, then copying the blocks and summing
// them in Go took 60 % of a 4-row multiply by a 64×2048 Q8_0 matrix (7.9 µs a call,
// 6.9 in one pass; one thread, Zen 4).
//
//go:noescape
func quantQ8X8AVX2(dst []byte, x []float32)

func quantQ8X8AVX2Go(dst []byte, x []float32) {
	quantRows(quantQ8X8AVX2, dst, x, 32, q8X8ActBlockBytes)
}
