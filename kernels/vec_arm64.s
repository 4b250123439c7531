//go:build gc && !purego

#include "textflag.h"
#include "neon_arm64.h"

// NEON vector kernels. Each processes the first len&^15 elements (siluMulNEON and
// softmaxExpNEON, 8 at a time, len&^7); the Go wrapper in vec_arm64.go finishes the
// tail. Without a vector FADD/FMUL in the assembler, the simple kernels write sums as
// FMLA(a, b, ONES) and products as FMLA(−0, x, alpha): both round once, exactly like
// FADD and FMUL (−0 + p == p for every p, signed zeros included). The kernels from
// siluMulNEON on use WORD-encoded FADD, FMUL and friends instead (neon_arm64.h).

#define PA R0
#define PB R1
#define PD R2
#define N R3

// func dotNEON(a, b []float32) float32
// Requires: NEON
//
//	returns Σ_{i < len(a)&^15} a[i]·b[i]; len(b) >= len(a)&^15
TEXT ·dotNEON(SB), NOSPLIT, $0-52
	MOVD  a_base+0(FP), PA
	MOVD  a_len+8(FP), N
	AND   $~15, N, N
	MOVD  b_base+24(FP), PB
	VEOR  V0.B16, V0.B16, V0.B16
	VEOR  V1.B16, V1.B16, V1.B16
	VEOR  V2.B16, V2.B16, V2.B16
	VEOR  V3.B16, V3.B16, V3.B16
	FMOVS $1.0, F31
	VDUP  V31.S[0], V31.S4
	CBZ   N, sum

loop:
	VLD1.P 64(PA), [V4.S4, V5.S4, V6.S4, V7.S4]
	VLD1.P 64(PB), [V16.S4, V17.S4, V18.S4, V19.S4]
	VFMLA  V4.S4, V16.S4, V0.S4 // Vk += a[i+4k : i+4k+4]·b[…]
	VFMLA  V5.S4, V17.S4, V1.S4
	VFMLA  V6.S4, V18.S4, V2.S4
	VFMLA  V7.S4, V19.S4, V3.S4
	SUBS   $16, N, N
	BNE    loop

sum:
	VFMLA V1.S4, V31.S4, V0.S4 // V0 += V1
	VFMLA V3.S4, V31.S4, V2.S4
	VFMLA V2.S4, V31.S4, V0.S4
	VUZP1 V0.S4, V0.S4, V1.S4  // lanes (0+1, 2+3) …
	VUZP2 V0.S4, V0.S4, V2.S4
	VFMLA V2.S4, V31.S4, V1.S4
	VUZP1 V1.S4, V1.S4, V0.S4
	VUZP2 V1.S4, V1.S4, V2.S4
	VFMLA V2.S4, V31.S4, V0.S4
	FMOVS F0, ret+48(FP)
	RET

// func axpyNEON(y []float32, alpha float32, x []float32)
// Requires: NEON
//
//	for i < len(y)&^15: y[i] = fma(alpha, x[i], y[i]); len(x) >= len(y)&^15
TEXT ·axpyNEON(SB), NOSPLIT, $0-56
	MOVD  y_base+0(FP), PD
	MOVD  y_len+8(FP), N
	AND   $~15, N, N
	MOVD  $alpha+24(FP), PB
	VLD1R (PB), [V8.S4]
	MOVD  x_base+32(FP), PA
	CBZ   N, done

loop:
	VLD1.P 64(PA), [V4.S4, V5.S4, V6.S4, V7.S4]
	VLD1   (PD), [V0.S4, V1.S4, V2.S4, V3.S4]
	VFMLA  V8.S4, V4.S4, V0.S4
	VFMLA  V8.S4, V5.S4, V1.S4
	VFMLA  V8.S4, V6.S4, V2.S4
	VFMLA  V8.S4, V7.S4, V3.S4
	VST1.P [V0.S4, V1.S4, V2.S4, V3.S4], 64(PD)
	SUBS   $16, N, N
	BNE    loop

done:
	RET

