//go:build gc && !purego

#include "textflag.h"
#include "neon_arm64.h"

// NEON matrix-multiply micro-kernels for float weights (F32, BF16, F16) against float32
// activations, accumulating with FMLA in 4-lane float32 accumulators.
//
// gemm*x4: 4 rows of x against n weight rows, 4 at a time: a 4×4 block keeps 16
// accumulators (V0–V15), 8 weight vectors (V16–V23, 8 elements of each of 4 rows) and
// 2 x vectors (V24–V25) per 8-element step.
//
// The assembler has no vector FADD; a + b is written FMLA(a, b, ONES), which rounds
// once exactly like FADD.

#define XBASE R0  // &x[0]
#define LDX R1    // ldx in bytes
#define X0 R2     // x rows, advancing
#define X1 R3
#define X2 R4
#define X3 R5
#define W0 R6     // weight rows of the group, advancing
#define W1 R7
#define W2 R8
#define W3 R9
#define WROW R10  // first weight row of the group
#define LDW R11   // ldw in bytes
#define YP R12    // &y[j], row 0
#define LDY R13   // ldy in bytes
#define NLEFT R14 // weight rows left
#define KLEFT R15 // elements left in the row
#define KARG R16  // k
#define YR R17    // scratch row pointer into y
#define PF R19    // next line of pf to prefetch
#define PFEND R20 // &pf[len(pf)]

#define ONES V26
#define ZERO V27

// FMAROW(x, wa…wd, a0…a3): a_j += x·w_j for the 4 weight rows.
#define FMAROW(x, wa, wb, wc, wd, a0, a1, a2, a3) \
	VFMLA wa.S4, x.S4, a0.S4 \
	VFMLA wb.S4, x.S4, a1.S4 \
	VFMLA wc.S4, x.S4, a2.S4 \
	VFMLA wd.S4, x.S4, a3.S4

// ROW8(xr, a0…a3): the 8 x elements of row xr against the 8 weights of each row.
#define ROW8(xr, a0, a1, a2, a3) \
	VLD1.P 32(xr), [V24.S4, V25.S4]                   \
	FMAROW(V24, V16, V18, V20, V22, a0, a1, a2, a3)   \
	FMAROW(V25, V17, V19, V21, V23, a0, a1, a2, a3)

#define BODY \
	ROW8(X0, V0, V1, V2, V3)     \
	ROW8(X1, V4, V5, V6, V7)     \
	ROW8(X2, V8, V9, V10, V11)   \
	ROW8(X3, V12, V13, V14, V15)

// SUM4(a0…a3, t0, t1, t2, t3) leaves [Σa0, Σa1, Σa2, Σa3] in t0 (lane sums):
//	s01 = uzp1(a0,a1) + uzp2(a0,a1); s23 likewise; t0 = uzp1(s01,s23) + uzp2(s01,s23)
#define SUM4(a0, a1, a2, a3, t0, t1, t2, t3) \
	VUZP1 a1.S4, a0.S4, t0.S4 \
	VUZP2 a1.S4, a0.S4, t1.S4 \
	VFMLA t1.S4, ONES.S4, t0.S4 \
	VUZP1 a3.S4, a2.S4, t2.S4 \
	VUZP2 a3.S4, a2.S4, t3.S4 \
	VFMLA t3.S4, ONES.S4, t2.S4 \
	VUZP1 t2.S4, t0.S4, t1.S4 \
	VUZP2 t2.S4, t0.S4, t3.S4 \
	VFMLA t3.S4, ONES.S4, t1.S4 \
	VMOV t1.B16, t0.B16

// STOREROW adds the lane sums of a0…a3 into y[YR : YR+4].
#define STOREROW(a0, a1, a2, a3) \
	SUM4(a0, a1, a2, a3, V16, V17, V18, V19) \
	VLD1 (YR), [V20.S4]                      \
	VFMLA V16.S4, ONES.S4, V20.S4            \
	VST1 [V20.S4], (YR)

