package kernels

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/x448/float16"
)

// BF16ToF32 widens the len(dst) little-endian bfloat16 values in src (2·len(dst) bytes)
// to float32, exactly.
func BF16ToF32(dst []float32, src []byte) {
	if len(src) != 2*len(dst) {
		panic(fmt.Sprintf("kernels: BF16ToF32: %d bytes for %d values", len(src), len(dst)))
	}
	active.bf16ToF32(dst, src)
}

func bf16ToF32Generic(dst []float32, src []byte) {
	for i := range dst {
		dst[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(src[2*i:])) << 16)
	}
}

// F16ToF32 widens the len(dst) little-endian IEEE half values in src to float32, exactly.
func F16ToF32(dst []float32, src []byte) {
	if len(src) != 2*len(dst) {
		panic(fmt.Sprintf("kernels: F16ToF32: %d bytes for %d values", len(src), len(dst)))
	}
	active.f16ToF32(dst, src)
}

func f16ToF32Generic(dst []float32, src []byte) {
	for i := range dst {
		dst[i] = float16.Frombits(binary.LittleEndian.Uint16(src[2*i:])).Float32()
	}
}

// F32ToBF16 narrows src to little-endian bfloat16 in dst (2·len(src) bytes), rounding to
// nearest even; NaNs stay (quiet) NaNs.
func F32ToBF16(dst []byte, src []float32) {
	if len(dst) != 2*len(src) {
		panic(fmt.Sprintf("kernels: F32ToBF16: %d bytes for %d values", len(dst), len(src)))
	}
	active.f32ToBF16(dst, src)
}

func f32ToBF16Generic(dst []byte, src []float32) {
	for i, v := range src {
		binary.LittleEndian.PutUint16(dst[2*i:], bf16Bits(v))
	}
}

func bf16Bits(v float32) uint16 {
	b := math.Float32bits(v)
	if v != v {
		return uint16(b>>16) | 0x40
	}
	b += 0x7FFF + (b >> 16 & 1)
	return uint16(b >> 16)
}

// F32ToF16 narrows src to little-endian IEEE half in dst, rounding to nearest even
// (overflow becomes ±Inf, NaNs stay NaNs).
func F32ToF16(dst []byte, src []float32) {
	if len(dst) != 2*len(src) {
		panic(fmt.Sprintf("kernels: F32ToF16: %d bytes for %d values", len(dst), len(src)))
	}
	active.f32ToF16(dst, src)
}

func f32ToF16Generic(dst []byte, src []float32) {
	for i, v := range src {
		binary.LittleEndian.PutUint16(dst[2*i:], float16.Fromfloat32(v).Bits())
	}
}
