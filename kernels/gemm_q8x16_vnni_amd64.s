//go:build gc && !purego

#include "go_asm.h"
#include "textflag.h"
#include "gemm_quant_amd64.h"
#include "gemm_x8_amd64.h"

// Q8_0 matrix-multiply kernels for weights repacked 16 rows side by side (the q8X16
// layout, repack.go: quants +128, unsigned) against activation blocks with their sums
// (prepQ8X16: float32 d, 32 int8 q, int32 −128·Σq), on AVX-512 VNNI with 512-bit vectors
// (twice the work of a 256-bit instruction at the same rate where a core has two
// 512-bit units).
//
// A 64-byte chunk of weights holds 4 quants of each of the 16 rows; VPDPBUSD against
// the 4 activation quants broadcast to every dword adds Σ (w+128)·q of each row into
// its int32 lane, so a lane started from −128·Σq ends a block with the row's exact
// Σ w·q. Per block each row's lane then takes dotQ8_0Generic's step exactly,
//
//	acc += float32(dw·dx)·float32(isum)
//
// (product and sum rounded one by one, no FMA), and y += acc at the end, so these
// kernels are bit-identical to the generic ones. Each int32 sum goes in two chains
// (even and odd chunks) to halve VPDPBUSD's latency in the loop.

// General registers: gemm_quant_amd64.h's names (YP steps 16 outputs at a time, WP
// walks a group's blocks and WROW the groups of 16 weight rows; LDW is scaled to bytes
// per group).

#define A0 Z0     // the float32 sums of the 16 rows, per activation row
#define A1 Z1
#define A2 Z2
#define A3 Z3
#define I0 Z4     // int32 sums of the block: even chunks (from −128·Σq)
#define I1 Z5
#define I2 Z6
#define I3 Z7
#define J0 Z8     // odd chunks
#define J1 Z9
#define J2 Z10
#define J3 Z11
#define W Z12     // the chunk's weights
#define DW Z13    // the block's 16 weight scales
#define B Z14

// Activation block layout (prepQ8X16): d, quants, −128·Σq.
#define XQ 4
#define XCORR 36

// Q8X16PF(pf): prefetch the block (544 bytes: 9 lines) pf bytes ahead (gemvPrefetch;
// gemvX16Prefetch in the one-row kernel).
#define Q8X16PF(pf) \
	PREFETCHT0 (WP)(pf*1)    \
	PREFETCHT0 64(WP)(pf*1)  \
	PREFETCHT0 128(WP)(pf*1) \
	PREFETCHT0 192(WP)(pf*1) \
	PREFETCHT0 256(WP)(pf*1) \
	PREFETCHT0 320(WP)(pf*1) \
	PREFETCHT0 384(WP)(pf*1) \
	PREFETCHT0 448(WP)(pf*1) \
	PREFETCHT0 512(WP)(pf*1)

// Q8X16DOT(c, xr, acc): acc += Σ (w+128)·q over chunk c (in W) of row xr.
#define Q8X16DOT(c, xr, acc) \
	VPDPBUSD.BCST XQ+4*(c)(xr)(XOFF*1), W, acc

// Q8X16CHUNK2(c, a0, a1) … Q8X16CHUNK4(c, a0, a1, a2, a3): chunk c against the first 2 … 4
// rows, into a0, a1, …
#define Q8X16CHUNK2(c, a0, a1) \
	VMOVDQU32 const_q8X16QuantsOff+64*(c)(WP), W \
	Q8X16DOT(c, XR0, a0)                         \
	Q8X16DOT(c, XR1, a1)
#define Q8X16CHUNK3(c, a0, a1, a2) \
	Q8X16CHUNK2(c, a0, a1) \
	Q8X16DOT(c, XR2, a2)
#define Q8X16CHUNK4(c, a0, a1, a2, a3) \
	Q8X16CHUNK3(c, a0, a1, a2) \
	Q8X16DOT(c, XR3, a3)

