//go:build gc && !purego

#include "go_asm.h"
#include "textflag.h"

// Activation quantizers: rows of float32 x into the Q8_0 and Q8_K blocks the quantized
// matrix kernels read (xPrep). Both give the bytes quantQ8Generic and quantQ8KGeneric
// give: the same float32 operations in the same order, and exact conversions.

#define PX SI  // next block of x
#define PD DI  // next block of dst
#define NB CX  // blocks left

#define ABS Y15   // 0x7fffffff in every lane
#define PERM Y14  // dword order undoing the in-lane packs: 0 4 1 5 2 6 3 7

// The largest magnitude is found with unsigned integer maxima: with the sign bit
// cleared, finite floats order like their bit patterns, and NaN and infinity come
// above all of them, so a block holding one is told by its maximum alone (VMAXPS would
// drop a NaN met first).

// HMAX leaves the unsigned max of the dword lanes of ymm y in every lane of its X
// register x. Clobbers t.
#define HMAX(y, x, t) \
	VEXTRACTF128 $1, y, t    \
	VPMAXUD t, x, x          \
	VPSHUFD $0x4e, x, t      \
	VPMAXUD t, x, x          \
	VPSHUFD $0xb1, x, t      \
	VPMAXUD t, x, x

// NONFINITE jumps to lab when the magnitude bits in the low lane of x are a NaN's or
// an infinity's. Clobbers AX.
#define NONFINITE(x, lab) \
	VMOVD x, AX           \
	CMPL  AX, $0x7f800000 \
	JAE   lab

// PACK32(a, b, c, d) packs the int32 lanes of a, b, c, d (elements 0–7, 8–15, 16–23,
// 24–31, each within int8) into 32 int8s in a, in element order.
#define PACK32(a, b, c, d) \
	VPACKSSDW b, a, a        \
	VPACKSSDW d, c, c        \
	VPACKSSWB c, a, a        \
	VPERMD a, PERM, a

#define SETUP \
	VPCMPEQD ABS, ABS, ABS         \
	VPSRLD   $1, ABS, ABS          \
	VMOVDQU  quantPerm<>(SB), PERM

// q = round-half-away(y), y = v·id: trunc(y + copysign(0.49999997, y)), the sum
// rounded to nearest. 0.49999997 is the float below ½: ½ itself would carry the float
// below ½ up to 1. For every float |y| ≤ 200 (checked one by one) this is the rounding
// quantQ8Generic's math.Round gives.
#define ROUNDAWAY(v) \
	VMULPS     Y6, v, v   \
	VANDPS     Y10, v, Y8 \
	VORPS      Y11, Y8, Y8 \
	VADDPS     Y8, v, v   \
	VCVTTPS2DQ v, v

// QUANTQ8(bb, SUMS, NFSUMS) is the rest of a func(dst []byte, x []float32) whose TEXT
// body has loaded PD = &dst[0], PX = &x[0] and NB = len(x)/32 (jumping to done when
// 0): it quantizes the NB blocks of x into Q8_0 blocks bb bytes apart in dst, running
// SUMS on each block's int32 quants (Y0–Y3, before they are packed) and NFSUMS after a
// block with a NaN or an infinity is written as one. Per block: amax = max |v|; d =
// amax/127 and id = 1/d, 0 where d is 0 or below 2⁻¹²⁸ (1/d not below +Inf); h =
// f16(d), to nearest even, stored widened. Y13 holds 127, Y12 1, Y11 0.49999997 and
// Y10 the sign bit.
#define QUANTQ8(bb, SUMS, NFSUMS)               \
	SETUP                                          \
	VBROADCASTSS quantConsts<>+0(SB), Y13          \
	VBROADCASTSS quantConsts<>+4(SB), Y12          \
	VBROADCASTSS quantConsts<>+8(SB), Y11          \
	VPCMPEQD     Y10, Y10, Y10                     \
	VPSLLD       $31, Y10, Y10                     \
