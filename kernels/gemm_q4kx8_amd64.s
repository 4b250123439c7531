//go:build gc && !purego

#include "go_asm.h"
#include "textflag.h"
#include "gemm_quant_amd64.h"
#include "gemm_x8_amd64.h"

// Matrix-multiply kernels for Q4_K weights repacked 8 rows side by side (the q4KX8
// layout, repack.go) against activations quantized to Q8_K blocks (xPrep layout).
//
// A 32-byte chunk of quants holds 4 bytes of each of the 8 rows; its low nibbles are 4
// elements of sub-block 2g of every row, its high nibbles 4 of sub-block 2g+1. Against
// the 4 activation quants of those elements broadcast to every dword, VPMADDUBSW gives
// each row two int16 partial sums, and the 8 chunks of a sub-block add up in int16
// lanes without overflow (8·2·15·128 < 2^15). VPMADDWD against the row's scale (each
// int16 pair of a dword holds it) then sums each pair into the row's int32 lane. The
// mins of a group's two sub-blocks (side by side in the layout) meet the activations'
// two sums of 32 in one VPMADDWD: per super-block, VPHADDW adds the activations' sums
// of 16 in pairs into a stack slot of each row. Per super-block each row's lane is
// then dotQ4_KGeneric's step exactly:
//
//	acc += float32(dx·d)·float32(isum) − float32(dx·dmin)·float32(imin)
//
// (products, difference and sum rounded one by one, no FMA), and y += acc at the end,
// so these kernels are bit-identical to the generic ones.

// General registers: gemm_quant_amd64.h's names (YP steps 8 outputs at a time, WP walks
// a group's blocks and WROW the groups of 8 weight rows; LDW is scaled to bytes per
// group).

#define A0 Y0     // int16 sums of the current sub-block, per activation row
#define A1 Y1
#define A2 Y2
#define A3 Y3
#define I0 Y4     // int32 Σ sc·Σ w·q of the super-block
#define I1 Y5
#define I2 Y6
#define I3 Y7
#define M0 Y8     // int32 Σ m·bsum of the super-block
#define M1 Y9
#define M2 Y10
#define M3 Y11
#define W Y12     // the chunk's weights
#define B Y13     // broadcast activations, products
#define MASK Y14  // bytes 0x0F
#define T Y15     // scales or mins, one per int16 pair

// X8LO(c) / X8HI(c) load chunk c (8·group + chunk) of the super-block's quants: the low
// nibbles, or the high ones.
#define X8LO(c) \
	VPAND const_q4KX8QuantsOff+32*(c)(WP), MASK, W
#define X8HI(c) \
	VMOVDQU const_q4KX8QuantsOff+32*(c)(WP), W \
	VPSRLW $4, W, W                          \
	VPAND MASK, W, W

// X8MUL(q, xr, a): a += the int16 pair sums of W against the 4 quants at q of row xr;
// X8MUL0 starts a.
#define X8MUL(q, xr, a) \
	VPBROADCASTD const_q8QuantsOff+(q)(xr)(XOFF*1), B \
	VPMADDUBSW B, W, B \
	VPADDW B, a, a
#define X8MUL0(q, xr, a) \
	VPBROADCASTD const_q8QuantsOff+(q)(xr)(XOFF*1), B \
	VPMADDUBSW B, W, a

// X8PAIRS(off) sets T's int16 pairs of dword r to the byte at off+r of the super-block.
#define X8PAIRS(off) \
	VPBROADCASTQ off(WP), T \
	VPSHUFB x8Pairs<>(SB), T, T

// X8SCALE(s, a, isum): isum += sc_s·(the pair sums of a).
#define X8SCALE(a, isum) \
	VPMADDWD T, a, a \
	VPADDD a, isum, isum

// X8GMINS(g) sets T's dword r to the mins of sub-blocks 2g and 2g+1 of row r (int16).
#define X8GMINS(g) \
	VPMOVZXBW const_q4KX8MinsOff+16*(g)(WP), T

// X8MIN(g, r, msum): msum += m_2g·sum_2g + m_2g+1·sum_2g+1 of activation row r (T
// holding the mins, W scratch; Q4KPAIRSUMS).
#define X8MIN(g, r, msum) \
	VPBROADCASTD Q4KPAIR(g, r)(SP), W \
	VPMADDWD T, W, W                 \
	VPADDD W, msum, msum

// X8FIN(xr, a, isum, msum, acc): acc += (dx·d)·isum − (dx·dmin)·imin for the 8 rows,
// W holding d and T dmin; a and B are scratch.
#define X8FIN(xr, a, isum, msum, acc) \
	VBROADCASTSS (xr)(XOFF*1), B \
	VMULPS W, B, a               \
	VMULPS T, B, B               \
	VCVTDQ2PS isum, isum         \
	VMULPS isum, a, a            \
	VCVTDQ2PS msum, msum         \
	VMULPS msum, B, B            \
	VSUBPS B, a, a               \
	VADDPS acc, a, a             \
	VMOVUPS a, acc

