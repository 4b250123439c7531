//go:build gc && !purego

#include "go_asm.h"
#include "textflag.h"
#include "neon_arm64.h"

// Activation quantizers: rows of float32 x into the Q8_0 and Q8_K blocks the quantized
// matrix kernels read (xPrep). Both give the bytes quantQ8Generic and quantQ8KGeneric
// give: the same float32 operations (each rounded to nearest even, as FPCR is in Go
// programs), and exact conversions and integer steps.
//
// The largest magnitude is found with integer maxima: with the sign bit cleared, finite
// floats order like their bit patterns as unsigned integers, so VUMAX (which the Go
// assembler has) stands in for FMAX; NaN and infinity come above every finite float,
// so a block holding one is told by its maximum alone.

// UMAXV, FMUL, FCVTAS, FCVTNS, SQXTN and SADDLP are WORD-encoded (neon_arm64.h).

#define PX R0  // next block of x
#define PD R1  // next block of dst
#define NB R2  // blocks left
#define XP R3  // Q8_K: scan pointer into the block of x
#define CNT R4 // Q8_K: loop count

#define ABSM V24 // 0x7fffffff in every lane
#define SC V25   // the scale the products take (id, iscale), in every lane
#define SCn 25

// ABSMASK sets ABSM. Clobbers R5.
#define ABSMASK \
	MOVW $0x7fffffff, R5 \
	VDUP R5, ABSM.S4

// NONFINITE branches to lab when the magnitude bits in Fn are a NaN's or an
// infinity's. Clobbers R11, R12.
#define NONFINITE(Fn, lab) \
	FMOVS Fn, R11          \
	MOVW  $0x7f800000, R12 \
	CMPW  R12, R11         \
	BHS   lab

// func quantQ8NEON(dst []byte, x []float32)
// Requires: NEON
//
//	for each block b < len(x)/32, with v = x[32b : 32b+32]:
//		d = max|v|/127, id = 1/d (0 if that is +Inf), h = f16(d) (nearest even)
//		dst[36b:] = float32(h) as 4 bytes, then int8(round-half-away(v[j]·id)), j < 32
//		(if v holds a NaN or an infinity: a quiet NaN as d, then 32 zeros)
//	len(dst) >= len(x)/32*36
//
// V0–V7: the block, then the products, quants and their narrowings; V16–V23: |v|, then
// their maxima; F16 amax, F17 d, F18 id, F19 h; F26 127, F27 1, F28 +Inf, F29 0.
TEXT ·quantQ8NEON(SB), NOSPLIT, $0-48
	MOVD  dst_base+0(FP), PD
	MOVD  x_base+24(FP), PX
	MOVD  x_len+32(FP), NB
	LSR   $5, NB, NB
	CBZ   NB, done
	ABSMASK
	MOVW  $0x42fe0000, R5
	FMOVS R5, F26                          // 127
	FMOVS $1.0, F27
	MOVW  $0x7f800000, R5
	FMOVS R5, F28                          // +Inf
	VEOR  V29.B16, V29.B16, V29.B16        // F29 = 0