// func addNEON(dst, a, b []float32)
// Requires: NEON
//
//	for i < len(dst)&^15: dst[i] = a[i] + b[i]
TEXT ·addNEON(SB), NOSPLIT, $0-72
	MOVD  dst_base+0(FP), PD
	MOVD  dst_len+8(FP), N
	AND   $~15, N, N
	MOVD  a_base+24(FP), PA
	MOVD  b_base+48(FP), PB
	FMOVS $1.0, F31
	VDUP  V31.S[0], V31.S4
	CBZ   N, done

loop:
	VLD1.P 64(PA), [V0.S4, V1.S4, V2.S4, V3.S4]
	VLD1.P 64(PB), [V4.S4, V5.S4, V6.S4, V7.S4]
	VFMLA  V4.S4, V31.S4, V0.S4 // a + b·1
	VFMLA  V5.S4, V31.S4, V1.S4
	VFMLA  V6.S4, V31.S4, V2.S4
	VFMLA  V7.S4, V31.S4, V3.S4
	VST1.P [V0.S4, V1.S4, V2.S4, V3.S4], 64(PD)
	SUBS   $16, N, N
	BNE    loop

done:
	RET

// NEGZERO sets v to −0 in every lane.
#define NEGZERO(v) \
	MOVW $0x80000000, R5 \
	VDUP R5, v.S4

// func scaleNEON(x []float32, alpha float32)
// Requires: NEON
//
//	for i < len(x)&^15: x[i] *= alpha
TEXT ·scaleNEON(SB), NOSPLIT, $0-28
	MOVD  x_base+0(FP), PD
	MOVD  x_len+8(FP), N
	AND   $~15, N, N
	MOVD  $alpha+24(FP), PB
	VLD1R (PB), [V8.S4]
	NEGZERO(V9)
	CBZ   N, done

loop:
	VLD1  (PD), [V4.S4, V5.S4, V6.S4, V7.S4]
	VMOV  V9.B16, V0.B16
	VMOV  V9.B16, V1.B16
	VMOV  V9.B16, V2.B16
	VMOV  V9.B16, V3.B16
	VFMLA V8.S4, V4.S4, V0.S4 // −0 + x·alpha
	VFMLA V8.S4, V5.S4, V1.S4
	VFMLA V8.S4, V6.S4, V2.S4
	VFMLA V8.S4, V7.S4, V3.S4
	VST1.P [V0.S4, V1.S4, V2.S4, V3.S4], 64(PD)
	SUBS  $16, N, N
	BNE   loop

done:
	RET

// func mulScaledNEON(dst, x, w []float32, s float32)
// Requires: NEON
//
//	for i < len(dst)&^15: dst[i] = (x[i]·s)·w[i], each product rounded to float32
TEXT ·mulScaledNEON(SB), NOSPLIT, $0-76
	MOVD  dst_base+0(FP), PD
	MOVD  dst_len+8(FP), N
	AND   $~15, N, N
	MOVD  x_base+24(FP), PA
	MOVD  w_base+48(FP), PB
	MOVD  $s+72(FP), R4
	VLD1R (R4), [V8.S4]
	NEGZERO(V9)
	CBZ   N, done

loop:
	VLD1.P 64(PA), [V4.S4, V5.S4, V6.S4, V7.S4]
	VLD1.P 64(PB), [V16.S4, V17.S4, V18.S4, V19.S4]
	VMOV   V9.B16, V0.B16
	VMOV   V9.B16, V1.B16
	VMOV   V9.B16, V2.B16
	VMOV   V9.B16, V3.B16
	VFMLA  V8.S4, V4.S4, V0.S4  // t = x·s
	VFMLA  V8.S4, V5.S4, V1.S4
	VFMLA  V8.S4, V6.S4, V2.S4
	VFMLA  V8.S4, V7.S4, V3.S4
	VMOV   V9.B16, V4.B16
	VMOV   V9.B16, V5.B16
	VMOV   V9.B16, V6.B16
	VMOV   V9.B16, V7.B16
	VFMLA  V16.S4, V0.S4, V4.S4 // t·w
	VFMLA  V17.S4, V1.S4, V5.S4
	VFMLA  V18.S4, V2.S4, V6.S4
	VFMLA  V19.S4, V3.S4, V7.S4
	VST1.P [V4.S4, V5.S4, V6.S4, V7.S4], 64(PD)
	SUBS   $16, N, N
	BNE    loop