// Q8X16START(xr, isum, jsum): a row's chains start from −128·Σq and 0.
#define Q8X16START(xr, isum, jsum) \
	VPBROADCASTD XCORR(xr)(XOFF*1), isum \
	VPXORD jsum, jsum, jsum

// Q8X16FIN(xr, isum, jsum, acc): acc += (dw·dx)·(isum + jsum), DW holding dw.
#define Q8X16FIN(xr, isum, jsum, acc) \
	VPADDD jsum, isum, isum         \
	VCVTDQ2PS isum, isum            \
	VMULPS.BCST (xr)(XOFF*1), DW, B \
	VMULPS isum, B, B               \
	VADDPS B, acc, acc

// Q8X16START2 … Q8X16START4 start the chains of the first 2 … 4 rows.
#define Q8X16START2 \
	Q8X16START(XR0, I0, J0) \
	Q8X16START(XR1, I1, J1)
#define Q8X16START3 \
	Q8X16START2 \
	Q8X16START(XR2, I2, J2)
#define Q8X16START4 \
	Q8X16START3 \
	Q8X16START(XR3, I3, J3)

// Q8X16FIN2 … Q8X16FIN4: the block's float steps of the first 2 … 4 rows.
#define Q8X16FIN2 \
	VCVTPH2PS const_q8X16DOff(WP), DW \
	Q8X16FIN(XR0, I0, J0, A0)         \
	Q8X16FIN(XR1, I1, J1, A1)
#define Q8X16FIN3 \
	Q8X16FIN2 \
	Q8X16FIN(XR2, I2, J2, A2)
#define Q8X16FIN4 \
	Q8X16FIN3 \
	Q8X16FIN(XR3, I3, J3, A3)

// The chunks of 2 … 4 rows into the I chains (even chunks) and the J ones (odd).
#define Q8X16CHUNK2I(c) Q8X16CHUNK2(c, I0, I1)
#define Q8X16CHUNK2J(c) Q8X16CHUNK2(c, J0, J1)
#define Q8X16CHUNK3I(c) Q8X16CHUNK3(c, I0, I1, I2)
#define Q8X16CHUNK3J(c) Q8X16CHUNK3(c, J0, J1, J2)
#define Q8X16CHUNK4I(c) Q8X16CHUNK4(c, I0, I1, I2, I3)
#define Q8X16CHUNK4J(c) Q8X16CHUNK4(c, J0, J1, J2, J3)

// Q8X16BLOCK(START, CHUNKI, CHUNKJ, FIN): one block of the rows, after its prefetches
// (4 lines of pf per block of 8.5).
#define Q8X16BLOCK(START, CHUNKI, CHUNKJ, FIN) \
	Q8X16PF(R14) \
	PFNEXT4      \
	START        \
	CHUNKI(0)    \
	CHUNKJ(1)    \
	CHUNKI(2)    \
	CHUNKJ(3)    \
	CHUNKI(4)    \
	CHUNKJ(5)    \
	CHUNKI(6)    \
	CHUNKJ(7)    \
	FIN

// Q8X16NEXT steps to the next block; the flags say whether one is left.
#define Q8X16NEXT \
	ADDQ $const_q8X16BlockBytes, WP     \
	ADDQ $const_q8X8ActBlockBytes, XOFF \
	DECQ BLEFT

// func gemmQ8_0X16xNVNNI(y []float32, ldy int, x []byte, ldx int, w []byte, ldw int, n int, nb int, rows int, pf []byte)
// Requires: AVX, AVX2, F16C, AVX512F, AVX512_VNNI
//
//	for i < rows, j < n: y[i*ldy+j] += dotQ8_0Generic(W_j, X_i), the rows W_j in the
//	q8X16 layout at w, ldw bytes per row (16·ldw per group of 16), X_i the nb blocks
//	at x[i*ldx:] in prepQ8X16's layout; n > 0, n%16 == 0, nb > 0, 2 ≤ rows ≤ 4;
//	pf prefetched into L2 (PFNEXT4)
TEXT ·gemmQ8_0X16xNVNNI(SB), NOSPLIT, $32-144 // KNPF's slots, yend
	KNARGS(4)
	MOVQ ·gemvPrefetch(SB), R14 // the first pass over a tile streams it from memory