block:
	VLD1.P 64(PX), [V0.S4, V1.S4, V2.S4, V3.S4]
	VLD1.P 64(PX), [V4.S4, V5.S4, V6.S4, V7.S4]
	VAND   ABSM.B16, V0.B16, V16.B16       // |v|
	VAND   ABSM.B16, V1.B16, V17.B16
	VAND   ABSM.B16, V2.B16, V18.B16
	VAND   ABSM.B16, V3.B16, V19.B16
	VAND   ABSM.B16, V4.B16, V20.B16
	VAND   ABSM.B16, V5.B16, V21.B16
	VAND   ABSM.B16, V6.B16, V22.B16
	VAND   ABSM.B16, V7.B16, V23.B16
	VUMAX  V17.S4, V16.S4, V16.S4
	VUMAX  V19.S4, V18.S4, V18.S4
	VUMAX  V21.S4, V20.S4, V20.S4
	VUMAX  V23.S4, V22.S4, V22.S4
	VUMAX  V18.S4, V16.S4, V16.S4
	VUMAX  V22.S4, V20.S4, V20.S4
	VUMAX  V20.S4, V16.S4, V16.S4
	UMAXV_4S(16, 16)                        // amax = max |v|
	NONFINITE(F16, nonfinite)
	FDIVS  F26, F16, F17                   // d = amax/127
	FDIVS  F17, F27, F18                   // 1/d
	FCMPS  F28, F18
	FCSELS EQ, F29, F18, F18               // id: 0 when d is 0 or below 2⁻¹²⁸
	FCVTSH F17, F19                        // h = f16(d), to nearest even (FPCR)
	FCVTHS F19, F19                        // exact
	FMOVS.P F19, 4(PD)
	VDUP   V18.S[0], SC.S4

	FMUL_4S(0, 0, SCn)                      // v·id, rounded to float32 as the Go code does
	FMUL_4S(1, 1, SCn)
	FMUL_4S(2, 2, SCn)
	FMUL_4S(3, 3, SCn)
	FMUL_4S(4, 4, SCn)
	FMUL_4S(5, 5, SCn)
	FMUL_4S(6, 6, SCn)
	FMUL_4S(7, 7, SCn)
	FCVTAS_4S(0, 0)                         // round half away, to int32
	FCVTAS_4S(1, 1)
	FCVTAS_4S(2, 2)
	FCVTAS_4S(3, 3)
	FCVTAS_4S(4, 4)
	FCVTAS_4S(5, 5)
	FCVTAS_4S(6, 6)
	FCVTAS_4S(7, 7)

	// |v·id| ≤ 127·(1+2⁻²¹) rounds to at most 127, so keeping the low half of each lane
	// (UZP1 of the even halves, then of the even bytes) is exact and keeps element order.
	VUZP1  V1.H8, V0.H8, V0.H8             // elements 0–7 as int16
	VUZP1  V3.H8, V2.H8, V2.H8             // 8–15
	VUZP1  V5.H8, V4.H8, V4.H8             // 16–23
	VUZP1  V7.H8, V6.H8, V6.H8             // 24–31
	VUZP1  V2.B16, V0.B16, V0.B16          // 0–15 as int8
	VUZP1  V6.B16, V4.B16, V1.B16          // 16–31
	VST1.P [V0.B16, V1.B16], 32(PD)

next:
	SUBS   $1, NB, NB
	BNE    block

done:
	RET

nonfinite:
	MOVW   $const_nonFiniteD, R5
	MOVW.P R5, 4(PD)
	VEOR   V0.B16, V0.B16, V0.B16
	VEOR   V1.B16, V1.B16, V1.B16
	VST1.P [V0.B16, V1.B16], 32(PD)
	B      next

#define PQ R6 // Q8_K: next 16 quants of the block in dst
#define PS R7 // Q8_K: next 8 sums of the block in dst

// Q8KGROUP(q, s) quantizes the next 16 elements at XP (one sum group) into int8 lanes of
// Vq, and sets Vs to the int16 sums of each pair of them. Clobbers V0–V5.
#define Q8KGROUP(q, s) \
	VLD1.P 64(XP), [V0.S4, V1.S4, V2.S4, V3.S4] \
	FMUL_4S(0, 0, SCn)                          \
	FMUL_4S(1, 1, SCn)                          \
	FMUL_4S(2, 2, SCn)                          \
	FMUL_4S(3, 3, SCn)                          \
	FCVTNS_4S(0, 0)                             \
	FCVTNS_4S(1, 1)                             \
	FCVTNS_4S(2, 2)                             \
	FCVTNS_4S(3, 3)                             \
	SQXTN_4H(4, 0)                              \
	SQXTN2_8H(4, 1)                             \
	SQXTN_4H(5, 2)                              \
	SQXTN2_8H(5, 3)                             \
	SQXTN_8B(q, 4)                              \
	SQXTN2_16B(q, 5)                            \
	SADDLP_8H(s, q)