#define ZEROACC \
	VEOR V0.B16, V0.B16, V0.B16    \
	VEOR V1.B16, V1.B16, V1.B16    \
	VEOR V2.B16, V2.B16, V2.B16    \
	VEOR V3.B16, V3.B16, V3.B16    \
	VEOR V4.B16, V4.B16, V4.B16    \
	VEOR V5.B16, V5.B16, V5.B16    \
	VEOR V6.B16, V6.B16, V6.B16    \
	VEOR V7.B16, V7.B16, V7.B16    \
	VEOR V8.B16, V8.B16, V8.B16    \
	VEOR V9.B16, V9.B16, V9.B16    \
	VEOR V10.B16, V10.B16, V10.B16 \
	VEOR V11.B16, V11.B16, V11.B16 \
	VEOR V12.B16, V12.B16, V12.B16 \
	VEOR V13.B16, V13.B16, V13.B16 \
	VEOR V14.B16, V14.B16, V14.B16 \
	VEOR V15.B16, V15.B16, V15.B16

// GROUPSTART points X0…X3 at the x rows and W0…W3 at the group's weight rows.
#define GROUPSTART \
	ZEROACC                    \
	MOVD XBASE, X0             \
	ADD LDX, X0, X1            \
	ADD LDX, X1, X2            \
	ADD LDX, X2, X3            \
	MOVD WROW, W0              \
	ADD LDW, W0, W1            \
	ADD LDW, W1, W2            \
	ADD LDW, W2, W3            \
	MOVD KARG, KLEFT

#define ONESINIT \
	FMOVS $1.0, F26                \
	VDUP V26.S[0], ONES.S4

// Weight loads of the 4×4 kernels: the next 8 weights of each of the 4 rows, widened
// to float32 in V16…V23 (two vectors per row). bfloat16 widens by interleaving zero
// halves below it (zip(0, w) = w<<16); IEEE halves by FCVTL/FCVTL2.
#define LOADW4F32 \
	VLD1.P 32(W0), [V16.S4, V17.S4] \
	VLD1.P 32(W1), [V18.S4, V19.S4] \
	VLD1.P 32(W2), [V20.S4, V21.S4] \
	VLD1.P 32(W3), [V22.S4, V23.S4]
#define LOADW4BF16 \
	VLD1.P 16(W0), [V28.H8]         \
	VLD1.P 16(W1), [V29.H8]         \
	VLD1.P 16(W2), [V30.H8]         \
	VLD1.P 16(W3), [V31.H8]         \
	VZIP1  V28.H8, ZERO.H8, V16.H8  \
	VZIP2  V28.H8, ZERO.H8, V17.H8  \
	VZIP1  V29.H8, ZERO.H8, V18.H8  \
	VZIP2  V29.H8, ZERO.H8, V19.H8  \
	VZIP1  V30.H8, ZERO.H8, V20.H8  \
	VZIP2  V30.H8, ZERO.H8, V21.H8  \
	VZIP1  V31.H8, ZERO.H8, V22.H8  \
	VZIP2  V31.H8, ZERO.H8, V23.H8
#define LOADW4F16 \
	VLD1.P 16(W0), [V28.H8]    \
	VLD1.P 16(W1), [V29.H8]    \
	VLD1.P 16(W2), [V30.H8]    \
	VLD1.P 16(W3), [V31.H8]    \
	FCVTL_4S(16, 28)           \
	FCVTL2_4S(17, 28)          \
	FCVTL_4S(18, 29)           \
	FCVTL2_4S(19, 29)          \
	FCVTL_4S(20, 30)           \
	FCVTL2_4S(21, 30)          \
	FCVTL_4S(22, 31)           \
	FCVTL2_4S(23, 31)