done:
	RET

// func sumSquaresNEON(x []float32) float64
// Requires: NEON
//
//	returns Σ_{i < len(x)&^15} float64(x[i])², accumulated in float64 (4 × 2 lanes)
TEXT ·sumSquaresNEON(SB), NOSPLIT, $0-32
	MOVD  x_base+0(FP), PA
	MOVD  x_len+8(FP), N
	AND   $~15, N, N
	VEOR  V0.B16, V0.B16, V0.B16
	VEOR  V1.B16, V1.B16, V1.B16
	VEOR  V2.B16, V2.B16, V2.B16
	VEOR  V3.B16, V3.B16, V3.B16
	CBZ   N, sum

loop:
	VLD1.P 64(PA), [V4.S4, V5.S4, V6.S4, V7.S4]
	FCVTL_2D(16, 4)                // exact float64 widening
	FCVTL2_2D(17, 4)
	FCVTL_2D(18, 5)
	FCVTL2_2D(19, 5)
	VFMLA  V16.D2, V16.D2, V0.D2 // squares of float32s are exact in float64
	VFMLA  V17.D2, V17.D2, V1.D2
	VFMLA  V18.D2, V18.D2, V2.D2
	VFMLA  V19.D2, V19.D2, V3.D2
	FCVTL_2D(16, 6)
	FCVTL2_2D(17, 6)
	FCVTL_2D(18, 7)
	FCVTL2_2D(19, 7)
	VFMLA  V16.D2, V16.D2, V0.D2
	VFMLA  V17.D2, V17.D2, V1.D2
	VFMLA  V18.D2, V18.D2, V2.D2
	VFMLA  V19.D2, V19.D2, V3.D2
	SUBS   $16, N, N
	BNE    loop

sum:
	FMOVD $1.0, F31
	VDUP  V31.D[0], V31.D2
	VFMLA V1.D2, V31.D2, V0.D2 // V0 += V1
	VFMLA V3.D2, V31.D2, V2.D2
	VFMLA V2.D2, V31.D2, V0.D2
	VMOV  V0.D[1], R4
	FMOVD R4, F1
	FADDD F1, F0, F0
	FMOVD F0, ret+24(FP)
	RET

// Constants of the float32 exponential, as in vec_amd64.s (Cody–Waite reduction by ln 2
// in two parts and the Cephes expf polynomial on |r| ≤ ln2/2). EXPCONSTS relies on
// their order.
DATA expConsts<>+0(SB)/4, $0x3fb8aa3b  // log2(e)
DATA expConsts<>+4(SB)/4, $0x3f318000  // C1 = 0.693359375
DATA expConsts<>+8(SB)/4, $0xb95e8083  // C2 = -2.12194440e-4 (ln2 = C1 + C2)
DATA expConsts<>+12(SB)/4, $0x39506967 // p0 = 1.9875691500e-4
DATA expConsts<>+16(SB)/4, $0x3ab743ce // p1 = 1.3981999507e-3
DATA expConsts<>+20(SB)/4, $0x3c088908 // p2 = 8.3334519073e-3
DATA expConsts<>+24(SB)/4, $0x3d2aa9c1 // p3 = 4.1665795894e-2
DATA expConsts<>+28(SB)/4, $0x3e2aaaaa // p4 = 1.6666665459e-1
DATA expConsts<>+32(SB)/4, $0x3f000000 // p5 = 0.5
DATA expConsts<>+36(SB)/4, $0x3f800000 // 1
DATA expConsts<>+40(SB)/4, $0xc2ae999a // lowest argument, -87.3
DATA expConsts<>+44(SB)/4, $0xff800000 // -Inf (for maxNEON)
GLOBL expConsts<>(SB), RODATA|NOPTR, $48