// func quantQ8KNEON(dst []byte, x []float32)
// Requires: NEON
//
//	for each block b < len(x)/256, with v = x[256b : 256b+256], out = dst[292b : 292b+292]:
//		mx = the first v[j] of largest magnitude, iscale = −127/mx
//		if iscale is ±Inf: out = 0…
//		else out = float32(1/iscale), int8(min(127, round-half-even(iscale·v[j]))) for
//		     j < 256, int16 sums of each 16 of those
//		(if v holds a NaN or an infinity: a quiet NaN as d, then zeros)
//	len(dst) >= len(x)/256*292
//
// mx is ±amax, and IEEE division is symmetric in sign, so iscale is −127/amax negated
// when the first element of magnitude amax is negative: the block is scanned once for
// amax, then (unless iscale overflows) again, up to that element, for its sign.
// V0–V5: a group of 16 elements and its narrowings; V8–V15: the quants of 8 groups;
// V16–V23: their pair sums, reduced to the 8 group sums in V16; V26: amax in every lane;
// V28–V31: zero; F6 −127, F7 −Inf, F27 1, F16 amax, F17 iscale, F18 d.
TEXT ·quantQ8KNEON(SB), NOSPLIT, $0-48
	MOVD  dst_base+0(FP), PD
	MOVD  x_base+24(FP), PX
	MOVD  x_len+32(FP), NB
	LSR   $8, NB, NB
	CBZ   NB, done
	ABSMASK
	MOVW  $0xc2fe0000, R5
	FMOVS R5, F6                           // −127
	MOVW  $0xff800000, R5
	FMOVS R5, F7                           // −Inf
	FMOVS $1.0, F27
	VEOR  V28.B16, V28.B16, V28.B16
	VEOR  V29.B16, V29.B16, V29.B16
	VEOR  V30.B16, V30.B16, V30.B16
	VEOR  V31.B16, V31.B16, V31.B16

block:
	VEOR V16.B16, V16.B16, V16.B16
	VEOR V17.B16, V17.B16, V17.B16
	VEOR V18.B16, V18.B16, V18.B16
	VEOR V19.B16, V19.B16, V19.B16
	MOVD PX, XP
	MOVD $16, CNT

amax:
	VLD1.P 64(XP), [V0.S4, V1.S4, V2.S4, V3.S4]
	VAND   ABSM.B16, V0.B16, V0.B16
	VAND   ABSM.B16, V1.B16, V1.B16
	VAND   ABSM.B16, V2.B16, V2.B16
	VAND   ABSM.B16, V3.B16, V3.B16
	VUMAX  V0.S4, V16.S4, V16.S4
	VUMAX  V1.S4, V17.S4, V17.S4
	VUMAX  V2.S4, V18.S4, V18.S4
	VUMAX  V3.S4, V19.S4, V19.S4
	SUBS   $1, CNT, CNT
	BNE    amax
	VUMAX  V17.S4, V16.S4, V16.S4
	VUMAX  V19.S4, V18.S4, V18.S4
	VUMAX  V18.S4, V16.S4, V16.S4
	UMAXV_4S(16, 16)                        // amax
	NONFINITE(F16, nonfinite)
	FDIVS  F16, F6, F17                    // iscale for mx = +amax: −127/amax
	FCMPS  F7, F17
	BEQ    zero                            // −Inf: amax is 0 or below 127·2⁻¹²⁸

	// The sign of mx: find the first |v[j]| == amax, 16 elements at a time. The four
	// comparison masks narrow (UZP1 keeps element order) to 16 mask bytes, read as two
	// 64-bit halves; amax is some |v[j]|, so the scan stops inside the block.
	VDUP   V16.S[0], V26.S4
	MOVD   PX, XP