// GEMM4x4(LOADW4, esz) is the whole of a gemm*x4 kernel with weights of 1<<esz bytes,
// after its TEXT body has loaded the arguments (YP, LDY, XBASE, LDX, WROW, LDW, NLEFT,
// KARG, PF and PFEND = len(pf)): for each group of 4 weight rows the k loop
// (prefetching the next line of pf, if any, each step) and the stores; W3 has then
// advanced k<<esz bytes, so the next group starts at W3 − k<<esz + ldw.
#define GEMM4x4(LOADW4, esz) \
	LSL  $2, LDY, LDY                 \
	LSL  $2, LDX, LDX                 \
	ADD  PF, PFEND, PFEND             \
	ONESINIT                          \
	VEOR ZERO.B16, ZERO.B16, ZERO.B16 \
group:                                \
	GROUPSTART                        \
loop:                                 \
	CMP    PFEND, PF                  \
	BHS    nopf                       \
	PRFM   (PF), PLDL2KEEP            \
	ADD    $64, PF, PF                \
nopf:                                 \
	LOADW4                            \
	BODY                              \
	SUBS   $8, KLEFT, KLEFT           \
	BNE    loop                       \
	MOVD YP, YR                       \
	STOREROW(V0, V1, V2, V3)          \
	ADD  LDY, YR, YR                  \
	STOREROW(V4, V5, V6, V7)          \
	ADD  LDY, YR, YR                  \
	STOREROW(V8, V9, V10, V11)        \
	ADD  LDY, YR, YR                  \
	STOREROW(V12, V13, V14, V15)      \
	ADD  $16, YP, YP                  \
	SUB  KARG<<esz, W3, WROW          \
	ADD  LDW, WROW, WROW              \
	SUBS $4, NLEFT, NLEFT             \
	BNE  group                        \
	RET

// func gemmF32x4NEON(y []float32, ldy int, x []float32, ldx int, w []byte, ldw int, n int, k int, pf []byte)
// Requires: NEON
//
//	for i < 4, j < n: y[i*ldy+j] += Σ_{p<k} x[i*ldx+p]·W_j[p], W_j = float32s at w[j*ldw:]
//	n > 0, n%4 == 0, k > 0, k%8 == 0
//	and, as a hint, prefetch one line of pf per 8 elements of k until pf is covered
TEXT ·gemmF32x4NEON(SB), NOSPLIT, $0-136
	MOVD y_base+0(FP), YP
	MOVD ldy+24(FP), LDY
	MOVD x_base+32(FP), XBASE
	MOVD ldx+56(FP), LDX
	MOVD w_base+64(FP), WROW
	MOVD ldw+88(FP), LDW
	MOVD n+96(FP), NLEFT
	MOVD k+104(FP), KARG
	MOVD pf_base+112(FP), PF
	MOVD pf_len+120(FP), PFEND
	GEMM4x4(LOADW4F32, 2)

// func gemmBF16x4NEON(y []float32, ldy int, x []float32, ldx int, w []byte, ldw int, n int, k int, pf []byte)
// Requires: NEON
//
//	as gemmF32x4NEON with W_j = bfloat16s at w[j*ldw:], widened by zip(0, w) = w<<16
TEXT ·gemmBF16x4NEON(SB), NOSPLIT, $0-136
	MOVD y_base+0(FP), YP
	MOVD ldy+24(FP), LDY
	MOVD x_base+32(FP), XBASE
	MOVD ldx+56(FP), LDX
	MOVD w_base+64(FP), WROW
	MOVD ldw+88(FP), LDW
	MOVD n+96(FP), NLEFT
	MOVD k+104(FP), KARG
	MOVD pf_base+112(FP), PF
	MOVD pf_len+120(FP), PFEND
	GEMM4x4(LOADW4BF16, 1)

