//go:build gc && !purego

#include "go_asm.h"
#include "textflag.h"
#include "gemm_quant_amd64.h"

// Q8_0 matrix-multiply kernels for AVX-512 VNNI on 256-bit vectors (AVX512VL).
//
// VPDPBUSD multiplies unsigned by signed bytes and adds each 4 products into an int32
// lane, with no int16 step to saturate. The activation quants come flipped
// (flipQ8VNNI: q XOR 0x80 = q+128, unsigned), so a lane gets Σ w·(q+128) = Σ w·q +
// 128·Σ w over its 4 bytes; it starts from −128·Σ w, computed once per weight block
// (VPDPBUSD of the weights against bytes 0x80, negated) for all rows. Each lane then
// holds exactly the Σ w·q of the same 4 bytes as in the AVX2 kernels
// (gemm_q8_amd64.s), the float32 steps are theirs, and the results are bit-identical:
// a row's result does not depend on which kernel ran it. Per activation block and
// weight row this is 4 vector instructions to the AVX2 kernels' 6 (VPSIGNB,
// VPMADDUBSW and VPMADDWD become one VPDPBUSD) and the same two loads.

#define WS Y4     // the block's signed weights
#define NEGW Y5   // −128·Σ w of each 4 weights of the block
#define DW Y6     // dw in every lane
#define BIAS Y7   // bytes 0x80
#define ZERO Y8
#define T Y10
#define S Y11
#define U Y12

// LOADQ8_0N decodes the Q8_0 block at WP (f16 d, 32 int8) into DW, WS and NEGW and
// advances WP.
#define LOADQ8_0N \
	VPBROADCASTW (WP), X6 \
	VCVTPH2PS X6, DW      \
	VMOVDQU const_q8_0QuantsOff(WP), WS \
	VPXOR NEGW, NEGW, NEGW \
	VPDPBUSD WS, BIAS, NEGW \
	VPSUBD NEGW, ZERO, NEGW \
	ADDQ $const_q8_0BlockBytes, WP

// DOT8N adds dw·dx·(Σ w·q of the block) into the 8 lanes of acc, for the flipped
// activation block at XOFF of row xr.
#define DOT8N(xr, acc) \
	VMOVDQU const_q8QuantsOff(xr)(XOFF*1), T \
	VMOVDQA NEGW, U                          \
	VPDPBUSD WS, T, U                        \
	VCVTDQ2PS U, U                           \
	VMULPS.BCST (xr)(XOFF*1), DW, S          \
	VFMADD231PS U, S, acc

// SETBIAS sets BIAS to bytes 0x80 and ZERO to zero (BX clobbered).
#define SETBIAS \
	MOVL $0x80, BX        \
	VMOVD BX, X7          \
	VPBROADCASTB X7, BIAS \
	VPXOR ZERO, ZERO, ZERO

// func gemmQ8_0x4VNNI(y []float32, ldy int, x []byte, ldx int, w []byte, ldw int, n int, nb int)
// Requires: AVX, AVX2, FMA, F16C, AVX512F, AVX512VL, AVX512_VNNI
//
//	for i < 4, j < n: y[i*ldy+j] += dotQ8_0Generic(W_j, X_i), W_j = w[j*ldw:] and X_i the
//	nb blocks at x[i*ldx:] unflipped (flipQ8VNNI); n > 0, nb > 0
TEXT ·gemmQ8_0x4VNNI(SB), NOSPLIT, $16-112
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
	SETBIAS

row4:
	VXORPS ACC0, ACC0, ACC0
	VXORPS ACC1, ACC1, ACC1
	VXORPS ACC2, ACC2, ACC2
	VXORPS ACC3, ACC3, ACC3
	XORQ XOFF, XOFF
	MOVQ WROW, WP
	MOVQ blocks-16(SP), BLEFT

block4:
	LOADQ8_0N
	DOT8N(XR0, ACC0)
	DOT8N(XR1, ACC1)
	DOT8N(XR2, ACC2)
	DOT8N(XR3, ACC3)
	ADDQ $const_q8BlockBytes, XOFF
	DECQ BLEFT
	JNZ  block4
	STORE4
	ADDQ $4, YP
	ADDQ LDW, WROW
	CMPQ YP, yend-8(SP)
	JNE  row4
	VZEROUPPER
	RET

// ---- the one-row kernel ----
#undef XR1
#undef XR2
#undef XR3
#define PFDIST R8 // software-prefetch distance in bytes

// func gemvQ8_0VNNI(y []float32, x []byte, w []byte, ldw int, nb int)
// Requires: AVX, AVX2, FMA, F16C, AVX512F, AVX512VL, AVX512_VNNI
//
//	for j < len(y): y[j] += dotQ8_0Generic(W_j, X), W_j = w[j*ldw:] and X the nb blocks
//	at x unflipped (flipQ8VNNI); nb > 0
TEXT ·gemvQ8_0VNNI(SB), NOSPLIT, $16-88
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
	SETBIAS

row1:
	CMPQ YP, yend-8(SP)
	JEQ  done1
	VXORPS ACC0, ACC0, ACC0
	XORQ XOFF, XOFF
	MOVQ WROW, WP
	MOVQ blocks-16(SP), BLEFT

block1:
	PREFETCHT0 (WP)(PFDIST*1)
	LOADQ8_0N
	DOT8N(XR0, ACC0)
	ADDQ $const_q8BlockBytes, XOFF
	DECQ BLEFT
	JNZ  block1
	STORE1
	ADDQ $4, YP
	ADDQ LDW, WROW
	JMP  row1

done1:
	VZEROUPPER
	RET

// func flipQ8VNNI(dst []byte, src []byte, n int)
// Requires: AVX, AVX2
//
//	for b < n: block b of dst = block b of src (q8BlockBytes each) with its 32 quants
//	XOR 0x80; n > 0
TEXT ·flipQ8VNNI(SB), NOSPLIT, $0-56
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), SI
	MOVQ n+48(FP), CX
	SETBIAS

flip:
	MOVL (SI), AX
	MOVL AX, (DI)
	VPXOR const_q8QuantsOff(SI), BIAS, Y0
	VMOVDQU Y0, const_q8QuantsOff(DI)
	ADDQ $const_q8BlockBytes, SI
	ADDQ $const_q8BlockBytes, DI
	DECQ CX
	JNZ  flip
	VZEROUPPER
	RET