find:
	VLD1.P 64(XP), [V0.S4, V1.S4, V2.S4, V3.S4]
	VAND   ABSM.B16, V0.B16, V0.B16
	VAND   ABSM.B16, V1.B16, V1.B16
	VAND   ABSM.B16, V2.B16, V2.B16
	VAND   ABSM.B16, V3.B16, V3.B16
	VCMEQ  V26.S4, V0.S4, V0.S4
	VCMEQ  V26.S4, V1.S4, V1.S4
	VCMEQ  V26.S4, V2.S4, V2.S4
	VCMEQ  V26.S4, V3.S4, V3.S4
	VUZP1  V1.H8, V0.H8, V0.H8
	VUZP1  V3.H8, V2.H8, V2.H8
	VUZP1  V2.B16, V0.B16, V0.B16          // byte i: 0xff iff element i matches
	VMOV   V0.D[0], R8                     // elements 0–7
	VMOV   V0.D[1], R9                     // 8–15
	ORR    R8, R9, R10
	CBZ    R10, find
	RBIT   R8, R10
	CLZ    R10, R10                        // 8·(first match among 0–7), or 64
	CBNZ   R8, sign
	RBIT   R9, R10
	CLZ    R10, R10
	ADD    $64, R10, R10                   // 8·(first match among 0–15)

sign:
	LSR    $3, R10, R10
	SUB    $64, XP, XP                      // back to the 16 scanned last
	MOVWU  (XP)(R10<<2), R10                // mx's bits
	TBZ    $31, R10, positive
	FNEGS  F17, F17                        // mx < 0: iscale = −127/mx = 127/amax

positive:
	FDIVS  F17, F27, F18                   // d = 1/iscale
	MOVD   PD, PQ
	FMOVS.P F18, 4(PQ)
	ADD    $const_q8KSumsOff, PD, PS
	VDUP   V17.S[0], SC.S4
	MOVD   PX, XP
	MOVD   $2, CNT

quant:
	Q8KGROUP(8, 16)
	Q8KGROUP(9, 17)
	Q8KGROUP(10, 18)
	Q8KGROUP(11, 19)
	Q8KGROUP(12, 20)
	Q8KGROUP(13, 21)
	Q8KGROUP(14, 22)
	Q8KGROUP(15, 23)
	VST1.P [V8.B16, V9.B16, V10.B16, V11.B16], 64(PQ)
	VST1.P [V12.B16, V13.B16, V14.B16, V15.B16], 64(PQ)

	// Pairwise adds (ADDP: the pair sums of n, then of m) reduce the 8 pair sums of
	// each group to its sum, the groups in order: |sum| ≤ 16·128 fits int16.
	VADDP  V17.H8, V16.H8, V16.H8          // [g0 ×4 | g1 ×4]
	VADDP  V19.H8, V18.H8, V18.H8          // [g2 ×4 | g3 ×4]
	VADDP  V21.H8, V20.H8, V20.H8
	VADDP  V23.H8, V22.H8, V22.H8
	VADDP  V18.H8, V16.H8, V16.H8          // [g0 ×2 | g1 ×2 | g2 ×2 | g3 ×2]
	VADDP  V22.H8, V20.H8, V20.H8
	VADDP  V20.H8, V16.H8, V16.H8          // g0 … g7
	VST1.P [V16.H8], 16(PS)
	SUBS   $1, CNT, CNT
	BNE    quant
	B      next

nonfinite:
	MOVW   $const_nonFiniteD, R11          // d; the rest zeros
	B      fill

zero:
	// iscale overflowed (all zero, or |mx| < 127·2⁻¹²⁸): 292 zero bytes.
	MOVW   ZR, R11

fill:
	MOVD   PD, PQ
	VST1.P [V28.B16, V29.B16, V30.B16, V31.B16], 64(PQ)
	VST1.P [V28.B16, V29.B16, V30.B16, V31.B16], 64(PQ)
	VST1.P [V28.B16, V29.B16, V30.B16, V31.B16], 64(PQ)
	VST1.P [V28.B16, V29.B16, V30.B16, V31.B16], 64(PQ)
	VST1.P [V28.B16, V29.B16], 32(PQ)
	MOVW   ZR, (PQ)
	MOVW   R11, (PD)

next:
	ADD    $1024, PX, PX
	ADD    $const_q8KBlockBytes, PD, PD
	SUBS   $1, NB, NB
	BNE    block

done:
	RET
