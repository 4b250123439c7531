//go:build gc && !purego

#include "textflag.h"
#include "neon_arm64.h"

// NEON matrix-multiply kernels for Q8_0 and Q4_0 weights against activations quantized
// to Q8_0 blocks (xPrep layout: float32 d, then 32 int8 — 36 bytes a block), using the
// FEAT_DotProd SDOT instruction (callers check cpu.ARM64.HasASIMDDP).
//
// Per block and activation row: SDOT accumulates w·q over 4-byte groups into 4 int32
// lanes (exact), SCVTF converts the lanes, and FMLA adds them scaled by dw·dx into the
// row's float32 accumulator.
//
// The Go assembler has no SDOT or vector SCVTF; they are WORD-encoded (neon_arm64.h).

#define YP R0     // &y[j]
#define LDY R1    // ldy in bytes
#define XB R2     // activation row 0
#define LDX R3    // ldx in bytes
#define X0 R4     // activation rows, advancing block by block
#define X1 R5
#define X2 R6
#define X3 R7
#define WP R8     // current weight block
#define WROW R9   // current weight row
#define LDW R10   // ldw in bytes
#define YEND R11  // &y[n]
#define BLEFT R12 // blocks left
#define NB R13    // blocks per row
#define YR R14    // scratch pointer into y
#define T R15

// Vector registers: V0–V3 row accumulators; V16 dw; V17, V18 the block's 32 weights;
// V19 dx·dw; V20, V21 the activation block; V22 its int32 lanes; V24–V27 scratch;
// V28 ONES (float 1), V29 bytes 0x0F, V30 bytes 8.

// LOADQ8_0 reads the Q8_0 block at WP (f16 d, 32 int8) into F16 (as float32), V17, V18.
#define LOADQ8_0 \
	MOVHU.P 2(WP), T                    \
	FMOVS T, F16                        \
	FCVTHS F16, F16                     \
	VLD1.P 32(WP), [V17.B16, V18.B16]

// LOADQ4_0 reads the Q4_0 block at WP (f16 d, 16 bytes of nibbles): V17 = low nibbles − 8
// (elements 0…15), V18 = high nibbles − 8 (elements 16…31).
#define LOADQ4_0 \
	MOVHU.P 2(WP), T                    \
	FMOVS T, F16                        \
	FCVTHS F16, F16                     \
	VLD1.P 16(WP), [V17.B16]            \
	VUSHR $4, V17.B16, V18.B16          \
	VAND V29.B16, V17.B16, V17.B16      \
	VSUB V30.B16, V17.B16, V17.B16      \
	VSUB V30.B16, V18.B16, V18.B16

// ROW(xr, acc) adds dw·dx·(Σ w·q) of the activation block at xr (advancing it) into acc.
#define ROW(xr, acc) \
	FMOVS.P 4(xr), F19                  \
	VLD1.P 32(xr), [V20.B16, V21.B16]   \
	VEOR V22.B16, V22.B16, V22.B16      \
	SDOT_4S(22, 17, 20)                 \
	SDOT_4S(22, 18, 21)                 \
	SCVTF_4S(22, 22)                    \
	FMULS F16, F19, F19                 \
	VDUP V19.S[0], V19.S4               \
	VFMLA V19.S4, V22.S4, acc.S4

// LANESUM(acc, f) leaves the sum of acc's 4 lanes in lane 0 of f (f ≠ acc; V24 scratch).
#define LANESUM(acc, f) \
	VUZP1 acc.S4, acc.S4, f.S4           \
	VUZP2 acc.S4, acc.S4, V24.S4         \
	VFMLA V24.S4, V28.S4, f.S4           \
	VUZP1 f.S4, f.S4, V24.S4             \
	VUZP2 f.S4, f.S4, V25.S4             \
	VFMLA V25.S4, V28.S4, V24.S4         \
	VMOV V24.B16, f.B16

// ADDY(f) adds lane 0 of f into the float at YR.
#define ADDY(f) \
	FMOVS (YR), F27                     \
	FADDS F27, f, F27                   \
	FMOVS F27, (YR)

#define CONSTS \
	FMOVS $1.0, F28                     \
	VDUP V28.S[0], V28.S4               \
	VMOVI $15, V29.B16                  \
	VMOVI $8, V30.B16

// GEMM4(LOAD): for each weight row, 4 activation rows.
#define GEMM4(LOAD) \
	CONSTS                              \
