//go:build gc && !purego

#include "textflag.h"
#include "neon_arm64.h"

// Float format conversions, 16 values per loop; the Go wrappers (convert_arm64.go)
// finish the tails. Each gives exactly the generic code's bits. FCVTL and FCVTN convert
// as IEEE half (FPCR.AHP = 0) with round-to-nearest-even, keep subnormals (FZ = 0) and
// quiet NaNs keeping their payload's top bits (DN = 0): Go programs run with FPCR = 0.
// ARMv8.0 has no BFCVTN, so float32 → bfloat16 rounds with integer steps.

// The conversions the Go assembler lacks are WORD-encoded (neon_arm64.h).

#define PS R0 // source
#define PD R1 // destination
#define N R2  // values left (a multiple of 16)

// func f16ToF32NEON(dst []float32, src []byte)
// Requires: NEON
//
//	for i < len(dst)&^15: dst[i] = float32(half src[2i:2i+2])
TEXT ·f16ToF32NEON(SB), NOSPLIT, $0-48
	MOVD dst_base+0(FP), PD
	MOVD dst_len+8(FP), N
	AND  $~15, N, N
	MOVD src_base+24(FP), PS
	CBZ  N, done

loop:
	VLD1.P 32(PS), [V0.H8, V1.H8]
	FCVTL_4S(2, 0)
	FCVTL2_4S(3, 0)
	FCVTL_4S(4, 1)
	FCVTL2_4S(5, 1)
	VST1.P [V2.S4, V3.S4, V4.S4, V5.S4], 64(PD)
	SUBS   $16, N, N
	BNE    loop

done:
	RET

// func f32ToF16NEON(dst []byte, src []float32)
// Requires: NEON
//
//	for i < len(src)&^15: dst[2i:2i+2] = half(src[i]), to nearest even
TEXT ·f32ToF16NEON(SB), NOSPLIT, $0-48
	MOVD dst_base+0(FP), PD
	MOVD src_base+24(FP), PS
	MOVD src_len+32(FP), N
	AND  $~15, N, N
	CBZ  N, done

loop:
	VLD1.P 64(PS), [V0.S4, V1.S4, V2.S4, V3.S4]
	FCVTN_4H(4, 0)
	FCVTN2_8H(4, 1)
	FCVTN_4H(5, 2)
	FCVTN2_8H(5, 3)
	VST1.P [V4.H8, V5.H8], 32(PD)
	SUBS   $16, N, N
	BNE    loop

done:
	RET

// func bf16ToF32NEON(dst []float32, src []byte)
// Requires: NEON
//
//	for i < len(dst)&^15: dst[i] = float32 with bits uint32(bf16 src[2i:2i+2]) << 16
TEXT ·bf16ToF32NEON(SB), NOSPLIT, $0-48
	MOVD dst_base+0(FP), PD
	MOVD dst_len+8(FP), N
	AND  $~15, N, N
	MOVD src_base+24(FP), PS
	VEOR V31.B16, V31.B16, V31.B16
	CBZ  N, done

loop:
	VLD1.P 32(PS), [V0.H8, V1.H8]
	VZIP1  V0.H8, V31.H8, V2.H8 // (0, h) pairs: h in each word's high half
	VZIP2  V0.H8, V31.H8, V3.H8
	VZIP1  V1.H8, V31.H8, V4.H8
	VZIP2  V1.H8, V31.H8, V5.H8
	VST1.P [V2.S4, V3.S4, V4.S4, V5.S4], 64(PD)
	SUBS   $16, N, N
	BNE    loop

done:
	RET

#define ODD V28  // 0x00010000 in every lane: the bit that becomes bfloat16's lowest
#define HALF V29 // 0x7fff in every lane
#define QBIT V30 // 0x00400000 in every lane: bfloat16's quiet bit, in the high half

// BF16(v, t, r, vn, tn) turns the 4 float32s in v into their bfloat16 bits, in the high
// half of each lane of v (the low half is left as garbage):
//	b = bits(v); NaN: b>>16 | 0x40 (quiet); else (b + 0x7fff + (b>>16 & 1)) >> 16
// r = b + 0x7fff, plus b>>16 & 1 (USRA of b & 0x10000) so a tie rounds to the even
// neighbour; t = FCMEQ(v, v) marks the lanes that are not NaN; the NaN lanes keep
// b | 0x400000, the quiet bit in the high half. vn and tn are the numbers of v and t.
// Clobbers t and r.
#define BF16(v, t, r, vn, tn) \
	VAND  ODD.B16, v.B16, t.B16  \
	VADD  HALF.S4, v.S4, r.S4    \
	VUSRA $16, t.S4, r.S4        \
	FCMEQ_4S(tn, vn, vn)         \
	VORR  QBIT.B16, v.B16, v.B16 \
	VBIT  t.B16, r.B16, v.B16

// func f32ToBF16NEON(dst []byte, src []float32)
// Requires: NEON
//
//	for i < len(src)&^15: dst[2i:2i+2] = bf16Bits(src[i]) (nearest even; NaNs quieted)
TEXT ·f32ToBF16NEON(SB), NOSPLIT, $0-48
	MOVD dst_base+0(FP), PD
	MOVD src_base+24(FP), PS
	MOVD src_len+32(FP), N
	AND  $~15, N, N
	CBZ  N, done
	MOVW $0x00010000, R3
	VDUP R3, ODD.S4
	MOVW $0x7fff, R3
	VDUP R3, HALF.S4
	MOVW $0x00400000, R3
	VDUP R3, QBIT.S4

loop:
	VLD1.P 64(PS), [V0.S4, V1.S4, V2.S4, V3.S4]
	BF16(V0, V4, V16, 0, 4)
	BF16(V1, V5, V17, 1, 5)
	BF16(V2, V6, V18, 2, 6)
	BF16(V3, V7, V19, 3, 7)
	VUZP2  V1.H8, V0.H8, V0.H8 // the high halves, in order
	VUZP2  V3.H8, V2.H8, V1.H8
	VST1.P [V0.H8, V1.H8], 32(PD)
	SUBS   $16, N, N
	BNE    loop

done:
	RET