// Registers of siluMulNEON and softmaxExpNEON, which run two independent streams of 4
// lanes (…0 and …1) to overlap the long dependency chain of the exponential. Each
// register used by a WORD-encoded instruction also has its number, named …n.
#define A0 V0  // input (gate, x); siluMul's result
#define A1 V1
#define T0 V2  // t, then r, then e = exp(t)
#define T1 V3
#define K0 V4  // k = round(t·log2 e), then 2^k
#define K1 V5
#define P0 V6  // polynomial, alternating with Q in the Horner steps
#define P1 V7
#define Q0 V8
#define Q1 V9
#define M0 V10 // a mask
#define M1 V11
#define L0 V12 // softmax: the rounding error of t; siluMul: up
#define L1 V13
#define A0n 0
#define A1n 1
#define T0n 2
#define T1n 3
#define K0n 4
#define K1n 5
#define P0n 6
#define P1n 7
#define M0n 10
#define M1n 11
#define L0n 12
#define L1n 13

// V20–V31 hold expConsts, each in all 4 lanes.
#define CLOG2E V20
#define CC1 V21
#define CC2 V22
#define CP0 V23
#define CP1 V24
#define CP2 V25
#define CP3 V26
#define CP4 V27
#define CP5 V28
#define CONE V29
#define CLO V30
#define CLOG2En 20
#define CONEn 29
#define CLOn 30

// EXPCONSTS loads expConsts into V20–V31 (LD4R: 4 consecutive floats, each replicated
// into all lanes of one of 4 consecutive registers). Clobbers R4.
#define EXPCONSTS \
	MOVD    $expConsts<>(SB), R4                     \
	VLD4R.P 16(R4), [V20.S4, V21.S4, V22.S4, V23.S4] \
	VLD4R.P 16(R4), [V24.S4, V25.S4, V26.S4, V27.S4] \
	VLD4R   (R4), [V28.S4, V29.S4, V30.S4, V31.S4]

// EXPREDUCE, for t ≤ 0 in T0 and T1, clamps t below at −87.3 (so e ≥ 2⁻¹²⁶) and
// reduces it by ln 2, the operations of EXPNEG in vec_amd64.s:
//	k = round(t·log2 e) (ties to even); r = t − k·C1 − k·C2 (each step fused)
// leaving r in T and k in K.
#define EXPREDUCE \
	FMAX_4S(T0n, T0n, CLOn)      \
	FMAX_4S(T1n, T1n, CLOn)      \
	FMUL_4S(K0n, T0n, CLOG2En)   \
	FMUL_4S(K1n, T1n, CLOG2En)   \
	FRINTN_4S(K0n, K0n)          \
	FRINTN_4S(K1n, K1n)          \
	VFMLS   CC1.S4, K0.S4, T0.S4 \
	VFMLS   CC1.S4, K1.S4, T1.S4 \
	VFMLS   CC2.S4, K0.S4, T0.S4 \
	VFMLS   CC2.S4, K1.S4, T1.S4

