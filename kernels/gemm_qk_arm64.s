//go:build gc && !purego

#include "go_asm.h"
#include "textflag.h"
#include "neon_arm64.h"

// NEON matrix-multiply kernels for Q4_K and Q6_K weights against Q8_K activation blocks
// (xPrep layout, 292 bytes: float32 d, 256 int8 q, 16 int16 sums of each 16), using
// SDOT (FEAT_DotProd; callers check cpu.ARM64.HasASIMDDP).
//
// A weight super-block is decoded once into V0–V15 (sixteen 16-byte vectors of unsigned
// quants: vector r holds elements 16r…16r+15) and shared by the activation rows. Per
// row, SDOT + ADDV give the exact integer sum of each sub-block, which is scaled and
// summed in general registers; the float combination then follows dotQ4_KGeneric /
// dotQ6_KGeneric operation for operation (no fused multiply-add), so each super-block
// contributes exactly what the generic kernel adds.

#define YP R0     // &y[j]
#define LDY R1    // ldy in bytes
#define XB R2     // activation row 0
#define LDX R3    // ldx in bytes
#define XI R4     // current activation block of the current row
#define YEND R5   // &y[n]
#define WP R6     // current weight super-block
#define WROW R7   // current weight row
#define LDW R8    // ldw in bytes
#define BLEFT R9  // super-blocks left
#define NB R10    // super-blocks per row
#define SC R11    // Q4_K: 8 unpacked 6-bit scales, one per byte
#define MN R12    // Q4_K: 8 unpacked 6-bit mins
#define ISUM R13
#define IMIN R14
#define T R15
#define T2 R16
#define T3 R17
#define XOFF R19  // byte offset of the current activation block in a row
#define T4 R20
#define YR R21

// Float registers: F20 dx, F21–F24 scratch, F25–F28 row accumulators, F29 d, F30 dmin.

// SUB32(j): int32 T = Σ over the 32 elements of sub-block j (vectors V2j, V2j+1) of w·q,
// q read from T2 (advanced by 32).
#define SUB32(j, va, vb) \
	VLD1.P 32(T2), [V16.B16, V17.B16] \
	VEOR V18.B16, V18.B16, V18.B16    \
	SDOT_4S(18, va, 16)               \
	SDOT_4S(18, vb, 17)               \
	VADDV V18.S4, V18                 \
	VMOV V18.S[0], T

// ---- Q4_K ----

// Q4KDECODE: F29 = d, F30 = dmin, SC/MN = scales/mins (ggml's 6-bit packing of the 12
// bytes a0,a1,a2: sc[0:4] = a0&0x3f…, sc[4:8] = a2&0x0f… | (a0>>2)&0x30…, m[0:4] =
// a1&0x3f…, m[4:8] = (a2>>4)&0x0f… | (a1>>2)&0x30…), V0–V15 = the nibbles: group g's
// 32 bytes give sub-block 2g (low nibbles, V4g, V4g+1) and 2g+1 (high, V4g+2, V4g+3).
#define Q4KGROUP(g, lo0, lo1, hi0, hi1) \
	VLD1.P 32(T2), [V22.B16, V23.B16]   \
	VAND V31.B16, V22.B16, lo0.B16      \
	VAND V31.B16, V23.B16, lo1.B16      \
	VUSHR $4, V22.B16, hi0.B16          \
	VUSHR $4, V23.B16, hi1.B16

#define Q4KDECODE \
	MOVHU (WP), T                       \
	FMOVS T, F29                        \
	FCVTHS F29, F29                     \
	MOVHU const_q4KDMinOff(WP), T       \
	FMOVS T, F30                        \
	FCVTHS F30, F30                     \
	MOVWU const_q4KScalesOff(WP), T     \
	MOVWU const_q4KScalesOff+8(WP), T3  \
	ANDW $0x3f3f3f3f, T, SC             \
	LSRW $2, T, T                       \
	ANDW $0x30303030, T, T              \
	ANDW $0x0f0f0f0f, T3, T4            \
	ORRW T4, T, T                       \
	ORR T<<32, SC, SC                   \
	MOVWU const_q4KScalesOff+4(WP), T   \
	ANDW $0x3f3f3f3f, T, MN             \
	LSRW $2, T, T                       \
	ANDW $0x30303030, T, T              \
	LSRW $4, T3, T4                     \
	ANDW $0x0f0f0f0f, T4, T4            \
	ORRW T4, T, T                       \
	ORR T<<32, MN, MN                   \
	ADD $const_q4KQuantsOff, WP, T2     \
	Q4KGROUP(0, V0, V1, V2, V3)         \
	Q4KGROUP(1, V4, V5, V6, V7)         \
	Q4KGROUP(2, V8, V9, V10, V11)       \
	Q4KGROUP(3, V12, V13, V14, V15)

