//go:build gc && !purego

#include "go_asm.h"
#include "textflag.h"
#include "gemm_quant_amd64.h"
#include "gemm_x8_amd64.h"

// Q8_0 matrix-multiply kernels for weights repacked 8 rows side by side (the q8X8
// layout, repack.go: signed quants as in the file) against Q8_0 activation blocks
// (xPrep: float32 d, 32 int8), on AVX2.
//
// A 32-byte chunk of weights holds 4 quants of each of the 8 rows. The 4 activation
// quants, broadcast to every dword, take the weights' signs (VPSIGNB); VPMADDUBSW
// multiplies them by |w| without saturation (|w| ≤ 128, |q| ≤ 127) and VPMADDWD against
// ones adds each row's 4 products into its int32 lane. A chunk's |w| serves every
// activation row, and the float steps come once a block for 8 rows, where the
// file-layout kernels (gemm_q8_amd64.s) take them per row and block. Per block each
// row's lane then takes dotQ8_0Generic's step exactly,
//
//	acc += float32(dw·dx)·float32(isum)
//
// (product and sum rounded one by one, no FMA), and y += acc at the end, so these
// kernels are bit-identical to the generic ones.

#define A0 Y0   // the float32 sums of the 8 rows, per activation row
#define A1 Y1
#define A2 Y2
#define A3 Y3
#define I0 Y4   // int32 sums of the block
#define I1 Y5
#define I2 Y6
#define I3 Y7
#define W Y8    // the chunk's weights
#define WA Y9   // their magnitudes
#define ONES Y10 // int16 ones
#define T Y11
#define DW Y12  // the block's 8 weight scales
#define B Y13

// Q8X8PF: prefetch the block (272 bytes) R14 bytes ahead.
#define Q8X8PF \
	PREFETCHT0 (WP)(R14*1)    \
	PREFETCHT0 64(WP)(R14*1)  \
	PREFETCHT0 128(WP)(R14*1) \
	PREFETCHT0 192(WP)(R14*1) \
	PREFETCHT0 256(WP)(R14*1)

// Q8X8DOT(c, xr, isum): isum += the 4 products of chunk c (W, WA) with row xr, per row.
#define Q8X8DOT(c, xr, isum) \
	VPBROADCASTD const_q8QuantsOff+4*(c)(xr)(XOFF*1), T \
	VPSIGNB W, T, T                                     \
	VPMADDUBSW T, WA, T                                 \
	VPMADDWD ONES, T, T                                 \
	VPADDD T, isum, isum

// Q8X8CHUNK1(c) … Q8X8CHUNK4(c): chunk c against the first 1 … 4 rows.
#define Q8X8CHUNK1(c) \
	VMOVDQU const_q8X8QuantsOff+32*(c)(WP), W \
	VPABSB W, WA                              \
	Q8X8DOT(c, XR0, I0)
#define Q8X8CHUNK2(c) \
	Q8X8CHUNK1(c) \
	Q8X8DOT(c, XR1, I1)
#define Q8X8CHUNK3(c) \
	Q8X8CHUNK2(c) \
	Q8X8DOT(c, XR2, I2)
#define Q8X8CHUNK4(c) \
	Q8X8CHUNK3(c) \
	Q8X8DOT(c, XR3, I3)

// Q8X8START1 … Q8X8START4 zero the int32 sums of the first 1 … 4 rows.
#define Q8X8START1 VPXOR I0, I0, I0
#define Q8X8START2 \
	Q8X8START1 \
	VPXOR I1, I1, I1
#define Q8X8START3 \
	Q8X8START2 \
	VPXOR I2, I2, I2
#define Q8X8START4 \
	Q8X8START3 \
	VPXOR I3, I3, I3

// Q8X8FIN(xr, isum, acc): acc += (dw·dx)·isum, DW holding dw.
#define Q8X8FIN(xr, isum, acc) \
	VCVTDQ2PS isum, isum          \
	VBROADCASTSS (xr)(XOFF*1), B  \
	VMULPS DW, B, B               \
	VMULPS isum, B, B             \
	VADDPS B, acc, acc

// Q8X8FIN1 … Q8X8FIN4: the block's float steps of the first 1 … 4 rows.
#define Q8X8FIN1 \
	VCVTPH2PS const_q8X8DOff(WP), DW \
	Q8X8FIN(XR0, I0, A0)
#define Q8X8FIN2 \
	Q8X8FIN1 \
	Q8X8FIN(XR1, I1, A1)
#define Q8X8FIN3 \
	Q8X8FIN2 \
	Q8X8FIN(XR2, I2, A2)
#define Q8X8FIN4 \
	Q8X8FIN3 \
	Q8X8FIN(XR3, I3, A3)