block:                                          \
	VMOVUPS (PX), Y0                               \
	VMOVUPS 32(PX), Y1                             \
	VMOVUPS 64(PX), Y2                             \
	VMOVUPS 96(PX), Y3                             \
	VANDPS  ABS, Y0, Y4                            \
	VANDPS  ABS, Y1, Y5                            \
	VANDPS  ABS, Y2, Y6                            \
	VANDPS  ABS, Y3, Y7                            \
	VPMAXUD Y5, Y4, Y4                             \
	VPMAXUD Y7, Y6, Y6                             \
	VPMAXUD Y6, Y4, Y4                             \
	HMAX(Y4, X4, X5)                               \
	NONFINITE(X4, nonfinite)                       \
	VDIVSS     X13, X4, X5                         \
	VDIVSS     X5, X12, X6                         \
	VCMPSS     $1, quantConsts<>+24(SB), X6, X7    \
	VANDPS     X7, X6, X6                          \
	VCVTPS2PH  $0, X5, X7                          \
	VCVTPH2PS  X7, X7                              \
	VMOVSS     X7, (PD)                            \
	VBROADCASTSS X6, Y6                            \
	ROUNDAWAY(Y0)                                  \
	ROUNDAWAY(Y1)                                  \
	ROUNDAWAY(Y2)                                  \
	ROUNDAWAY(Y3)                                  \
	SUMS                                           \
	PACK32(Y0, Y1, Y2, Y3)                         \
	VMOVDQU Y0, const_q8QuantsOff(PD)              \
next:                                           \
	ADDQ $128, PX                                  \
	ADDQ $bb, PD                                   \
	DECQ NB                                        \
	JNZ  block                                     \
	VZEROUPPER                                     \
done:                                           \
	RET                                            \
nonfinite:                                      \
	MOVL    $const_nonFiniteD, (PD)                \
	VPXOR   Y0, Y0, Y0                             \
	VMOVDQU Y0, const_q8QuantsOff(PD)              \
	NFSUMS                                         \
	JMP     next

// NOSUMS: no sums (quantQ8AVX2).
#define NOSUMS

// func quantQ8AVX2(dst []byte, x []float32)
// Requires: AVX, AVX2, F16C
//
//	for each block b < len(x)/32, with v = x[32b : 32b+32]:
//		d = max|v|/127, id = 1/d (0 if that is +Inf), h = f16(d) (nearest even)
//		dst[36b:] = float32(h) as 4 bytes, then int8(round-half-away(v[j]·id)), j < 32
//		(if v holds a NaN or an infinity: a quiet NaN as d, then 32 zeros)
//	len(dst) >= len(x)/32*36
TEXT ·quantQ8AVX2(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), PD
	MOVQ x_base+24(FP), PX
	MOVQ x_len+32(FP), NB
	SHRQ $5, NB
	JZ   done
	QUANTQ8(const_q8BlockBytes, NOSUMS, NOSUMS)

// CORR stores −128·Σq of the block's int32 quants (Y0–Y3) after its quants.
// Clobbers Y8, Y9.
#define CORR \
	VPADDD       Y1, Y0, Y8                \
	VPADDD       Y3, Y2, Y9                \
	VPADDD       Y9, Y8, Y8                \
	VEXTRACTI128 $1, Y8, X9                \
	VPADDD       X9, X8, X8                \
	VPSHUFD      $0x4e, X8, X9             \
	VPADDD       X9, X8, X8                \
	VPSHUFD      $0xb1, X8, X9             \
	VPADDD       X9, X8, X8                \
	VPSLLD       $7, X8, X8                \
	VPXOR        X9, X9, X9                \
	VPSUBD       X8, X9, X9                \
	VMOVD        X9, const_q8X8ActCorrOff(PD)

// NOCORR stores the correction of a block with a NaN or an infinity: 0.
#define NOCORR \
	MOVL $0, const_q8X8ActCorrOff(PD)

// func quantQ8X8AVX2(dst []byte, x []float32)
// Requires: AVX, AVX2, F16C
//
//	quantQ8AVX2's blocks, each followed by int32 −128·Σq of its quants (0 for a
//	block with a NaN or an infinity): the q8X16 kernels' activation blocks (prepQ8X8),
//	40 bytes each; len(dst) >= len(x)/32*40
TEXT ·quantQ8X8AVX2(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), PD
	MOVQ x_base+24(FP), PX
	MOVQ x_len+32(FP), NB
	SHRQ $5, NB
	JZ   done
	QUANTQ8(const_q8X8ActBlockBytes, CORR, NOCORR)