#define X8DMIN \
	VCVTPH2PS const_q4KX8DOff(WP), W \
	VCVTPH2PS const_q4KX8DMinOff(WP), T

// ---- 2, 3 or 4 activation rows ----

// X8CHUNK2(q) … X8CHUNK4(q): chunk c (already in W) against quants q of the first 2 … 4
// rows; X8CHUNK20 … X8CHUNK40 start the sums.
#define X8CHUNK2(q) \
	X8MUL(q, XR0, A0) \
	X8MUL(q, XR1, A1)
#define X8CHUNK3(q) \
	X8CHUNK2(q) \
	X8MUL(q, XR2, A2)
#define X8CHUNK4(q) \
	X8CHUNK3(q) \
	X8MUL(q, XR3, A3)
#define X8CHUNK20(q) \
	X8MUL0(q, XR0, A0) \
	X8MUL0(q, XR1, A1)
#define X8CHUNK30(q) \
	X8CHUNK20(q) \
	X8MUL0(q, XR2, A2)
#define X8CHUNK40(q) \
	X8CHUNK30(q) \
	X8MUL0(q, XR3, A3)

// X8SCALEn / X8MINn(g): the scales (in T) of a sub-block, and the mins of group g, of
// the rows.
#define X8SCALE2 \
	X8SCALE(A0, I0) \
	X8SCALE(A1, I1)
#define X8SCALE3 \
	X8SCALE2 \
	X8SCALE(A2, I2)
#define X8SCALE4 \
	X8SCALE3 \
	X8SCALE(A3, I3)
// X8MIN2(g) … X8MIN4(g): the mins of group g against the rows, then 2 lines of pf (of
// a group's 5).
#define X8MIN2(g) \
	Q4KMINS2(X8GMINS, X8MIN, g) \
	PFNEXT2
#define X8MIN3(g) \
	Q4KMINS3(X8GMINS, X8MIN, g) \
	PFNEXT2
#define X8MIN4(g) \
	Q4KMINS4(X8GMINS, X8MIN, g) \
	PFNEXT2

// X8SUB(s, LOAD, CHUNK0, CHUNK, SCALE): sub-block s (LOAD X8LO for even s, X8HI for
// odd) of the rows: its 8 chunks and its scales; first, the prefetch of a 160-byte
// eighth of a super-block (R14 = gemvPrefetch) ahead.
#define X8SUB(s, LOAD, CHUNK0, CHUNK, SCALE) \
	PREFETCHT0 160*(s)(WP)(R14*1)     \
	PREFETCHT0 160*(s)+64(WP)(R14*1)  \
	PREFETCHT0 160*(s)+128(WP)(R14*1) \
	LOAD(8*((s)/2)+0) \
	CHUNK0(32*(s)+0) \
	LOAD(8*((s)/2)+1) \
	CHUNK(32*(s)+4) \
	LOAD(8*((s)/2)+2) \
	CHUNK(32*(s)+8) \
	LOAD(8*((s)/2)+3) \
	CHUNK(32*(s)+12) \
	LOAD(8*((s)/2)+4) \
	CHUNK(32*(s)+16) \
	LOAD(8*((s)/2)+5) \
	CHUNK(32*(s)+20) \
	LOAD(8*((s)/2)+6) \
	CHUNK(32*(s)+24) \
	LOAD(8*((s)/2)+7) \
	CHUNK(32*(s)+28) \
	X8PAIRS(const_q4KX8ScalesOff+8*(s)) \
	SCALE

// X8BLOCK(CHUNK0, CHUNK, SCALE, MIN): the super-block's 8 sub-blocks of the rows, each
// group's mins after its second.
#define X8BLOCK(CHUNK0, CHUNK, SCALE, MIN) \
	X8SUB(0, X8LO, CHUNK0, CHUNK, SCALE) \
	X8SUB(1, X8HI, CHUNK0, CHUNK, SCALE) \
	MIN(0)                               \
	X8SUB(2, X8LO, CHUNK0, CHUNK, SCALE) \
	X8SUB(3, X8HI, CHUNK0, CHUNK, SCALE) \
	MIN(1)                               \
	X8SUB(4, X8LO, CHUNK0, CHUNK, SCALE) \
	X8SUB(5, X8HI, CHUNK0, CHUNK, SCALE) \
	MIN(2)                               \
	X8SUB(6, X8LO, CHUNK0, CHUNK, SCALE) \
	X8SUB(7, X8HI, CHUNK0, CHUNK, SCALE) \
	MIN(3)

// X8FIN2 … X8FIN4: the super-block's float steps of the rows (X8FIN).
#define X8FIN2 \
	X8DMIN \
	X8FIN(XR0, A0, I0, M0, X8ACC0) \
	X8FIN(XR1, A1, I1, M1, X8ACC1)
#define X8FIN3 \
	X8FIN2 \
	X8FIN(XR2, A2, I2, M2, X8ACC2)
#define X8FIN4 \
	X8FIN3 \
	X8FIN(XR3, A3, I3, M3, X8ACC3)

