//go:build gc && !purego

#include "textflag.h"

// Vector kernels. Each processes the first len&^7 elements (whole 8-lane vectors); the Go
// wrapper in vec_amd64.go finishes the tail. Main loops take 32 elements with 4
// independent accumulators or streams, then 8 at a time.

#define PA SI   // first operand
#define PB DI   // second operand
#define PD DX   // destination
#define N CX    // elements left (multiple of 8)

// REDUCEPS leaves the sum of the 8 lanes of Y0 in X0 (clobbers X1).
#define REDUCEPS \
	VEXTRACTF128 $1, Y0, X1 \
	VADDPS X1, X0, X0       \
	VHADDPS X0, X0, X0      \
	VHADDPS X0, X0, X0

// func dotAVX2(a, b []float32) float32
// Requires: AVX, FMA
//
//	returns Σ_{i < len(a)&^7} a[i]·b[i]; len(b) >= len(a)&^7
TEXT ·dotAVX2(SB), NOSPLIT, $0-52
	MOVQ   a_base+0(FP), PA
	MOVQ   a_len+8(FP), N
	ANDQ   $~7, N
	MOVQ   b_base+24(FP), PB
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	CMPQ   N, $32
	JLT    tail

loop32:
	VMOVUPS     (PA), Y4        // Yk += a[i+8k : i+8k+8]·b[…]
	VMOVUPS     32(PA), Y5
	VMOVUPS     64(PA), Y6
	VMOVUPS     96(PA), Y7
	VFMADD231PS (PB), Y4, Y0
	VFMADD231PS 32(PB), Y5, Y1
	VFMADD231PS 64(PB), Y6, Y2
	VFMADD231PS 96(PB), Y7, Y3
	ADDQ        $128, PA
	ADDQ        $128, PB
	SUBQ        $32, N
	CMPQ        N, $32
	JGE         loop32

tail:
	TESTQ N, N
	JZ    sum

loop8:
	VMOVUPS     (PA), Y4
	VFMADD231PS (PB), Y4, Y0
	ADDQ        $32, PA
	ADDQ        $32, PB
	SUBQ        $8, N
	JNZ         loop8

sum:
	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y0, Y0
	REDUCEPS
	VMOVSS X0, ret+48(FP)
	VZEROUPPER
	RET

// func axpyAVX2(y []float32, alpha float32, x []float32)
// Requires: AVX, FMA
//
//	for i < len(y)&^7: y[i] = fma(alpha, x[i], y[i]); len(x) >= len(y)&^7
TEXT ·axpyAVX2(SB), NOSPLIT, $0-56
	MOVQ         y_base+0(FP), PD
	MOVQ         y_len+8(FP), N
	ANDQ         $~7, N
	VBROADCASTSS alpha+24(FP), Y8
	MOVQ         x_base+32(FP), PA
	CMPQ         N, $32
	JLT          tail

loop32:
	VMOVUPS     (PD), Y0
	VMOVUPS     32(PD), Y1
	VMOVUPS     64(PD), Y2
	VMOVUPS     96(PD), Y3
	VFMADD231PS (PA), Y8, Y0
	VFMADD231PS 32(PA), Y8, Y1
	VFMADD231PS 64(PA), Y8, Y2
	VFMADD231PS 96(PA), Y8, Y3
	VMOVUPS     Y0, (PD)
	VMOVUPS     Y1, 32(PD)
	VMOVUPS     Y2, 64(PD)
	VMOVUPS     Y3, 96(PD)
	ADDQ        $128, PA
	ADDQ        $128, PD
	SUBQ        $32, N
	CMPQ        N, $32
	JGE         loop32

tail:
	TESTQ N, N
	JZ    done

loop8:
	VMOVUPS     (PD), Y0
	VFMADD231PS (PA), Y8, Y0
	VMOVUPS     Y0, (PD)
	ADDQ        $32, PA
	ADDQ        $32, PD
	SUBQ        $8, N
	JNZ         loop8

done:
	VZEROUPPER
	RET

// func addAVX2(dst, a, b []float32)
// Requires: AVX
//
//	for i < len(dst)&^7: dst[i] = a[i] + b[i]
TEXT ·addAVX2(SB), NOSPLIT, $0-72
	MOVQ dst_base+0(FP), PD
	MOVQ dst_len+8(FP), N
	ANDQ $~7, N
	MOVQ a_base+24(FP), PA
	MOVQ b_base+48(FP), PB
	TESTQ N, N
	JZ   done