// Q4KSUB(j): ISUM += sc_j · Σ_{sub-block j} w·q
#define Q4KSUB(j, va, vb) \
	SUB32(j, va, vb)                    \
	UBFX $(8*j), SC, $8, T3             \
	MADDW T3, ISUM, T, ISUM

// Q4KMIN(j): IMIN += m_j · (bsum_2j + bsum_2j+1), bsums at T2
#define Q4KMIN(j) \
	MOVH (4*j)(T2), T                   \
	MOVH (4*j+2)(T2), T4                \
	ADDW T4, T, T                       \
	UBFX $(8*j), MN, $8, T3             \
	MADDW T3, IMIN, T, IMIN

// Q4KROW(acc): acc += dx·d·isum − dx·dmin·imin for the block at XI; XI += ldx.
#define Q4KROW(acc) \
	FMOVS (XI), F20                     \
	ADD $4, XI, T2                      \
	MOVW ZR, ISUM                       \
	Q4KSUB(0, 0, 1)                     \
	Q4KSUB(1, 2, 3)                     \
	Q4KSUB(2, 4, 5)                     \
	Q4KSUB(3, 6, 7)                     \
	Q4KSUB(4, 8, 9)                     \
	Q4KSUB(5, 10, 11)                   \
	Q4KSUB(6, 12, 13)                   \
	Q4KSUB(7, 14, 15)                   \
	MOVW ZR, IMIN                       \
	Q4KMIN(0)                           \
	Q4KMIN(1)                           \
	Q4KMIN(2)                           \
	Q4KMIN(3)                           \
	Q4KMIN(4)                           \
	Q4KMIN(5)                           \
	Q4KMIN(6)                           \
	Q4KMIN(7)                           \
	SCVTFWS ISUM, F21                   \
	SCVTFWS IMIN, F22                   \
	FMULS F29, F20, F23                 \
	FMULS F23, F21, F21                 \
	FMULS F30, F20, F24                 \
	FMULS F24, F22, F22                 \
	FSUBS F22, F21, F21                 \
	FADDS F21, acc, acc                 \
	ADD LDX, XI, XI

// ---- Q6_K ----

// Q6KHALF(h): vectors 8h…8h+7 (groups 8h…8h+7) from ql = WP+64h, qh = WP+128+32h:
//	v0 = ql[0:32]&15 | (qh<<4)&0x30    v1 = ql[32:64]&15 | (qh<<2)&0x30
//	v2 = ql[0:32]>>4 | qh&0x30         v3 = ql[32:64]>>4 | (qh>>2)&0x30
// (V16–V17 ql, V20–V21 qh, V22–V23 shifted qh, V31 bytes 0x0F, V30 bytes 0x30; the
// float accumulators F25–F28 are left alone).
#define Q6KHI0 VSHL $4, V20.B16, V22.B16; VSHL $4, V21.B16, V23.B16
#define Q6KHI1 VSHL $2, V20.B16, V22.B16; VSHL $2, V21.B16, V23.B16
#define Q6KHI2 VMOV V20.B16, V22.B16; VMOV V21.B16, V23.B16
#define Q6KHI3 VUSHR $2, V20.B16, V22.B16; VUSHR $2, V21.B16, V23.B16
#define Q6KLO0 VAND V31.B16, V16.B16, V16.B16; VAND V31.B16, V17.B16, V17.B16
#define Q6KLO4 VUSHR $4, V16.B16, V16.B16; VUSHR $4, V17.B16, V17.B16

// Q6KPART(off, LO, HI, r0, r1): r0, r1 = LO(ql[off:off+32]) | HI(qh) & 0x30.
#define Q6KPART(off, LO, HI, r0, r1) \
	ADD $(off), WP, T2                  \
	VLD1 (T2), [V16.B16, V17.B16]       \
	LO                                  \
	HI                                  \
	VAND V30.B16, V22.B16, V22.B16      \
	VAND V30.B16, V23.B16, V23.B16      \
	VORR V22.B16, V16.B16, r0.B16       \
	VORR V23.B16, V17.B16, r1.B16