// EXPPOLY sets T = e = (p(r)·r² + (r + 1))·2^k from r in T and k in K, as EXPNEG in
// vec_amd64.s: p by Horner's rule from p0, each step fused (q = p·r + p_j, alternating
// between P and Q), r² and r + 1 rounded, the last step fused; 2^k from the integer k
// as (k + 127) << 23 (adding the bits of 1.0; −126 ≤ k ≤ 0 after the clamp).
// Clobbers K, P, Q.
#define EXPPOLY \
	VMOV      CP1.B16, Q0.B16       \
	VMOV      CP1.B16, Q1.B16       \
	VFMLA     CP0.S4, T0.S4, Q0.S4  \
	VFMLA     CP0.S4, T1.S4, Q1.S4  \
	FCVTZS_4S(K0n, K0n)             \
	FCVTZS_4S(K1n, K1n)             \
	VMOV      CP2.B16, P0.B16       \
	VMOV      CP2.B16, P1.B16       \
	VFMLA     Q0.S4, T0.S4, P0.S4   \
	VFMLA     Q1.S4, T1.S4, P1.S4   \
	VSHL      $23, K0.S4, K0.S4     \
	VSHL      $23, K1.S4, K1.S4     \
	VMOV      CP3.B16, Q0.B16       \
	VMOV      CP3.B16, Q1.B16       \
	VFMLA     P0.S4, T0.S4, Q0.S4   \
	VFMLA     P1.S4, T1.S4, Q1.S4   \
	VADD      CONE.S4, K0.S4, K0.S4 \
	VADD      CONE.S4, K1.S4, K1.S4 \
	VMOV      CP4.B16, P0.B16       \
	VMOV      CP4.B16, P1.B16       \
	VFMLA     Q0.S4, T0.S4, P0.S4   \
	VFMLA     Q1.S4, T1.S4, P1.S4   \
	VMOV      CP5.B16, Q0.B16       \
	VMOV      CP5.B16, Q1.B16       \
	VFMLA     P0.S4, T0.S4, Q0.S4   \
	VFMLA     P1.S4, T1.S4, Q1.S4   \
	FMUL_4S(P0n, T0n, T0n)          \
	FMUL_4S(P1n, T1n, T1n)          \
	FADD_4S(T0n, T0n, CONEn)        \
	FADD_4S(T1n, T1n, CONEn)        \
	VFMLA     Q0.S4, P0.S4, T0.S4   \
	VFMLA     Q1.S4, P1.S4, T1.S4   \
	FMUL_4S(T0n, T0n, K0n)          \
	FMUL_4S(T1n, T1n, K1n)

#define SIGN V18 // 0x80000000 in every lane

// func siluMulNEON(dst, gate, up []float32)
// Requires: NEON
//
//	for i < len(dst)&^7, g = gate[i], the operations of siluMulAVX2 in vec_amd64.s:
//		e = exp(−|g|) (polynomial, |rel err| < 2⁻²²; arguments below −87.3 clamped)
//		σ = 1/(1+e) if g ≥ 0, e/(1+e) if g < 0
//		dst[i] = (g·σ)·up[i]
TEXT ·siluMulNEON(SB), NOSPLIT, $0-72
	MOVD dst_base+0(FP), PD
	MOVD dst_len+8(FP), N
	AND  $~7, N, N
	MOVD gate_base+24(FP), PA
	MOVD up_base+48(FP), PB
	EXPCONSTS
	MOVW $0x80000000, R5
	VDUP R5, SIGN.S4
	CBZ  N, done

loop:
	VLD1.P 32(PA), [A0.S4, A1.S4]
	VLD1.P 32(PB), [L0.S4, L1.S4]
	VORR   SIGN.B16, A0.B16, T0.B16 // t = −|g|: the sign bit set
	VORR   SIGN.B16, A1.B16, T1.B16
	EXPREDUCE
	EXPPOLY                         // e = exp(t), t exact
	VCMTST SIGN.S4, A0.S4, M0.S4    // g < 0, by its sign bit as VBLENDVPS does
	VCMTST SIGN.S4, A1.S4, M1.S4
	VBSL   CONE.B16, T0.B16, M0.B16 // numerator: e where g < 0, else 1
	VBSL   CONE.B16, T1.B16, M1.B16
	FADD_4S(T0n, T0n, CONEn)         // 1 + e
	FADD_4S(T1n, T1n, CONEn)
	FDIV_4S(M0n, M0n, T0n)           // σ
	FDIV_4S(M1n, M1n, T1n)
	FMUL_4S(A0n, A0n, M0n)           // g·σ
	FMUL_4S(A1n, A1n, M1n)
	FMUL_4S(A0n, A0n, L0n)           // ·up
	FMUL_4S(A1n, A1n, L1n)
	VST1.P [A0.S4, A1.S4], 32(PD)
	SUBS   $8, N, N
	BNE    loop