loop8:
	VMOVUPS (PA), Y0
	VADDPS  (PB), Y0, Y0
	VMOVUPS Y0, (PD)
	ADDQ    $32, PA
	ADDQ    $32, PB
	ADDQ    $32, PD
	SUBQ    $8, N
	JNZ     loop8

done:
	VZEROUPPER
	RET

// func scaleAVX2(x []float32, alpha float32)
// Requires: AVX
//
//	for i < len(x)&^7: x[i] *= alpha
TEXT ·scaleAVX2(SB), NOSPLIT, $0-28
	MOVQ         x_base+0(FP), PD
	MOVQ         x_len+8(FP), N
	ANDQ         $~7, N
	VBROADCASTSS alpha+24(FP), Y8
	TESTQ        N, N
	JZ           done

loop8:
	VMULPS  (PD), Y8, Y0
	VMOVUPS Y0, (PD)
	ADDQ    $32, PD
	SUBQ    $8, N
	JNZ     loop8

done:
	VZEROUPPER
	RET

// func mulScaledAVX2(dst, x, w []float32, s float32)
// Requires: AVX
//
//	for i < len(dst)&^7: dst[i] = (x[i]·s)·w[i], each product rounded to float32
TEXT ·mulScaledAVX2(SB), NOSPLIT, $0-76
	MOVQ         dst_base+0(FP), PD
	MOVQ         dst_len+8(FP), N
	ANDQ         $~7, N
	MOVQ         x_base+24(FP), PA
	MOVQ         w_base+48(FP), PB
	VBROADCASTSS s+72(FP), Y8
	TESTQ        N, N
	JZ           done

loop8:
	VMULPS  (PA), Y8, Y0
	VMULPS  (PB), Y0, Y0
	VMOVUPS Y0, (PD)
	ADDQ    $32, PA
	ADDQ    $32, PB
	ADDQ    $32, PD
	SUBQ    $8, N
	JNZ     loop8

done:
	VZEROUPPER
	RET

// func sumSquaresAVX2(x []float32) float64
// Requires: AVX, FMA
//
//	returns Σ_{i < len(x)&^7} float64(x[i])², accumulated in float64 (4 × 4 lanes)
TEXT ·sumSquaresAVX2(SB), NOSPLIT, $0-32
	MOVQ   x_base+0(FP), PA
	MOVQ   x_len+8(FP), N
	ANDQ   $~7, N
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	CMPQ   N, $16
	JLT    tail

loop16:
	VCVTPS2PD   (PA), Y4      // 4 floats → 4 doubles, exact
	VCVTPS2PD   16(PA), Y5
	VCVTPS2PD   32(PA), Y6
	VCVTPS2PD   48(PA), Y7
	VFMADD231PD Y4, Y4, Y0    // squares of float32s are exact in float64
	VFMADD231PD Y5, Y5, Y1
	VFMADD231PD Y6, Y6, Y2
	VFMADD231PD Y7, Y7, Y3
	ADDQ        $64, PA
	SUBQ        $16, N
	CMPQ        N, $16
	JGE         loop16

tail:
	TESTQ N, N
	JZ    sum
	VCVTPS2PD   (PA), Y4      // the last 8
	VCVTPS2PD   16(PA), Y5
	VFMADD231PD Y4, Y4, Y0
	VFMADD231PD Y5, Y5, Y1

sum:
	VADDPD       Y1, Y0, Y0
	VADDPD       Y3, Y2, Y2
	VADDPD       Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPD       X1, X0, X0
	VHADDPD      X0, X0, X0
	VMOVSD       X0, ret+24(FP)
	VZEROUPPER
	RET

// Constants of the float32 exponential in siluMulAVX2 (Cody–Waite reduction by ln 2 in
// two parts and the Cephes expf polynomial on |r| ≤ ln2/2).
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
DATA expConsts<>+44(SB)/4, $0xff800000 // -Inf (for maxAVX2)
GLOBL expConsts<>(SB), RODATA|NOPTR, $48

#define SG Y0   // gate
#define ST Y1   // t = -|g|, then r
#define SN Y2   // n
#define SP Y3   // polynomial
#define SE Y4   // e = exp(t)
#define SONE Y5
#define SABS Y6 // 0x7fffffff in every lane
#define SLO Y7  // -87.3
#define STMP Y8