// func gemmF16x4NEON(y []float32, ldy int, x []float32, ldx int, w []byte, ldw int, n int, k int, pf []byte)
// Requires: NEON, FP16 conversions (ARMv8.0)
//
//	as gemmF32x4NEON with W_j = IEEE halves at w[j*ldw:]
TEXT ·gemmF16x4NEON(SB), NOSPLIT, $0-136
	MOVD y_base+0(FP), YP
	MOVD ldy+24(FP), LDY
	MOVD x_base+32(FP), XBASE
	MOVD ldx+56(FP), LDX
	MOVD w_base+64(FP), WROW
	MOVD ldw+88(FP), LDW
	MOVD n+96(FP), NLEFT
	MOVD k+104(FP), KARG
	MOVD pf_base+112(FP), PF
	MOVD pf_len+120(FP), PFEND
	GEMM4x4(LOADW4F16, 1)

// GEMV: y[j] += Σ_p x[p]·W_j[p] with exactly the arithmetic of the 4×4 kernels as the
// Go driver calls them, so a row's result does not depend on which kernel computed it:
// per K-chunk of floatChunk elements, one 4-lane accumulator per weight row fed two
// FMLAs per 8 elements (low 4, then high 4), reduced by SUM4 and added into y. Four
// weight rows go at a time, then one at a time.
//
// LOADW8(w, a, b, an, bn) loads the next 8 weights of the row at w (post-incremented)
// as float32 into registers a, b (numbers an, bn). Inputs: YP = &y[0], YR = &y[len(y)],
// XBASE = &x[0], KARG = len(x), WROW = &w[0], LDW = ldw, CHUNK = floatChunk.
#define CLEFT R14
#define CHUNK R19

// GCHUNK sets CLEFT = min(CHUNK, KLEFT) and KLEFT -= CLEFT.
#define GCHUNK \
	CMP CHUNK, KLEFT                   \
	CSEL LT, KLEFT, CHUNK, CLEFT       \
	SUB CLEFT, KLEFT, KLEFT

#define GEMV(LOADW8) \
row4:                                  \
	SUB YP, YR, R3                     \
	CMP $16, R3                        \
	BLT row1                           \
	MOVD XBASE, X0                     \
	MOVD WROW, W0                      \
	ADD LDW, W0, W1                    \
	ADD LDW, W1, W2                    \
	ADD LDW, W2, W3                    \
	MOVD KARG, KLEFT                   \
chunk4:                                \
	VEOR V0.B16, V0.B16, V0.B16        \
	VEOR V1.B16, V1.B16, V1.B16        \
	VEOR V2.B16, V2.B16, V2.B16        \
	VEOR V3.B16, V3.B16, V3.B16        \
	GCHUNK                             \
step4:                                 \
	VLD1.P 32(X0), [V20.S4, V21.S4]    \
	LOADW8(W0, V16, V17, 16, 17)       \
	LOADW8(W1, V18, V19, 18, 19)       \
	LOADW8(W2, V22, V23, 22, 23)       \
	LOADW8(W3, V24, V25, 24, 25)       \
	VFMLA V16.S4, V20.S4, V0.S4        \
	VFMLA V17.S4, V21.S4, V0.S4        \
	VFMLA V18.S4, V20.S4, V1.S4        \
	VFMLA V19.S4, V21.S4, V1.S4        \
	VFMLA V22.S4, V20.S4, V2.S4        \
	VFMLA V23.S4, V21.S4, V2.S4        \
	VFMLA V24.S4, V20.S4, V3.S4        \
	VFMLA V25.S4, V21.S4, V3.S4        \
	SUBS $8, CLEFT, CLEFT              \
	BNE step4                          \
	SUM4(V0, V1, V2, V3, V16, V17, V18, V19) \
	VLD1 (YP), [V20.S4]                \
	VFMLA V16.S4, ONES.S4, V20.S4      \
	VST1 [V20.S4], (YP)                \
	CBNZ KLEFT, chunk4                 \
	ADD $16, YP, YP                    \
	ADD LDW<<2, WROW, WROW             \
	B row4                             \
row1:                                  \
	CMP YP, YR                         \
	BEQ done                           \
	MOVD XBASE, X0                     \
	MOVD WROW, W0                      \
	MOVD KARG, KLEFT                   \