// func quantQ8KAVX2(dst []byte, x []float32)
// Requires: AVX, AVX2
//
//	for each block b < len(x)/256, with v = x[256b : 256b+256], out = dst[292b : 292b+292]:
//		mx = the first v[j] of largest magnitude, iscale = −127/mx
//		if iscale is ±Inf: out = 0…
//		else out = float32(1/iscale), int8(min(127, round-half-even(iscale·v[j]))) for
//		     j < 256, int16 sums of each 16 of those
//		(if v holds a NaN or an infinity: a quiet NaN as d, then zeros)
//	len(dst) >= len(x)/256*292
TEXT ·quantQ8KAVX2(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), PD
	MOVQ x_base+24(FP), PX
	MOVQ x_len+32(FP), NB
	SHRQ $8, NB
	JZ   done
	SETUP
	VBROADCASTSS quantConsts<>+12(SB), Y13 // −127
	VPBROADCASTD quantConsts<>+16(SB), Y12 // int32 127
	VPCMPEQW     Y11, Y11, Y11
	VPABSB       Y11, Y10                  // bytes 1
	VPSRLW       $15, Y11, Y11             // int16 1

block:
	// amax over the 32 vectors, 4 at a time.
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	XORQ   AX, AX

amax:
	VANDPS (PX)(AX*1), ABS, Y4
	VANDPS 32(PX)(AX*1), ABS, Y5
	VANDPS 64(PX)(AX*1), ABS, Y6
	VANDPS 96(PX)(AX*1), ABS, Y7
	VPMAXUD Y4, Y0, Y0
	VPMAXUD Y5, Y1, Y1
	VPMAXUD Y6, Y2, Y2
	VPMAXUD Y7, Y3, Y3
	ADDQ   $128, AX
	CMPQ   AX, $1024
	JNE    amax
	VPMAXUD Y1, Y0, Y0
	VPMAXUD Y3, Y2, Y2
	VPMAXUD Y2, Y0, Y0
	HMAX(Y0, X0, X1)
	NONFINITE(X0, nonfinite)

	// mx: the first element whose magnitude is amax (found even when amax is 0).
	VBROADCASTSS X0, Y0
	XORQ AX, AX

find:
	VANDPS    (PX)(AX*4), ABS, Y1
	VCMPPS    $0, Y0, Y1, Y1
	VMOVMSKPS Y1, BX
	TESTL     BX, BX
	JNZ       found
	ADDQ      $8, AX
	JMP       find

found:
	BSFL   BX, BX
	ADDQ   BX, AX
	VMOVSS (PX)(AX*4), X1
	VDIVSS X1, X13, X2                     // iscale = −127/mx
	VANDPS X2, X15, X3                     // (ABS's low lane)
	VUCOMISS quantConsts<>+24(SB), X3
	JNE    nonzero

	// iscale overflowed (all zero, or |mx| < 127·2⁻¹²⁸): 292 zero bytes.
	XORL    AX, AX
	JMP     fill

nonfinite:
	MOVL    $const_nonFiniteD, AX          // d; the rest zeros

fill:
	VPXOR   Y1, Y1, Y1
	VMOVDQU Y1, (PD)
	VMOVDQU Y1, 32(PD)
	VMOVDQU Y1, 64(PD)
	VMOVDQU Y1, 96(PD)
	VMOVDQU Y1, 128(PD)
	VMOVDQU Y1, 160(PD)
	VMOVDQU Y1, 192(PD)
	VMOVDQU Y1, 224(PD)
	VMOVDQU Y1, 256(PD)
	MOVL    $0, const_q8KBlockBytes-4(PD)
	MOVL    AX, (PD)
	JMP     next

nonzero:
	VBROADCASTSS quantConsts<>+20(SB), X3  // 1
	VDIVSS X2, X3, X3                      // d = 1/iscale
	VMOVSS X3, (PD)
	VBROADCASTSS X2, Y9

	// Q8KCHUNK(c, r) stores quants 32c…32c+31 and sets r to the int32 sums of each 4.