#define Q6KHALF(h, a0, a1, b0, b1, c0, c1, d0, d1) \
	ADD $(const_q6KHighOff+32*h), WP, T2          \
	VLD1 (T2), [V20.B16, V21.B16]                 \
	Q6KPART(64*h, Q6KLO0, Q6KHI0, a0, a1)         \
	Q6KPART(64*h+32, Q6KLO0, Q6KHI1, b0, b1)      \
	Q6KPART(64*h, Q6KLO4, Q6KHI2, c0, c1)         \
	Q6KPART(64*h+32, Q6KLO4, Q6KHI3, d0, d1)

#define Q6KDECODE \
	MOVHU const_q6KDOff(WP), T          \
	FMOVS T, F29                        \
	FCVTHS F29, F29                     \
	Q6KHALF(0, V0, V1, V2, V3, V4, V5, V6, V7) \
	Q6KHALF(1, V8, V9, V10, V11, V12, V13, V14, V15)

// Q6KGRP(g): ISUM += sc_g · (Σ_{group g} w·q − 32·bsum_g), w the unsigned 6-bit quant,
// q at T2 (advanced by 16), bsums at XI+260, scales at WP+192.
#define Q6KGRP(g, v) \
	VLD1.P 16(T2), [V16.B16]            \
	VEOR V18.B16, V18.B16, V18.B16      \
	SDOT_4S(18, v, 16)                  \
	VADDV V18.S4, V18                   \
	VMOV V18.S[0], T                    \
	MOVH (260+2*g)(XI), T4              \
	SUBW T4<<5, T, T                    \
	MOVB (192+g)(WP), T3                \
	MADDW T3, ISUM, T, ISUM

// Q6KROW(acc): acc += dx·d·isum for the block at XI; XI += ldx.
#define Q6KROW(acc) \
	FMOVS (XI), F20                     \
	ADD $4, XI, T2                      \
	MOVW ZR, ISUM                       \
	Q6KGRP(0, 0)                        \
	Q6KGRP(1, 1)                        \
	Q6KGRP(2, 2)                        \
	Q6KGRP(3, 3)                        \
	Q6KGRP(4, 4)                        \
	Q6KGRP(5, 5)                        \
	Q6KGRP(6, 6)                        \
	Q6KGRP(7, 7)                        \
	Q6KGRP(8, 8)                        \
	Q6KGRP(9, 9)                        \
	Q6KGRP(10, 10)                      \
	Q6KGRP(11, 11)                      \
	Q6KGRP(12, 12)                      \
	Q6KGRP(13, 13)                      \
	Q6KGRP(14, 14)                      \
	Q6KGRP(15, 15)                      \
	SCVTFWS ISUM, F21                   \
	FMULS F29, F20, F23                 \
	FMULS F23, F21, F21                 \
	FADDS F21, acc, acc                 \
	ADD LDX, XI, XI

// ---- drivers ----

#define ADDY(acc) \
	FMOVS (YR), F21                     \
	FADDS acc, F21, F21                 \
	FMOVS F21, (YR)

#define CONSTS \
	VMOVI $15, V31.B16                  \
	VMOVI $48, V30.B16

// GEMM4(DECODE, ROW, wsize): for each weight row, 4 activation rows.
#define GEMM4(DECODE, ROW, wsize) \
	CONSTS                              \
row:                                    \
	FMOVS ZR, F25                       \
	FMOVS ZR, F26                       \
	FMOVS ZR, F27                       \
	FMOVS ZR, F28                       \
	MOVD WROW, WP                       \
	MOVD ZR, XOFF                       \
	MOVD NB, BLEFT                      \
block:                                  \
	DECODE                              \
	ADD XB, XOFF, XI                    \
	ROW(F25)                            \
	ROW(F26)                            \
	ROW(F27)                            \
	ROW(F28)                            \
	ADD $wsize, WP, WP                  \
	ADD $const_q8KBlockBytes, XOFF, XOFF \
	SUBS $1, BLEFT, BLEFT               \
	BNE block                           \
	MOVD YP, YR                         \
	ADDY(F25)                           \
	ADD LDY, YR, YR                     \
	ADDY(F26)                           \
	ADD LDY, YR, YR                     \
	ADDY(F27)                           \
	ADD LDY, YR, YR                     \
	ADDY(F28)                           \
	ADD $4, YP, YP                      \
	ADD LDW, WROW, WROW                 \
	CMP YP, YEND                        \
	BNE row                             \
	RET