chunk1:                                \
	VEOR V0.B16, V0.B16, V0.B16        \
	GCHUNK                             \
step1:                                 \
	VLD1.P 32(X0), [V20.S4, V21.S4]    \
	LOADW8(W0, V16, V17, 16, 17)       \
	VFMLA V16.S4, V20.S4, V0.S4        \
	VFMLA V17.S4, V21.S4, V0.S4        \
	SUBS $8, CLEFT, CLEFT              \
	BNE step1                          \
	SUM4(V0, V0, V0, V0, V16, V17, V18, V19) \
	FMOVS (YP), F20                    \
	FADDS F16, F20                     \
	FMOVS F20, (YP)                    \
	CBNZ KLEFT, chunk1                 \
	ADD $4, YP, YP                     \
	ADD LDW, WROW, WROW                \
	B row1                             \
done:                                  \
	RET

#define LOADF32(w, a, b, an, bn) VLD1.P 32(w), [a.S4, b.S4]
#define LOADBF16(w, a, b, an, bn) VLD1.P 16(w), [V28.H8]; VZIP1 V28.H8, ZERO.H8, a.H8; VZIP2 V28.H8, ZERO.H8, b.H8
#define LOADF16(w, a, b, an, bn) VLD1.P 16(w), [V28.H8]; FCVTL_4S(an, 28); FCVTL2_4S(bn, 28)

// Arguments: y_base+0 y_len+8 y_cap+16 x_base+24 x_len+32 x_cap+40 w_base+48 w_len+56
// w_cap+64 ldw+72. YR = &y[len(y)]; KARG = len(x).

// func gemvF32NEON(y []float32, x []float32, w []byte, ldw int)
// Requires: NEON
//
//	for j < len(y): y[j] += Σ_{p<len(x)} x[p]·W_j[p], W_j = float32s at w[j*ldw:]
//	len(x)%8 == 0, floatChunk%8 == 0 (summed chunk by chunk, see GEMV)
TEXT ·gemvF32NEON(SB), NOSPLIT, $0-80
	MOVD y_base+0(FP), YP
	MOVD y_len+8(FP), YR
	ADD  YR<<2, YP, YR
	MOVD x_base+24(FP), XBASE
	MOVD x_len+32(FP), KARG
	MOVD w_base+48(FP), WROW
	MOVD ldw+72(FP), LDW
	MOVD ·floatChunk(SB), CHUNK
	ONESINIT
	GEMV(LOADF32)

// func gemvBF16NEON(y []float32, x []float32, w []byte, ldw int)
// Requires: NEON
//
//	as gemvF32NEON with W_j = bfloat16s at w[j*ldw:]
TEXT ·gemvBF16NEON(SB), NOSPLIT, $0-80
	MOVD y_base+0(FP), YP
	MOVD y_len+8(FP), YR
	ADD  YR<<2, YP, YR
	MOVD x_base+24(FP), XBASE
	MOVD x_len+32(FP), KARG
	MOVD w_base+48(FP), WROW
	MOVD ldw+72(FP), LDW
	MOVD ·floatChunk(SB), CHUNK
	ONESINIT
	VEOR ZERO.B16, ZERO.B16, ZERO.B16
	GEMV(LOADBF16)

// func gemvF16NEON(y []float32, x []float32, w []byte, ldw int)
// Requires: NEON
//
//	as gemvF32NEON with W_j = IEEE halves at w[j*ldw:]
TEXT ·gemvF16NEON(SB), NOSPLIT, $0-80
	MOVD y_base+0(FP), YP
	MOVD y_len+8(FP), YR
	ADD  YR<<2, YP, YR
	MOVD x_base+24(FP), XBASE
	MOVD x_len+32(FP), KARG
	MOVD w_base+48(FP), WROW
	MOVD ldw+72(FP), LDW
	MOVD ·floatChunk(SB), CHUNK
	ONESINIT
	GEMV(LOADF16)
