//go:build gc && !purego

#include "go_asm.h"
#include "textflag.h"
#include "gemm_quant_amd64.h"

// Matrix-multiply kernels for Q8_0 and Q4_0 weights against activations quantized to
// Q8_0 blocks (xPrep layout: float32 d, then 32 int8 — 36 bytes a block).
//
// Per block the integer dot Σ w·q is exact: w is split into |w| (unsigned) and its
// sign, which is moved onto q (VPSIGNB), so VPMADDUBSW multiplies u8·s8 pairs without
// saturation (|w| ≤ 128, |q| ≤ 127); VPMADDWD against ones widens to 8 int32 lanes.
// The lanes are converted to float32 and accumulated with FMA scaled by dw·dx.
//
// gemm*x4: y[i*ldy+j] += x_i·W_j for 4 activation rows (stride ldx bytes) and n weight
// rows (stride ldw bytes), one weight row at a time so each weight block is decoded
// once for the 4 rows. gemv*: the same for one activation row.

#define WS Y4     // signed weights of the block
#define WA Y5     // |weights|
#define DW Y6     // dw in every lane
#define ONES Y7   // int16 ones
#define MASK Y8   // bytes 0x0F
#define EIGHTS Y9 // bytes 8
#define T Y10
#define S Y11

// LOADQ8_0 decodes the Q8_0 block at WP (f16 d, 32 int8) and advances WP.
#define LOADQ8_0 \
	VPBROADCASTW (WP), X6 \
	VCVTPH2PS X6, DW      \
	VMOVDQU const_q8_0QuantsOff(WP), WS \
	VPABSB WS, WA         \
	ADDQ $const_q8_0BlockBytes, WP

// LOADQ4_0 decodes the Q4_0 block at WP (f16 d, 16 bytes: element j low nibble,
// element j+16 high nibble; value nibble−8) and advances WP.
#define LOADQ4_0 \
	VPBROADCASTW (WP), X6       \
	VCVTPH2PS X6, DW            \
	VMOVDQU const_q4_0QuantsOff(WP), X4 \
	VPSRLW $4, X4, X5           \
	VINSERTI128 $1, X5, WS, WS  \
	VPAND MASK, WS, WS          \
	VPSUBB EIGHTS, WS, WS       \
	VPABSB WS, WA               \
	ADDQ $const_q4_0BlockBytes, WP

// DOT8 adds dw·dx·(Σ w·q of the block) into the 8 lanes of acc, for the activation
// block at XOFF of row xr.
#define DOT8(xr, acc) \
	VMOVDQU const_q8QuantsOff(xr)(XOFF*1), T \
	VPSIGNB WS, T, T              \
	VPMADDUBSW T, WA, T           \
	VPMADDWD ONES, T, T           \
	VCVTDQ2PS T, T                \
	VBROADCASTSS (xr)(XOFF*1), S  \
	VMULPS DW, S, S               \
	VFMADD231PS T, S, acc

// CONSTS sets ONES, MASK and EIGHTS (BX clobbered).
#define CONSTS \
	VPCMPEQW ONES, ONES, ONES \
	VPSRLW $15, ONES, ONES    \
	MOVL $0x0F, BX            \
	VMOVD BX, X8              \
	VPBROADCASTB X8, MASK     \
	MOVL $8, BX               \
	VMOVD BX, X9              \
	VPBROADCASTB X9, EIGHTS

// GEMM4(LOAD) is the body of a 4-row kernel after the arguments are loaded (nb in
// blocks-16(SP)).
#define GEMM4(LOAD) \
	CONSTS                    \
row:                          \
	VXORPS ACC0, ACC0, ACC0   \
	VXORPS ACC1, ACC1, ACC1   \
	VXORPS ACC2, ACC2, ACC2   \
	VXORPS ACC3, ACC3, ACC3   \
	XORQ XOFF, XOFF           \
	MOVQ WROW, WP             \
	MOVQ blocks-16(SP), BLEFT \
block:                        \
	LOAD                      \
	DOT8(XR0, ACC0)           \
	DOT8(XR1, ACC1)           \
	DOT8(XR2, ACC2)           \
	DOT8(XR3, ACC3)           \
	ADDQ $const_q8BlockBytes, XOFF \
	DECQ BLEFT                \
	JNZ block                 \
	STORE4                    \
	ADDQ $4, YP               \
	ADDQ LDW, WROW            \
	CMPQ YP, yend-8(SP)       \
	JNE row                   \
	VZEROUPPER                \
	RET

// GEMV1(LOAD) is the body of a one-row kernel after the arguments are loaded (nb in
// blocks-16(SP)); PFDIST is the software-prefetch distance in bytes (one weight stream:
// the prefetch runs that far ahead so DRAM latency overlaps the block arithmetic).
#define GEMV1(LOAD) \
	CONSTS                    \