row:                                    \
	VEOR V0.B16, V0.B16, V0.B16         \
	VEOR V1.B16, V1.B16, V1.B16         \
	VEOR V2.B16, V2.B16, V2.B16         \
	VEOR V3.B16, V3.B16, V3.B16         \
	MOVD XB, X0                         \
	ADD LDX, X0, X1                     \
	ADD LDX, X1, X2                     \
	ADD LDX, X2, X3                     \
	MOVD WROW, WP                       \
	MOVD NB, BLEFT                      \
block:                                  \
	LOAD                                \
	ROW(X0, V0)                         \
	ROW(X1, V1)                         \
	ROW(X2, V2)                         \
	ROW(X3, V3)                         \
	SUBS $1, BLEFT, BLEFT               \
	BNE block                           \
	MOVD YP, YR                         \
	LANESUM(V0, V4)                     \
	ADDY(F4)                            \
	ADD LDY, YR, YR                     \
	LANESUM(V1, V4)                     \
	ADDY(F4)                            \
	ADD LDY, YR, YR                     \
	LANESUM(V2, V4)                     \
	ADDY(F4)                            \
	ADD LDY, YR, YR                     \
	LANESUM(V3, V4)                     \
	ADDY(F4)                            \
	ADD $4, YP, YP                      \
	ADD LDW, WROW, WROW                 \
	CMP YP, YEND                        \
	BNE row                             \
	RET

// GEMV1(LOAD): for each weight row, one activation row.
#define GEMV1(LOAD) \
	CONSTS                              \
row:                                    \
	CMP YP, YEND                        \
	BEQ done                            \
	VEOR V0.B16, V0.B16, V0.B16         \
	MOVD XB, X0                         \
	MOVD WROW, WP                       \
	MOVD NB, BLEFT                      \
block:                                  \
	LOAD                                \
	ROW(X0, V0)                         \
	SUBS $1, BLEFT, BLEFT               \
	BNE block                           \
	MOVD YP, YR                         \
	LANESUM(V0, V4)                     \
	ADDY(F4)                            \
	ADD $4, YP, YP                      \
	ADD LDW, WROW, WROW                 \
	B row                               \
done:                                   \
	RET

// func gemmQ8_0x4NEON(y []float32, ldy int, x []byte, ldx int, w []byte, ldw int, n int, nb int)
// Requires: NEON, DotProd
//
//	for i < 4, j < n: y[i*ldy+j] += dotQ8_0Generic(W_j, x[i*ldx:][:nb*36]), W_j = w[j*ldw:]
//	n > 0, nb > 0
TEXT ·gemmQ8_0x4NEON(SB), NOSPLIT, $0-112
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
	GEMM4(LOADQ8_0)

// func gemmQ4_0x4NEON(y []float32, ldy int, x []byte, ldx int, w []byte, ldw int, n int, nb int)
// Requires: NEON, DotProd
//
//	for i < 4, j < n: y[i*ldy+j] += dotQ4_0Generic(W_j, x[i*ldx:][:nb*36]), W_j = w[j*ldw:]
//	n > 0, nb > 0
TEXT ·gemmQ4_0x4NEON(SB), NOSPLIT, $0-112
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
	GEMM4(LOADQ4_0)

// func gemvQ8_0NEON(y []float32, x []byte, w []byte, ldw int, nb int)
// Requires: NEON, DotProd
//
//	for j < len(y): y[j] += dotQ8_0Generic(W_j, x[:nb*36]), W_j = w[j*ldw:]; nb > 0
TEXT ·gemvQ8_0NEON(SB), NOSPLIT, $0-88
	MOVD y_base+0(FP), YP
	MOVD y_len+8(FP), YEND
	ADD  YEND<<2, YP, YEND
	MOVD x_base+24(FP), XB
	MOVD w_base+48(FP), WROW
	MOVD ldw+72(FP), LDW
	MOVD nb+80(FP), NB
	GEMV1(LOADQ8_0)

// func gemvQ4_0NEON(y []float32, x []byte, w []byte, ldw int, nb int)
// Requires: NEON, DotProd
//
//	for j < len(y): y[j] += dotQ4_0Generic(W_j, x[:nb*36]), W_j = w[j*ldw:]; nb > 0
TEXT ·gemvQ4_0NEON(SB), NOSPLIT, $0-88
	MOVD y_base+0(FP), YP
	MOVD y_len+8(FP), YEND
	ADD  YEND<<2, YP, YEND
	MOVD x_base+24(FP), XB
	MOVD w_base+48(FP), WROW
	MOVD ldw+72(FP), LDW
	MOVD nb+80(FP), NB
	GEMV1(LOADQ4_0)
