//go:build gc && !purego

package kernels

// Float format conversions (convert_arm64.s): each covers the first len&^15 values and
// gives the generic code's bits; the wrappers finish the tail and report memory to the
// race detector.

//go:noescape
func f16ToF32NEON(dst []float32, src []byte)

//go:noescape
func f32ToF16NEON(dst []byte, src []float32)

//go:noescape
func bf16ToF32NEON(dst []float32, src []byte)

//go:noescape
func f32ToBF16NEON(dst []byte, src []float32)

func f16ToF32NEONGo(dst []float32, src []byte)  { widen(f16ToF32NEON, f16ToF32Generic, dst, src) }
func bf16ToF32NEONGo(dst []float32, src []byte) { widen(bf16ToF32NEON, bf16ToF32Generic, dst, src) }
func f32ToF16NEONGo(dst []byte, src []float32)  { narrow(f32ToF16NEON, f32ToF16Generic, dst, src) }
func f32ToBF16NEONGo(dst []byte, src []float32) { narrow(f32ToBF16NEON, f32ToBF16Generic, dst, src) }