// X8NEXT steps to the next super-block; the flags say whether one is left.
#define X8NEXT \
	ADDQ $const_q4KX8BlockBytes, WP \
	ADDQ $const_q8KBlockBytes, XOFF \
	DECQ BLEFT

// func gemmQ4_KX8xNAVX2(y []float32, ldy int, x []byte, ldx int, w []byte, ldw int, n int, nb int, rows int, pf []byte)
// Requires: AVX, AVX2, F16C
//
//	for i < rows, j < n: y[i*ldy+j] += dotQ4_KGeneric(W_j, x[i*ldx:][:nb*292]), the
//	rows W_j in the q4KX8 layout at w, ldw bytes per row (8·ldw per group of 8)
//	n > 0, n%8 == 0, nb > 0, 2 ≤ rows ≤ 4; pf prefetched into L2 (PFNEXT2)
TEXT ·gemmQ4_KX8xNAVX2(SB), NOSPLIT, $288-144 // 4 rows' sums of 32, the stack sums, KNPF's slots, yend
	KNARGS(3)
	MOVQ ·gemvPrefetch(SB), R14 // the first pass over a tile streams it from memory
	X8MASK0F

group:
	X8ZEROACC(B)
	XORQ    XOFF, XOFF
	MOVQ    WROW, WP
	MOVQ    nb+104(FP), BLEFT
	CMPQ    rows+112(FP), $3
	JEQ     block3
	JLT     block2

block4:
	X8START4
	Q4KPAIRSUMS4(B)
	X8BLOCK(X8CHUNK40, X8CHUNK4, X8SCALE4, X8MIN4)
	X8FIN4
	X8NEXT
	JNZ block4
	X8LOADACC(A0, A1, A2, A3)
	X8STORE4(A0, A1, A2, A3)
	JMP next

block3:
	X8START3
	Q4KPAIRSUMS3(B)
	X8BLOCK(X8CHUNK30, X8CHUNK3, X8SCALE3, X8MIN3)
	X8FIN3
	X8NEXT
	JNZ block3
	X8LOADACC(A0, A1, A2, A3)
	X8STORE3(A0, A1, A2)
	JMP next

block2:
	X8START2
	Q4KPAIRSUMS2(B)
	X8BLOCK(X8CHUNK20, X8CHUNK2, X8SCALE2, X8MIN2)
	X8FIN2
	X8NEXT
	JNZ block2
	X8LOADACC(A0, A1, A2, A3)
	X8STORE2(A0, A1)

next:
	ADDQ $32, YP
	ADDQ LDW, WROW
	CMPQ YP, yend-8(SP)
	JNE  group
	VZEROUPPER
	RET

// ---- one activation row ----

#define ACC Y1 // the 8 rows' float32 sums (A1's register)

// The one row XR0's chunk, scale and min steps for X8SUB.
#define X8CHUNK1(q) X8MUL(q, XR0, A0)
#define X8CHUNK10(q) X8MUL0(q, XR0, A0)
#define X8SCALE1 X8SCALE(A0, I0)
#define X8MIN1(g) \
	X8GMINS(g) \
	X8MIN(g, 0, M0)

// func gemvQ4_KX8AVX2(y []float32, x []byte, w []byte, ldw int, nb int)
// Requires: AVX, AVX2, F16C
//
//	for j < len(y): y[j] += dotQ4_KGeneric(W_j, x[:nb*292]), the rows W_j in the q4KX8
//	layout at w, ldw bytes per row; len(y)%8 == 0, nb > 0
TEXT ·gemvQ4_KX8AVX2(SB), NOSPLIT, $40-88 // the row's sums of 32, then yend
	GEMVARGS(3)
	MOVQ ·gemvPrefetch(SB), R14
	X8MASK0F

group:
	CMPQ   YP, yend-8(SP)
	JEQ    done
	VXORPS ACC, ACC, ACC
	XORQ   XOFF, XOFF
	MOVQ   WROW, WP
	MOVQ   nb+80(FP), BLEFT

block:
	VPXOR I0, I0, I0
	VPXOR M0, M0, M0
	Q4KPAIRSUMS(XR0, 0, B)
	X8BLOCK(X8CHUNK10, X8CHUNK1, X8SCALE1, X8MIN1)
	X8DMIN
	X8FIN(XR0, A0, I0, M0, ACC)
	X8NEXT
	JNZ block

	X8ADDY(YP, ACC)
	ADDQ $32, YP
	ADDQ LDW, WROW
	JMP  group

done:
	VZEROUPPER
	RET

// x8Pairs: dword r of the result takes byte r (of 8) in both its int16 halves.
DATA x8Pairs<>+0(SB)/8, $0x8001800180008000
DATA x8Pairs<>+8(SB)/8, $0x8003800380028002
DATA x8Pairs<>+16(SB)/8, $0x8005800580048004
DATA x8Pairs<>+24(SB)/8, $0x8007800780068006
GLOBL x8Pairs<>(SB), RODATA|NOPTR, $32
