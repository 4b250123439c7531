// Package kernels holds the numeric primitives of dllm: matrix multiplies against weights
// stored in F32, F16, BF16 and the GGUF block formats (Q8_0, Q4_0, Q4_K, Q6_K), and the
// vector kernels a transformer layer needs (dot, axpy, RMSNorm, SiLU, softmax, rotary
// embedding, argmax/top-k, float conversions).
//
// Every kernel has a portable Go reference that is always compiled. On amd64
// (AVX2+FMA+F16C) and arm64 (NEON) the hot loops also have assembly implementations,
// chosen once at start-up from golang.org/x/sys/cpu; the build tag purego removes the
// assembly. [Implementations] lists what the running machine supports, and
// [SetImplementation] toggles them (for tests and benchmarks).
//
// # Accuracy
//
// Activations are float32. Each kernel documents its accuracy contract:
//
//   - F32/F16/BF16 matmul widens the weights to float32 exactly and accumulates in
//     float32; implementations differ only in summation order, so results agree with a
//     float64 reference to about K·2⁻²⁴·Σ|x·w|.
//   - Q8_0/Q4_0 matmul quantizes each row of x once per call to Q8_0 blocks (32 int8 with an
//     f16-rounded scale, ggml's quantize_row_q8_0); Q4_K/Q6_K quantize x to Q8_K blocks
//     (256 int8, float32 scale, int16 sums of each 16, ggml's quantize_row_q8_K). Inner
//     products are exact integer sums per block, combined in float32 as ggml's
//     vec_dot_q*_q8_* do; implementations differ only in the float32 order of the
//     per-block combination.
//   - Reductions that feed a normalization (RMSNorm's sum of squares, softmax's sum) are
//     accumulated in float64.
//
// # Threads
//
// A [Pool] splits matrix multiplies into tiles of output columns (weight rows). Each
// assembly call is bounded to a few tens of microseconds, because assembly is not
// preemptible.
package kernels
