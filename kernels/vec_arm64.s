//go:build gc && !purego

#include "textflag.h"

// NEON vector kernels. Each processes the first len&^15 elements; the Go wrapper in
// vec_arm64.go finishes the tail. Without a vector FADD/FMUL in the assembler,
// sums are FMLA(a, b, ONES) and products FMLA(−0, x, alpha): both round once, exactly
// like FADD and FMUL (−0 + p == p for every p, signed zeros included).

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

// FCVTL Vd.2D, Vn.2S / FCVTL2 Vd.2D, Vn.4S: widen float32 lanes 0–1 / 2–3 to float64
// (not in the Go assembler).
#define FCVTLD(d, n) WORD $(0x0e617800 | (n<<5) | d)
#define FCVTL2D(d, n) WORD $(0x4e617800 | (n<<5) | d)

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
	FCVTLD(16, 4)                // exact float64 widening
	FCVTL2D(17, 4)
	FCVTLD(18, 5)
	FCVTL2D(19, 5)
	VFMLA  V16.D2, V16.D2, V0.D2 // squares of float32s are exact in float64
	VFMLA  V17.D2, V17.D2, V1.D2
	VFMLA  V18.D2, V18.D2, V2.D2
	VFMLA  V19.D2, V19.D2, V3.D2
	FCVTLD(16, 6)
	FCVTL2D(17, 6)
	FCVTLD(18, 7)
	FCVTL2D(19, 7)
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
