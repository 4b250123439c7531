//go:build gc && !purego

package kernels

// Float format conversions (convert_amd64.s): each covers the first len&^15 values and
// gives the generic code's bits; the wrappers finish the tail and report memory to the
// race detector.

//go:noescape
func f16ToF32AVX2(dst []float32, src []byte)

//go:noescape
func f32ToF16AVX2(dst []byte, src []float32)

//go:noescape
func bf16ToF32AVX2(dst []float32, src []byte)

//go:noescape
func f32ToBF16AVX2(dst []byte, src []float32)

func f16ToF32AVX2Go(dst []float32, src []byte)  { widen(f16ToF32AVX2, f16ToF32Generic, dst, src) }
func bf16ToF32AVX2Go(dst []float32, src []byte) { widen(bf16ToF32AVX2, bf16ToF32Generic, dst, src) }
func f32ToF16AVX2Go(dst []byte, src []float32)  { narrow(f32ToF16AVX2, f32ToF16Generic, dst, src) }
func f32ToBF16AVX2Go(dst []byte, src []float32) { narrow(f32ToBF16AVX2, f32ToBF16Generic, dst, src) }