// EXPNEG(lo) sets SE = exp(ST + lo) for ST ≤ 0, lo a tiny correction (the rounding
// error of ST), ST clamped below at −87.3 so SE ≥ 2⁻¹²⁶:
//	n = round(t·log2 e); r = t − n·C1 − n·C2 + lo; e = (p(r)·r² + r + 1)·2ⁿ
// Clobbers ST, SN, SP, STMP; needs SONE, SLO.
#define EXPNEG(lo) \
	VMAXPS       SLO, ST, ST                  \
	VBROADCASTSS expConsts<>+0(SB), STMP      \
	VMULPS       STMP, ST, SN                 \
	VROUNDPS     $0, SN, SN                   \
	VBROADCASTSS expConsts<>+4(SB), STMP      \
	VFNMADD231PS STMP, SN, ST                 \
	VBROADCASTSS expConsts<>+8(SB), STMP      \
	VFNMADD231PS STMP, SN, ST                 \
	VADDPS       lo, ST, ST                   \
	VBROADCASTSS expConsts<>+12(SB), SP       \
	VBROADCASTSS expConsts<>+16(SB), STMP     \
	VFMADD213PS  STMP, ST, SP                 \
	VBROADCASTSS expConsts<>+20(SB), STMP     \
	VFMADD213PS  STMP, ST, SP                 \
	VBROADCASTSS expConsts<>+24(SB), STMP     \
	VFMADD213PS  STMP, ST, SP                 \
	VBROADCASTSS expConsts<>+28(SB), STMP     \
	VFMADD213PS  STMP, ST, SP                 \
	VBROADCASTSS expConsts<>+32(SB), STMP     \
	VFMADD213PS  STMP, ST, SP                 \
	VMULPS       ST, ST, STMP                 \
	VADDPS       SONE, ST, ST                 \
	VFMADD213PS  ST, STMP, SP                 \
	VCVTPS2DQ    SN, SN                       \
	VPSLLD       $23, SN, SN                  \
	VPADDD       SONE, SN, SN                 \
	VMULPS       SN, SP, SE

// func siluMulAVX2(dst, gate, up []float32)
// Requires: AVX, AVX2, FMA
//
//	for i < len(dst)&^7, g = gate[i]:
//		e = exp(−|g|) (polynomial, |rel err| < 2⁻²²; arguments below −87.3 clamped)
//		σ = 1/(1+e) if g ≥ 0, e/(1+e) if g < 0
//		dst[i] = (g·σ)·up[i]
TEXT ·siluMulAVX2(SB), NOSPLIT, $0-72
	MOVQ         dst_base+0(FP), PD
	MOVQ         dst_len+8(FP), N
	ANDQ         $~7, N
	MOVQ         gate_base+24(FP), PA
	MOVQ         up_base+48(FP), PB
	VBROADCASTSS expConsts<>+36(SB), SONE
	VBROADCASTSS expConsts<>+40(SB), SLO
	VPCMPEQD     SABS, SABS, SABS
	VPSRLD       $1, SABS, SABS
	TESTQ        N, N
	JZ           done

loop:
	VMOVUPS      (PA), SG
	VANDPS       SABS, SG, ST                  // t = −|g|
	VXORPS       STMP, STMP, STMP
	VSUBPS       ST, STMP, ST
	VXORPS       Y15, Y15, Y15
	EXPNEG(Y15)                                // e = exp(t), t exact
	VADDPS       SONE, SE, STMP                // 1 + e
	VBLENDVPS    SG, SE, SONE, SP              // numerator: e where g < 0, else 1
	VDIVPS       STMP, SP, SP                  // σ
	VMULPS       SP, SG, SG                    // g·σ
	VMULPS       (PB), SG, SG                  // ·up
	VMOVUPS      SG, (PD)
	ADDQ         $32, PA
	ADDQ         $32, PB
	ADDQ         $32, PD
	SUBQ         $8, N
	JNZ          loop

done:
	VZEROUPPER
	RET

// func softmaxExpAVX2(x []float32, mx float32) float64
// Requires: AVX, AVX2, FMA
//
//	for i < len(x)&^7: x[i] = exp(x[i] − mx) (polynomial as in siluMulAVX2, for
//	arguments ≤ 0; 0 below −87.3); returns Σ float64(x[i]) over those i
TEXT ·softmaxExpAVX2(SB), NOSPLIT, $0-40
	MOVQ         x_base+0(FP), PD
	MOVQ         x_len+8(FP), N
	ANDQ         $~7, N
	VBROADCASTSS mx+24(FP), Y9
	VBROADCASTSS expConsts<>+36(SB), SONE
	VBROADCASTSS expConsts<>+40(SB), SLO
	VXORPD       Y10, Y10, Y10               // float64 sums
	VXORPD       Y11, Y11, Y11
	TESTQ        N, N
	JZ           sum

