// Package kernels holds the numeric primitives of dllm: matrix multiplies against weights
// stored in F32, F16, BF16 and the GGUF block formats (Q8_0, Q4_0, Q4_K, Q6_K), and the
// vector kernels a transformer layer needs (dot, axpy, RMSNorm, SiLU, softmax, rotary
// embedding, argmax/top-k, float conversions, Q8_0 quantization).
//
// # Implementations
//
// Every kernel has a portable Go reference (the "generic" implementation), always
// compiled and used for whatever an assembly implementation does not cover:
//
//   - "avx2" (amd64; AVX2, FMA and F16C): matrix multiply for all seven formats (Q8_0,
//     Q4_K and Q6_K also on their 8-row repacked layouts) with the quantization of x to
//     Q8_0/Q8_K blocks, Dot, Axpy, Add, Scale, SiLUMul,
//     Softmax's maximum, exponentials and scaling, RMSNorm's float64 sum of squares
//     and final multiply, and the f16/bf16 conversions (the generic code's bits).
//   - "avx512vnni" (amd64 with AVX-512 VNNI, VL and BW): Q8_0 matrix multiply, and
//     Q4_K's and Q6_K's on their 16-row repacked layouts, with VPDPBUSD and VPDPWSSD
//     (512-bit vectors on the repacked layouts, 256-bit on the file's), bit-identical
//     to "avx2"'s (everything else from "avx2").
//   - "neon" (arm64): F32/BF16/F16 matrix multiply, the same vector kernels (Dot, Axpy,
//     Add, Scale, SiLUMul, Softmax's maximum, exponentials and scaling, and RMSNorm's
//     float64 sum of squares and final multiply), the quantization of x to Q8_0/Q8_K
//     blocks, and the f16/bf16 conversions (the generic code's bits).
//   - "neon-dotprod" (arm64 with FEAT_DotProd): adds Q8_0/Q4_0/Q4_K/Q6_K matrix multiply
//     using SDOT.
//
// The best available implementation is chosen once at start-up from golang.org/x/sys/cpu
// (which honours GODEBUG=cpu.avx2=off and the like); the build tag purego removes the
// assembly. [Implementations] lists what the binary holds and [Use] /
// [SetImplementation] switch them, for tests and benchmarks.
//
// # Accuracy
//
// Activations are float32. Per kernel, relative to an exact (float64) evaluation:
//
//   - MatMul, F32/F16/BF16 weights: weights are widened to float32 exactly, products are
//     accumulated in float32 (FMA in the assembly, in 8 or 4 lanes and K-chunks of 1024):
//     |error| ≤ (K+16)·2⁻²⁴·Σ_k|x_k·w_k|.
//   - MatMul, Q8_0/Q4_0 weights: each row of x is quantized once per call to Q8_0 blocks
//     (ggml's quantize_row_q8_0: d = max|x|/127 rounded to f16, q = round(x/d)); Q4_K/Q6_K
//     weights: to Q8_K blocks (ggml's quantize_row_q8_K: 256 int8 with a float32 scale
//     and int16 sums of each 16). The sum over a block is an exact integer in every
//     implementation, scaled and combined in float32 as ggml's vec_dot_q*_q8_* do;
//     implementations differ only in the order of those float32 additions:
//     |error| ≤ (4·K/blocksize+16)·2⁻²⁴·Σ|xq_k|·(|a_k|+|b_k|) against the quantized x,
//     where a_k − b_k is the weight before any cancellation (b only for Q4_K's mins).
//     The quantization of x itself is the documented approximation (the same bytes in
//     every implementation; a block whose scale would overflow, all zero or below
//     2⁻¹²⁸, quantizes to zeros; one holding a NaN or an infinity to a NaN scale, so
//     that its row of the product is NaN).
//   - Dot: float32 accumulation, |error| ≤ (n+2)·2⁻²⁴·Σ|a·b|. Axpy: one rounding in the
//     assembly (FMA), two in the reference. Add, Scale: exact, bit-identical everywhere.
//   - RMSNorm: sum of squares in float64, scale rounded once, then (x·s)·w with two
//     float32 roundings: identical bits in every implementation up to the float64 sum
//     order, within 3·2⁻²⁴ relative.
//   - SiLUMul: the reference evaluates in float64 and rounds once; the assembly kernels
//     (AVX2 and NEON) use a float32 polynomial exponential: within 8·2⁻²⁴ relative for
//     gates ≥ −87 (below, all are under 2⁻¹²⁰·|gate·up|). Softmax: float64 sum, one
//     rounding per output; exponentials in float64 (reference, within 2·2⁻²⁴) or by the
//     same polynomial (AVX2 and NEON: within 8·2⁻²⁴ relative plus 2⁻¹²⁵ absolute).
//     RoPENeoX: two rounded products and a rounded sum.
//
// Results are reproducible: for a given implementation, a row of a matrix product has
// the same bits whatever M, the row's position in x and the number of threads.
//
// # Threads and tiles
//
// A [Pool] splits a matrix multiply into tiles of weight rows (multiples of 12, sized
// so a tile's weights stay in L2 while every row of x passes over them, at least four
// tiles per thread when N allows, and at most ~2²² multiply-adds each). Float weights
// at M ≥ 4 run in strips of consecutive tiles, about four per thread, and each tile's
// kernel prefetches the next tile of its strip, so the weights stream from memory
// while the previous tile computes. So do repacked quantized weights at M ≥ 6, whose
// 2–4-row kernels prefetch the next tile in the passes after the first (the first
// streams the tile itself). With one row of x the tiles are long runs of
// weight rows that the one-row kernels stream with software prefetch (a distance per
// kernel and CPU vendor, measured by BenchmarkOneRowPrefetch). Within a tile
// the assembly takes 4 rows of x at a time against 3 (AVX2) or 4 (NEON) weight rows
// for floats, so each weight vector is loaded once per 4 rows of x, and one weight
// row at a time for quantized blocks, decoded once per 4 rows of x. Each assembly call
// is bounded to a few tens of microseconds: assembly is not preemptible.
package kernels