done:
	RET

#define SUM0 V14 // float64 sums, 2 lanes each
#define SUM1 V15
#define SUM2 V16
#define SUM3 V17
#define MX V18   // mx in every lane
#define ZERO V19
#define SUM0n 14
#define SUM1n 15
#define SUM2n 16
#define SUM3n 17
#define MXn 18

// func softmaxExpNEON(x []float32, mx float32) float64
// Requires: NEON
//
//	for i < len(x)&^7: x[i] = exp(x[i] − mx) by the operations of softmaxExpAVX2 in
//	vec_amd64.s (polynomial as in siluMulNEON, for arguments ≤ 0; 0 below −87.3);
//	returns Σ float64(x[i]) over those i
TEXT ·softmaxExpNEON(SB), NOSPLIT, $0-40
	MOVD  x_base+0(FP), PD
	MOVD  x_len+8(FP), N
	AND   $~7, N, N
	MOVD  $mx+24(FP), R5
	VLD1R (R5), [MX.S4]
	EXPCONSTS
	VEOR  ZERO.B16, ZERO.B16, ZERO.B16
	VEOR  SUM0.B16, SUM0.B16, SUM0.B16
	VEOR  SUM1.B16, SUM1.B16, SUM1.B16
	VEOR  SUM2.B16, SUM2.B16, SUM2.B16
	VEOR  SUM3.B16, SUM3.B16, SUM3.B16
	CBZ   N, sum

loop:
	VLD1    (PD), [A0.S4, A1.S4]    // a = x
	FSUB_4S(T0n, A0n, MXn)           // t = fl(a − mx)
	FSUB_4S(T1n, A1n, MXn)
	FSUB_4S(K0n, T0n, A0n)           // TwoSum: lo = (a − (t − bb)) − (mx + bb),
	FSUB_4S(K1n, T1n, A1n)           // bb = t − a (in K)
	FSUB_4S(L0n, T0n, K0n)
	FSUB_4S(L1n, T1n, K1n)
	FSUB_4S(L0n, A0n, L0n)
	FSUB_4S(L1n, A1n, L1n)
	FADD_4S(K0n, K0n, MXn)
	FADD_4S(K1n, K1n, MXn)
	FSUB_4S(L0n, L0n, K0n)
	FSUB_4S(L1n, L1n, K1n)
	FCMGT_4S(M0n, CLOn, T0n)         // t < −87.3: e flushes to 0
	FCMGT_4S(M1n, CLOn, T1n)
	EXPREDUCE
	FADD_4S(T0n, T0n, L0n)           // r += lo
	FADD_4S(T1n, T1n, L1n)
	EXPPOLY
	VBIT    M0.B16, ZERO.B16, T0.B16
	VBIT    M1.B16, ZERO.B16, T1.B16
	VST1.P  [T0.S4, T1.S4], 32(PD)
	FCVTL_2D(A0n, T0n)                // exact float64 widening
	FCVTL2_2D(A1n, T0n)
	FCVTL_2D(K0n, T1n)
	FCVTL2_2D(K1n, T1n)
	FADD_2D(SUM0n, SUM0n, A0n)
	FADD_2D(SUM1n, SUM1n, A1n)
	FADD_2D(SUM2n, SUM2n, K0n)
	FADD_2D(SUM3n, SUM3n, K1n)
	SUBS    $8, N, N
	BNE     loop

sum:
	FADD_2D(SUM0n, SUM0n, SUM1n)
	FADD_2D(SUM2n, SUM2n, SUM3n)
	FADD_2D(0, SUM0n, SUM2n)
	VMOV  V0.D[1], R4
	FMOVD R4, F1
	FADDD F1, F0, F0
	FMOVD F0, ret+32(FP)
	RET