loop:
	VMOVUPS     (PD), Y12                    // a = x
	VSUBPS      Y9, Y12, ST                  // t = fl(x − mx)
	VSUBPS      Y12, ST, Y13                 // TwoSum: lo = (a − (t − bb)) + (b − bb),
	VSUBPS      Y13, ST, Y15                 // b = −mx, bb = t − a
	VSUBPS      Y15, Y12, Y15
	VADDPS      Y9, Y13, Y13
	VSUBPS      Y13, Y15, Y15                // lo = (a − (t − bb)) − (mx + bb)
	VCMPPS      $1, SLO, ST, Y14             // t < −87.3: e flushes to 0
	EXPNEG(Y15)
	VANDNPS     SE, Y14, SE
	VMOVUPS     SE, (PD)
	VCVTPS2PD   X4, Y12                      // lanes 0–3 as float64 (SE is Y4)
	VEXTRACTF128 $1, SE, X13
	VCVTPS2PD   X13, Y13
	VADDPD      Y12, Y10, Y10
	VADDPD      Y13, Y11, Y11
	ADDQ        $32, PD
	SUBQ        $8, N
	JNZ         loop

sum:
	VADDPD       Y11, Y10, Y10
	VEXTRACTF128 $1, Y10, X11
	VADDPD       X11, X10, X10
	VHADDPD      X10, X10, X10
	VMOVSD       X10, ret+32(FP)
	VZEROUPPER
	RET

// func scaleRoundAVX2(x []float32, s float64)
// Requires: AVX
//
//	for i < len(x)&^7: x[i] = float32(float64(x[i])·s), one rounding
TEXT ·scaleRoundAVX2(SB), NOSPLIT, $0-32
	MOVQ         x_base+0(FP), PD
	MOVQ         x_len+8(FP), N
	ANDQ         $~7, N
	VBROADCASTSD s+24(FP), Y9
	TESTQ        N, N
	JZ           done

loop:
	VCVTPS2PD (PD), Y0
	VCVTPS2PD 16(PD), Y1
	VMULPD    Y9, Y0, Y0
	VMULPD    Y9, Y1, Y1
	VCVTPD2PSY Y0, X0
	VCVTPD2PSY Y1, X1
	VMOVUPS   X0, (PD)
	VMOVUPS   X1, 16(PD)
	ADDQ      $32, PD
	SUBQ      $8, N
	JNZ       loop

done:
	VZEROUPPER
	RET

// func maxAVX2(x []float32) (mx float32, nan bool)
// Requires: AVX
//
//	over i < len(x)&^7: mx = max x[i] ignoring NaNs (−Inf if none), nan = some x[i] is NaN
TEXT ·maxAVX2(SB), NOSPLIT, $0-29
	MOVQ         x_base+0(FP), PA
	MOVQ         x_len+8(FP), N
	ANDQ         $~7, N
	VBROADCASTSS expConsts<>+44(SB), Y0 // Y0, Y1: running maxima, from −Inf
	VMOVUPS      Y0, Y1
	VXORPS       Y2, Y2, Y2             // Y2, Y3: lanes that saw a NaN (unordered)
	VXORPS       Y3, Y3, Y3
	CMPQ         N, $16
	JLT          tail

loop16:
	VMOVUPS (PA), Y4
	VMOVUPS 32(PA), Y5
	VMAXPS  Y0, Y4, Y0              // acc = x > acc ? x : acc: a NaN x never wins
	VMAXPS  Y1, Y5, Y1
	VCMPPS  $3, Y4, Y4, Y6
	VCMPPS  $3, Y5, Y5, Y7
	VORPS   Y6, Y2, Y2
	VORPS   Y7, Y3, Y3
	ADDQ    $64, PA
	SUBQ    $16, N
	CMPQ    N, $16
	JGE     loop16

tail:
	TESTQ N, N
	JZ    reduce
	VMOVUPS (PA), Y4
	VMAXPS  Y0, Y4, Y0
	VCMPPS  $3, Y4, Y4, Y6
	VORPS   Y6, Y2, Y2

reduce:
	VMAXPS       Y1, Y0, Y0
	VORPS        Y3, Y2, Y2
	VEXTRACTF128 $1, Y0, X1
	VMAXPS       X1, X0, X0
	VPSHUFD      $0x4e, X0, X1
	VMAXPS       X1, X0, X0
	VPSHUFD      $0xb1, X0, X1
	VMAXPS       X1, X0, X0
	VMOVSS       X0, mx+24(FP)
	VMOVMSKPS    Y2, AX
	TESTL        AX, AX
	SETNE        nan+28(FP)
	VZEROUPPER
	RET