// Q8X8BLOCK(START, CHUNK, FIN): one block of the rows.
#define Q8X8BLOCK(START, CHUNK, FIN) \
	START    \
	CHUNK(0) \
	CHUNK(1) \
	CHUNK(2) \
	CHUNK(3) \
	CHUNK(4) \
	CHUNK(5) \
	CHUNK(6) \
	CHUNK(7) \
	FIN

// Q8X8NEXT steps to the next block; the flags say whether one is left.
#define Q8X8NEXT \
	ADDQ $const_q8X8BlockBytes, WP \
	ADDQ $const_q8BlockBytes, XOFF \
	DECQ BLEFT

// Q8X8BLOCK4(PF) … Q8X8BLOCK2(PF): a block of 4 … 2 rows after its prefetch (PF) and
// 2 lines of pf, then the step to the next (KNLOOPS); Q8X8STORE4 … Q8X8STORE2 add
// their sums to y.
#define Q8X8STEP(PF, START, CHUNK, FIN) \
	PF                            \
	PFNEXT2                       \
	Q8X8BLOCK(START, CHUNK, FIN) \
	Q8X8NEXT
#define Q8X8BLOCK4(PF) Q8X8STEP(PF, Q8X8START4, Q8X8CHUNK4, Q8X8FIN4)
#define Q8X8BLOCK3(PF) Q8X8STEP(PF, Q8X8START3, Q8X8CHUNK3, Q8X8FIN3)
#define Q8X8BLOCK2(PF) Q8X8STEP(PF, Q8X8START2, Q8X8CHUNK2, Q8X8FIN2)
#define Q8X8STORE4 X8STORE4(A0, A1, A2, A3)
#define Q8X8STORE3 X8STORE3(A0, A1, A2)
#define Q8X8STORE2 X8STORE2(A0, A1)

// Q8X8ONES sets ONES to int16 ones.
#define Q8X8ONES \
	VPCMPEQW ONES, ONES, ONES \
	VPSRLW $15, ONES, ONES

// func gemmQ8_0X8xNAVX2(y []float32, ldy int, x []byte, ldx int, w []byte, ldw int, n int, nb int, rows int, pf []byte)
// Requires: AVX, AVX2, F16C
//
//	for i < rows, j < n: y[i*ldy+j] += dotQ8_0Generic(W_j, X_i), the rows W_j in the
//	q8X8 layout at w, ldw bytes per row (8·ldw per group of 8), X_i the nb Q8_0
//	activation blocks at x[i*ldx:]; n > 0, n%8 == 0, nb > 0, 2 ≤ rows ≤ 4; pf
//	prefetched into L2 (PFNEXT2)
TEXT ·gemmQ8_0X8xNAVX2(SB), NOSPLIT, $32-144 // KNPF's slots, yend
	KNARGS(3)
	MOVQ ·gemvPrefetch(SB), R14 // the first pass over a tile streams it from memory
	Q8X8ONES

group:
	VXORPS A0, A0, A0
	VXORPS A1, A1, A1
	VXORPS A2, A2, A2
	VXORPS A3, A3, A3
	XORQ   XOFF, XOFF
	MOVQ   WROW, WP
	MOVQ   nb+104(FP), BLEFT
	CMPQ   rows+112(FP), $3
	KNLOOPS(Q8X8PF, Q8X8BLOCK4, Q8X8BLOCK3, Q8X8BLOCK2, Q8X8STORE4, Q8X8STORE3, Q8X8STORE2, block4, block3, block2)

next:
	ADDQ $32, YP
	ADDQ LDW, WROW
	CMPQ YP, yend-8(SP)
	JNE  group
	VZEROUPPER
	RET

// func gemvQ8_0X8AVX2(y []float32, x []byte, w []byte, ldw int, nb int)
// Requires: AVX, AVX2, F16C
//
//	for j < len(y): y[j] += dotQ8_0Generic(W_j, X), the rows W_j in the q8X8 layout
//	at w, ldw bytes per row, X the nb Q8_0 activation blocks at x; len(y)%8 == 0,
//	nb > 0
TEXT ·gemvQ8_0X8AVX2(SB), NOSPLIT, $8-88
	GEMVARGS(3)
	MOVQ ·gemvPrefetch(SB), R14
	Q8X8ONES

group:
	CMPQ   YP, yend-8(SP)
	JEQ    done
	VXORPS A0, A0, A0
	XORQ   XOFF, XOFF
	MOVQ   WROW, WP
	MOVQ   nb+80(FP), BLEFT

block:
	Q8X8PF
	Q8X8BLOCK(Q8X8START1, Q8X8CHUNK1, Q8X8FIN1)
	Q8X8NEXT
	JNZ block

	X8ADDY(YP, A0)
	ADDQ $32, YP
	ADDQ LDW, WROW
	JMP  group

done:
	VZEROUPPER
	RET