#define Q8KCHUNK(c, r) \
	VMULPS   128*c(PX), Y9, Y0          \
	VMULPS   128*c+32(PX), Y9, Y1       \
	VMULPS   128*c+64(PX), Y9, Y2       \
	VMULPS   128*c+96(PX), Y9, Y3       \
	VROUNDPS $0, Y0, Y0                 \
	VROUNDPS $0, Y1, Y1                 \
	VROUNDPS $0, Y2, Y2                 \
	VROUNDPS $0, Y3, Y3                 \
	VCVTPS2DQ Y0, Y0                    \
	VCVTPS2DQ Y1, Y1                    \
	VCVTPS2DQ Y2, Y2                    \
	VCVTPS2DQ Y3, Y3                    \
	VPMINSD  Y12, Y0, Y0                \
	VPMINSD  Y12, Y1, Y1                \
	VPMINSD  Y12, Y2, Y2                \
	VPMINSD  Y12, Y3, Y3                \
	PACK32(Y0, Y1, Y2, Y3)              \
	VMOVDQU  Y0, const_q8QuantsOff+32*c(PD) \
	VPMADDUBSW Y0, Y10, r               \
	VPMADDWD Y11, r, r

	// Chunk c (elements 32c…32c+31) covers sum groups 2c and 2c+1: r holds 4 partial
	// sums of each, [g2c ×4 | g2c+1 ×4]. Two rounds of horizontal adds give
	// [g0 g2 g4 g6 | g1 g3 g5 g7] from chunks 0–3, the like for 4–7.
	Q8KCHUNK(0, Y4)
	Q8KCHUNK(1, Y5)
	VPHADDD Y5, Y4, Y4
	Q8KCHUNK(2, Y5)
	Q8KCHUNK(3, Y6)
	VPHADDD Y6, Y5, Y5
	VPHADDD Y5, Y4, Y4
	Q8KCHUNK(4, Y5)
	Q8KCHUNK(5, Y6)
	VPHADDD Y6, Y5, Y5
	Q8KCHUNK(6, Y6)
	Q8KCHUNK(7, Y7)
	VPHADDD Y7, Y6, Y6
	VPHADDD Y6, Y5, Y5
	VPACKSSDW Y5, Y4, Y4                   // [g0 g2 … g14 | g1 g3 … g15] as int16
	VEXTRACTI128 $1, Y4, X5
	VPUNPCKLWD X5, X4, X6                  // g0 … g7
	VPUNPCKHWD X5, X4, X7                  // g8 … g15
	VMOVDQU X6, const_q8KSumsOff(PD)
	VMOVDQU X7, const_q8KSumsOff+16(PD)

next:
	ADDQ $1024, PX
	ADDQ $const_q8KBlockBytes, PD
	DECQ NB
	JNZ  block
	VZEROUPPER

done:
	RET

DATA quantConsts<>+0(SB)/4, $0x42fe0000  // 127
DATA quantConsts<>+4(SB)/4, $0x3f800000  // 1
DATA quantConsts<>+8(SB)/4, $0x3effffff  // 0.49999997, the float below ½
DATA quantConsts<>+12(SB)/4, $0xc2fe0000 // −127
DATA quantConsts<>+16(SB)/4, $127        // int32 127
DATA quantConsts<>+20(SB)/4, $0x3f800000 // 1
DATA quantConsts<>+24(SB)/4, $0x7f800000 // +Inf
GLOBL quantConsts<>(SB), RODATA|NOPTR, $28

DATA quantPerm<>+0(SB)/4, $0
DATA quantPerm<>+4(SB)/4, $4
DATA quantPerm<>+8(SB)/4, $1
DATA quantPerm<>+12(SB)/4, $5
DATA quantPerm<>+16(SB)/4, $2
DATA quantPerm<>+20(SB)/4, $6
DATA quantPerm<>+24(SB)/4, $3
DATA quantPerm<>+28(SB)/4, $7
GLOBL quantPerm<>(SB), RODATA|NOPTR, $32