// GEMV1(DECODE, ROW, wsize): for each weight row, one activation row.
#define GEMV1(DECODE, ROW, wsize) \
	CONSTS                              \
row:                                    \
	CMP YP, YEND                        \
	BEQ done                            \
	FMOVS ZR, F25                       \
	MOVD WROW, WP                       \
	MOVD ZR, XOFF                       \
	MOVD NB, BLEFT                      \
block:                                  \
	DECODE                              \
	ADD XB, XOFF, XI                    \
	ROW(F25)                            \
	ADD $wsize, WP, WP                  \
	ADD $const_q8KBlockBytes, XOFF, XOFF \
	SUBS $1, BLEFT, BLEFT               \
	BNE block                           \
	MOVD YP, YR                         \
	ADDY(F25)                           \
	ADD $4, YP, YP                      \
	ADD LDW, WROW, WROW                 \
	B row                               \
done:                                   \
	RET

// func gemmQ4_Kx4NEON(y []float32, ldy int, x []byte, ldx int, w []byte, ldw int, n int, nb int)
// Requires: NEON, DotProd
//
//	for i < 4, j < n: y[i*ldy+j] += dotQ4_KGeneric(W_j, x[i*ldx:][:nb*292]), W_j = w[j*ldw:]
//	n > 0, nb > 0
TEXT ·gemmQ4_Kx4NEON(SB), NOSPLIT, $0-112
	MOVD y_base+0(FP), YP
	MOVD ldy+24(FP), LDY
	LSL  $2, LDY, LDY
	MOVD x_base+32(FP), XB
	MOVD ldx+56(FP), LDX
	MOVD w_base+64(FP), WROW
	MOVD ldw+88(FP), LDW
	MOVD n+96(FP), YEND
	ADD  YEND<<2, YP, YEND
	MOVD nb+104(FP), NB
	GEMM4(Q4KDECODE, Q4KROW, const_q4KBlockBytes)

// func gemvQ4_KNEON(y []float32, x []byte, w []byte, ldw int, nb int)
// Requires: NEON, DotProd
//
//	for j < len(y): y[j] += dotQ4_KGeneric(W_j, x[:nb*292]), W_j = w[j*ldw:]; nb > 0
TEXT ·gemvQ4_KNEON(SB), NOSPLIT, $0-88
	MOVD y_base+0(FP), YP
	MOVD y_len+8(FP), YEND
	ADD  YEND<<2, YP, YEND
	MOVD x_base+24(FP), XB
	MOVD w_base+48(FP), WROW
	MOVD ldw+72(FP), LDW
	MOVD nb+80(FP), NB
	MOVD ZR, LDX
	GEMV1(Q4KDECODE, Q4KROW, const_q4KBlockBytes)

// func gemmQ6_Kx4NEON(y []float32, ldy int, x []byte, ldx int, w []byte, ldw int, n int, nb int)
// Requires: NEON, DotProd
//
//	for i < 4, j < n: y[i*ldy+j] += dotQ6_KGeneric(W_j, x[i*ldx:][:nb*292]), W_j = w[j*ldw:]
//	n > 0, nb > 0
TEXT ·gemmQ6_Kx4NEON(SB), NOSPLIT, $0-112
	MOVD y_base+0(FP), YP
	MOVD ldy+24(FP), LDY
	LSL  $2, LDY, LDY
	MOVD x_base+32(FP), XB
	MOVD ldx+56(FP), LDX
	MOVD w_base+64(FP), WROW
	MOVD ldw+88(FP), LDW
	MOVD n+96(FP), YEND
	ADD  YEND<<2, YP, YEND
	MOVD nb+104(FP), NB
	GEMM4(Q6KDECODE, Q6KROW, const_q6KBlockBytes)

// func gemvQ6_KNEON(y []float32, x []byte, w []byte, ldw int, nb int)
// Requires: NEON, DotProd
//
//	for j < len(y): y[j] += dotQ6_KGeneric(W_j, x[:nb*292]), W_j = w[j*ldw:]; nb > 0
TEXT ·gemvQ6_KNEON(SB), NOSPLIT, $0-88
	MOVD y_base+0(FP), YP
	MOVD y_len+8(FP), YEND
	ADD  YEND<<2, YP, YEND
	MOVD x_base+24(FP), XB
	MOVD w_base+48(FP), WROW
	MOVD ldw+72(FP), LDW
	MOVD nb+80(FP), NB
	MOVD ZR, LDX
	GEMV1(Q6KDECODE, Q6KROW, const_q6KBlockBytes)