group:
	VPXORD A0, A0, A0
	VPXORD A1, A1, A1
	VPXORD A2, A2, A2
	VPXORD A3, A3, A3
	XORQ   XOFF, XOFF
	MOVQ   WROW, WP
	MOVQ   nb+104(FP), BLEFT
	CMPQ   rows+112(FP), $3
	JEQ    block3
	JLT    block2

block4:
	Q8X16BLOCK(Q8X16START4, Q8X16CHUNK4I, Q8X16CHUNK4J, Q8X16FIN4)
	Q8X16NEXT
	JNZ block4
	X8STORE4(A0, A1, A2, A3)
	JMP next

block3:
	Q8X16BLOCK(Q8X16START3, Q8X16CHUNK3I, Q8X16CHUNK3J, Q8X16FIN3)
	Q8X16NEXT
	JNZ block3
	X8STORE3(A0, A1, A2)
	JMP next

block2:
	Q8X16BLOCK(Q8X16START2, Q8X16CHUNK2I, Q8X16CHUNK2J, Q8X16FIN2)
	Q8X16NEXT
	JNZ block2
	X8STORE2(A0, A1)

next:
	ADDQ $64, YP
	ADDQ LDW, WROW
	CMPQ YP, yend-8(SP)
	JNE  group
	VZEROUPPER
	RET

// ---- one activation row: four chains (chunk c into I0…I3 by c mod 4) ----

// Q8X16CHUNK1(c, a): chunk c against the one row.
#define Q8X16CHUNK1(c, a) \
	VMOVDQU32 const_q8X16QuantsOff+64*(c)(WP), W \
	Q8X16DOT(c, XR0, a)

// func gemvQ8_0X16VNNI(y []float32, x []byte, w []byte, ldw int, nb int)
// Requires: AVX, AVX2, F16C, AVX512F, AVX512_VNNI
//
//	for j < len(y): y[j] += dotQ8_0Generic(W_j, X), the rows W_j in the q8X16 layout
//	at w, ldw bytes per row, X the nb blocks at x in prepQ8X16's layout; len(y)%16 == 0,
//	nb > 0
TEXT ·gemvQ8_0X16VNNI(SB), NOSPLIT, $8-88
	GEMVARGS(4)
	MOVQ ·gemvX16Prefetch(SB), R14

group:
	CMPQ   YP, yend-8(SP)
	JEQ    done
	VPXORD A0, A0, A0
	XORQ   XOFF, XOFF
	MOVQ   WROW, WP
	MOVQ   nb+80(FP), BLEFT

block:
	Q8X16PF(R14)
	VPBROADCASTD XCORR(XR0)(XOFF*1), I0
	VPXORD I1, I1, I1
	VPXORD I2, I2, I2
	VPXORD I3, I3, I3
	Q8X16CHUNK1(0, I0)
	Q8X16CHUNK1(1, I1)
	Q8X16CHUNK1(2, I2)
	Q8X16CHUNK1(3, I3)
	Q8X16CHUNK1(4, I0)
	Q8X16CHUNK1(5, I1)
	Q8X16CHUNK1(6, I2)
	Q8X16CHUNK1(7, I3)
	VPADDD I1, I0, I0
	VPADDD I3, I2, I2
	VCVTPH2PS const_q8X16DOff(WP), DW
	Q8X16FIN(XR0, I0, I2, A0)
	Q8X16NEXT
	JNZ block

	X8ADDY(YP, A0)
	ADDQ $64, YP
	ADDQ LDW, WROW
	JMP  group

done:
	VZEROUPPER
	RET