// func scaleRoundNEON(x []float32, s float64)
// Requires: NEON
//
//	for i < len(x)&^15: x[i] = float32(float64(x[i])·s): the product rounded in float64,
//	then to float32, the generic's bits
TEXT ·scaleRoundNEON(SB), NOSPLIT, $0-32
	MOVD  x_base+0(FP), PD
	MOVD  x_len+8(FP), N
	AND   $~15, N, N
	MOVD  $s+24(FP), R4
	VLD1R (R4), [V16.D2]
	CBZ   N, done

loop:
	VLD1   (PD), [V0.S4, V1.S4, V2.S4, V3.S4]
	FCVTL_2D(4, 0)                           // exact float64 widening
	FCVTL2_2D(5, 0)
	FCVTL_2D(6, 1)
	FCVTL2_2D(7, 1)
	FCVTL_2D(8, 2)
	FCVTL2_2D(9, 2)
	FCVTL_2D(10, 3)
	FCVTL2_2D(11, 3)
	FMUL_2D(4, 4, 16)                       // ·s (V16)
	FMUL_2D(5, 5, 16)
	FMUL_2D(6, 6, 16)
	FMUL_2D(7, 7, 16)
	FMUL_2D(8, 8, 16)
	FMUL_2D(9, 9, 16)
	FMUL_2D(10, 10, 16)
	FMUL_2D(11, 11, 16)
	FCVTN_2S(0, 4)                            // back to float32, in place
	FCVTN2_4S(0, 5)
	FCVTN_2S(1, 6)
	FCVTN2_4S(1, 7)
	FCVTN_2S(2, 8)
	FCVTN2_4S(2, 9)
	FCVTN_2S(3, 10)
	FCVTN2_4S(3, 11)
	VST1.P [V0.S4, V1.S4, V2.S4, V3.S4], 64(PD)
	SUBS   $16, N, N
	BNE    loop

done:
	RET

// func maxNEON(x []float32) (mx float32, nan bool)
// Requires: NEON
//
//	over i < len(x)&^15: mx = max x[i] ignoring NaNs (−Inf if none), nan = some x[i] is NaN
//
// V0–V3: x; V4–V7: running maxima, acc = x > acc ? x : acc, so no NaN ever wins (FMAXNM
// would ignore only quiet NaNs: a signalling one makes it return NaN); V8–V11: the
// comparisons; V16: the FMAX of everything, which turns NaN once any NaN is seen.
TEXT ·maxNEON(SB), NOSPLIT, $0-29
	MOVD  x_base+0(FP), PA
	MOVD  x_len+8(FP), N
	AND   $~15, N, N
	MOVD  $expConsts<>+44(SB), R4
	VLD1R (R4), [V4.S4]                      // −Inf
	VMOV  V4.B16, V5.B16
	VMOV  V4.B16, V6.B16
	VMOV  V4.B16, V7.B16
	VMOV  V4.B16, V16.B16
	CBZ   N, reduce

loop:
	VLD1.P 64(PA), [V0.S4, V1.S4, V2.S4, V3.S4]
	FCMGT_4S(8, 0, 4)                         // x > acc
	FCMGT_4S(9, 1, 5)
	FCMGT_4S(10, 2, 6)
	FCMGT_4S(11, 3, 7)
	VBIT   V8.B16, V0.B16, V4.B16            // acc = x there
	VBIT   V9.B16, V1.B16, V5.B16
	VBIT   V10.B16, V2.B16, V6.B16
	VBIT   V11.B16, V3.B16, V7.B16
	FMAX_4S(17, 0, 1)
	FMAX_4S(18, 2, 3)
	FMAX_4S(17, 17, 18)
	FMAX_4S(16, 16, 17)
	SUBS   $16, N, N
	BNE    loop

reduce:
	FMAX_4S(4, 4, 5)                          // the maxima hold no NaN
	FMAX_4S(6, 6, 7)
	FMAX_4S(4, 4, 6)
	FMAXV_4S(0, 4)
	FMOVS  F0, mx+24(FP)
	FMAXV_4S(1, 16)
	FCMPS  F1, F1                            // unordered iff a NaN was seen
	CSET   VS, R4
	MOVB   R4, nan+28(FP)
	RET