row:                          \
	CMPQ YP, yend-8(SP)       \
	JEQ done                  \
	VXORPS ACC0, ACC0, ACC0   \
	XORQ XOFF, XOFF           \
	MOVQ WROW, WP             \
	MOVQ blocks-16(SP), BLEFT \
block:                        \
	PREFETCHT0 (WP)(PFDIST*1) \
	LOAD                      \
	DOT8(XR0, ACC0)           \
	ADDQ $const_q8BlockBytes, XOFF \
	DECQ BLEFT                \
	JNZ block                 \
	STORE1                    \
	ADDQ $4, YP               \
	ADDQ LDW, WROW            \
	JMP row                   \
done:                         \
	VZEROUPPER                \
	RET

// func gemmQ8_0x4AVX2(y []float32, ldy int, x []byte, ldx int, w []byte, ldw int, n int, nb int)
// Requires: AVX, AVX2, FMA, F16C
//
//	for i < 4, j < n: y[i*ldy+j] += dotQ8_0Generic(W_j, x[i*ldx:][:nb*36]), W_j = w[j*ldw:]
//	n > 0, nb > 0 (the per-block float32 sums are kept in 8 lanes)
TEXT ·gemmQ8_0x4AVX2(SB), NOSPLIT, $16-112
	MOVQ y_base+0(FP), YP
	MOVQ ldy+24(FP), LDY
	MOVQ x_base+32(FP), XR0
	MOVQ ldx+56(FP), BX
	MOVQ w_base+64(FP), WROW
	MOVQ ldw+88(FP), LDW
	SETUP4
	MOVQ n+96(FP), BX
	LEAQ (YP)(BX*4), BX
	MOVQ BX, yend-8(SP)
	MOVQ nb+104(FP), BX
	MOVQ BX, blocks-16(SP)
	GEMM4(LOADQ8_0)

// func gemmQ4_0x4AVX2(y []float32, ldy int, x []byte, ldx int, w []byte, ldw int, n int, nb int)
// Requires: AVX, AVX2, FMA, F16C
//
//	for i < 4, j < n: y[i*ldy+j] += dotQ4_0Generic(W_j, x[i*ldx:][:nb*36]), W_j = w[j*ldw:]
//	n > 0, nb > 0
TEXT ·gemmQ4_0x4AVX2(SB), NOSPLIT, $16-112
	MOVQ y_base+0(FP), YP
	MOVQ ldy+24(FP), LDY
	MOVQ x_base+32(FP), XR0
	MOVQ ldx+56(FP), BX
	MOVQ w_base+64(FP), WROW
	MOVQ ldw+88(FP), LDW
	SETUP4
	MOVQ n+96(FP), BX
	LEAQ (YP)(BX*4), BX
	MOVQ BX, yend-8(SP)
	MOVQ nb+104(FP), BX
	MOVQ BX, blocks-16(SP)
	GEMM4(LOADQ4_0)

// ---- the one-row kernels ----
// One row needs no XR1–XR3: XR1's register holds the prefetch distance here.
#undef XR1
#undef XR2
#undef XR3
#define PFDIST R8 // software-prefetch distance in bytes

// func gemvQ8_0AVX2(y []float32, x []byte, w []byte, ldw int, nb int)
// Requires: AVX, AVX2, FMA, F16C
//
//	for j < len(y): y[j] += dotQ8_0Generic(W_j, x[:nb*36]), W_j = w[j*ldw:]; nb > 0
TEXT ·gemvQ8_0AVX2(SB), NOSPLIT, $16-88
	MOVQ y_base+0(FP), YP
	MOVQ y_len+8(FP), BX
	LEAQ (YP)(BX*4), BX
	MOVQ BX, yend-8(SP)
	MOVQ x_base+24(FP), XR0
	MOVQ w_base+48(FP), WROW
	MOVQ ldw+72(FP), LDW
	MOVQ nb+80(FP), BX
	MOVQ BX, blocks-16(SP)
	MOVQ ·gemvPrefetch(SB), PFDIST
	GEMV1(LOADQ8_0)

// func gemvQ4_0AVX2(y []float32, x []byte, w []byte, ldw int, nb int)
// Requires: AVX, AVX2, FMA, F16C
//
//	for j < len(y): y[j] += dotQ4_0Generic(W_j, x[:nb*36]), W_j = w[j*ldw:]; nb > 0
TEXT ·gemvQ4_0AVX2(SB), NOSPLIT, $16-88
	MOVQ y_base+0(FP), YP
	MOVQ y_len+8(FP), BX
	LEAQ (YP)(BX*4), BX
	MOVQ BX, yend-8(SP)
	MOVQ x_base+24(FP), XR0
	MOVQ w_base+48(FP), WROW
	MOVQ ldw+72(FP), LDW
	MOVQ nb+80(FP), BX
	MOVQ BX, blocks-16(SP)
	MOVQ ·gemvPrefetch(SB), PFDIST
	GEMV1(LOADQ4_0)
