//go:build gc && !purego

#include "textflag.h"

// Float format conversions, 16 values per loop; the Go wrappers (convert_amd64.go)
// finish the tails. Each gives exactly the generic code's bits: F16C converts with
// round-to-nearest-even (imm 0), quiets NaNs and keeps their payload's top bits, as the
// reference does.

#define PS SI // source
#define PD DI // destination
#define N CX  // values left (a multiple of 16)

// func f16ToF32AVX2(dst []float32, src []byte)
// Requires: AVX, F16C
//
//	for i < len(dst)&^15: dst[i] = float32(half src[2i:2i+2])
TEXT ·f16ToF32AVX2(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), PD
	MOVQ dst_len+8(FP), N
	ANDQ $~15, N
	MOVQ src_base+24(FP), PS
	JZ   done

loop:
	VCVTPH2PS (PS), Y0
	VCVTPH2PS 16(PS), Y1
	VMOVUPS   Y0, (PD)
	VMOVUPS   Y1, 32(PD)
	ADDQ      $32, PS
	ADDQ      $64, PD
	SUBQ      $16, N
	JNZ       loop
	VZEROUPPER

done:
	RET

// func f32ToF16AVX2(dst []byte, src []float32)
// Requires: AVX, F16C
//
//	for i < len(src)&^15: dst[2i:2i+2] = half(src[i]), to nearest even
TEXT ·f32ToF16AVX2(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), PD
	MOVQ src_base+24(FP), PS
	MOVQ src_len+32(FP), N
	ANDQ $~15, N
	JZ   done

loop:
	VMOVUPS   (PS), Y0
	VMOVUPS   32(PS), Y1
	VCVTPS2PH $0, Y0, (PD)
	VCVTPS2PH $0, Y1, 16(PD)
	ADDQ      $64, PS
	ADDQ      $32, PD
	SUBQ      $16, N
	JNZ       loop
	VZEROUPPER

done:
	RET

// func bf16ToF32AVX2(dst []float32, src []byte)
// Requires: AVX, AVX2
//
//	for i < len(dst)&^15: dst[i] = float32 with bits uint32(bf16 src[2i:2i+2]) << 16
TEXT ·bf16ToF32AVX2(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), PD
	MOVQ dst_len+8(FP), N
	ANDQ $~15, N
	MOVQ src_base+24(FP), PS
	JZ   done

loop:
	VPMOVZXWD (PS), Y0
	VPMOVZXWD 16(PS), Y1
	VPSLLD    $16, Y0, Y0
	VPSLLD    $16, Y1, Y1
	VMOVDQU   Y0, (PD)
	VMOVDQU   Y1, 32(PD)
	ADDQ      $32, PS
	ADDQ      $64, PD
	SUBQ      $16, N
	JNZ       loop
	VZEROUPPER

done:
	RET

// BF16(v, nan) turns the 8 float32s in v into their bfloat16 bits, one per dword lane;
// nan marks v's NaN lanes:
//	b = bits(v); NaN: b>>16 | 0x40 (quiet); else (b + 0x7fff + (b>>16 & 1)) >> 16
// Clobbers Y4, Y5.
#define QBIT Y13 // dword 0x40
#define ONE Y14  // dword 1
#define HALF Y15 // dword 0x7fff
#define BF16(v, nan) \
	VPSRLD    $16, v, Y5       \
	VPAND     ONE, Y5, Y4      \
	VPADDD    HALF, Y4, Y4     \
	VPADDD    Y4, v, Y4        \
	VPSRLD    $16, Y4, Y4      \
	VPOR      QBIT, Y5, Y5     \
	VBLENDVPS nan, Y5, Y4, v

// func f32ToBF16AVX2(dst []byte, src []float32)
// Requires: AVX, AVX2
//
//	for i < len(src)&^15: dst[2i:2i+2] = bf16Bits(src[i]) (nearest even; NaNs quieted)
TEXT ·f32ToBF16AVX2(SB), NOSPLIT, $0-48
	MOVQ     dst_base+0(FP), PD
	MOVQ     src_base+24(FP), PS
	MOVQ     src_len+32(FP), N
	ANDQ     $~15, N
	JZ       done
	VPCMPEQD ONE, ONE, ONE
	VPSRLD   $31, ONE, ONE
	VPCMPEQD HALF, HALF, HALF
	VPSRLD   $17, HALF, HALF
	VPSLLD   $6, ONE, QBIT

loop:
	VMOVUPS   (PS), Y0
	VMOVUPS   32(PS), Y1
	VCMPPS    $3, Y0, Y0, Y2    // NaN lanes
	VCMPPS    $3, Y1, Y1, Y3
	BF16(Y0, Y2)
	BF16(Y1, Y3)
	VPACKUSDW Y1, Y0, Y0        // [v0 0–3, v1 0–3 | v0 4–7, v1 4–7] as words
	VPERMQ    $0xd8, Y0, Y0     // in order
	VMOVDQU   Y0, (PD)
	ADDQ      $64, PS
	ADDQ      $32, PD
	SUBQ      $16, N
	JNZ       loop
	VZEROUPPER

done:
	RET
