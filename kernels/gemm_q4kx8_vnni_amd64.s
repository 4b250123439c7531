//go:build gc && !purego

#include "go_asm.h"
#include "textflag.h"
#include "gemm_quant_amd64.h"
#include "gemm_x8_amd64.h"

// Q4_K matrix-multiply kernels for weights repacked 8 rows side by side (the q4KX8
// layout, repack.go) against activations quantized to Q8_K blocks (xPrep layout), on
// AVX-512 VNNI (256-bit vectors; Y16…Y31 through EVEX encodings).
//
// A 32-byte chunk of quants holds 4 bytes of each of the 8 rows; its low nibbles are 4
// elements of sub-block 2g of every row, its high nibbles 4 of sub-block 2g+1. The
// nibbles are unsigned and the activation quants signed, what VPDPBUSD takes as it is:
// against the 4 activation quants broadcast to every dword it adds each row's 4
// products into that row's int32 lane. One load serves both sub-blocks of a group,
// whose sums go in two chains; once per group VPMULLD scales each row's lane by its
// 6-bit scale (the sums reach 32·15·128, past int16), and the mins meet the
// activation sums of 16 in one VPDPWSSD per sub-block. Per super-block each row's lane
// then takes dotQ4_KGeneric's step exactly, as in the AVX2 kernels
// (gemm_q4kx8_amd64.s):
//
//	acc += float32(dx·d)·float32(isum) − float32(dx·dmin)·float32(imin)
//
// (products, difference and sum rounded one by one, no FMA), and y += acc at the end,
// so these kernels are bit-identical to the generic ones.

// General registers: gemm_quant_amd64.h's names (YP steps 8 outputs at a time, WP walks
// a group's blocks and WROW the groups of 8 weight rows; LDW is scaled to bytes per
// group).

#define F0 Y0     // scratch of the float steps, per activation row
#define F1 Y1
#define F2 Y2
#define F3 Y3
#define I0 Y4     // int32 Σ sc·Σ w·q of the super-block, per activation row
#define I1 Y5
#define I2 Y6
#define I3 Y7
#define M0 Y8     // int32 Σ m·bsum of the super-block
#define M1 Y9
#define M2 Y10
#define M3 Y11
#define WL Y12    // the chunk's low nibbles (sub-block 2g)
#define WH Y13    // its high nibbles (sub-block 2g+1)
#define MASK Y14  // bytes 0x0F
#define T Y15     // scales or mins of the 8 rows; dmin in the float steps
#define L0 Y16    // int32 Σ w·q of sub-block 2g
#define L1 Y17
#define L2 Y18
#define L3 Y19
#define H0 Y20    // of sub-block 2g+1
#define H1 Y21
#define H2 Y22
#define H3 Y23
#define SUM0 Y24  // the 8 rows' float32 sums
#define SUM1 Y25
#define SUM2 Y26
#define SUM3 Y27
#define D Y28     // d of the 8 rows
#define U Y29     // scratch

// V8LOAD(c): chunk c (8·group + chunk) of the super-block's quants, low nibbles to WL
// and high ones to WH (a dword shift: the bits crossing bytes are masked off).
#define V8LOAD(c) \
	VMOVDQU const_q4KX8QuantsOff+32*(c)(WP), WH \
	VPAND WH, MASK, WL                         \
	VPSRLD $4, WH, WH                          \
	VPAND MASK, WH, WH

// V8DOT(q, xr, w, acc): acc += the 8 rows' Σ w·q over the 4 activation quants at q of
// row xr.
#define V8DOT(q, xr, w, acc) \
	VPDPBUSD.BCST const_q8QuantsOff+(q)(xr)(XOFF*1), w, acc

// V8SCALES(s) sets T's dword r to sc_s of row r; V8SCALE(acc, isum): isum += T·acc.
#define V8SCALES(s) \
	VPMOVZXBD const_q4KX8ScalesOff+8*(s)(WP), T
#define V8SCALE(acc, isum) \
	VPMULLD T, acc, acc \
	VPADDD acc, isum, isum

// V8MINS(s) sets both int16 halves of T's dword r to m_s of row r.
#define V8MINS(s) \
	VPMOVZXBD const_q4KX8MinsOff+8*(s)(WP), T \
	VPSLLD $16, T, U                         \
	VPORD U, T, T

// V8MIN(s, xr, msum): msum += m_s·(bsum_2s + bsum_2s+1) of row xr.
#define V8MIN(s, xr, msum) \
	VPDPWSSD.BCST const_q8KSumsOff+4*(s)(xr)(XOFF*1), T, msum

// V8FIN(xr, f, isum, msum, acc): acc += (dx·d)·isum − (dx·dmin)·imin for the 8 rows,
// D holding d and T dmin; f and U are scratch.
#define V8FIN(xr, f, isum, msum, acc) \
	VBROADCASTSS (xr)(XOFF*1), U \
	VMULPS D, U, f               \
	VMULPS T, U, U               \
	VCVTDQ2PS isum, isum         \
	VMULPS isum, f, f            \
	VCVTDQ2PS msum, msum         \
	VMULPS msum, U, U            \
	VSUBPS U, f, f               \
	VADDPS acc, f, acc

#define V8DMIN \
	VCVTPH2PS const_q4KX8DOff(WP), D \
	VCVTPH2PS const_q4KX8DMinOff(WP), T

// V8PF(g): prefetch group g's quarter of the super-block gemvPrefetch (R14) ahead.
#define V8PF(g) \
	PREFETCHT0 296*(g)(WP)(R14*1)     \
	PREFETCHT0 296*(g)+64(WP)(R14*1)  \
	PREFETCHT0 296*(g)+128(WP)(R14*1) \
	PREFETCHT0 296*(g)+192(WP)(R14*1) \
	PREFETCHT0 296*(g)+256(WP)(R14*1)

// ---- 2, 3 or 4 activation rows ----

// V8DOTS2(q, w, a0, a1) … V8DOTS4(q, w, a0, a1, a2, a3): V8DOT of w against quants q of
// the first 2 … 4 rows, into a0, a1, …
#define V8DOTS2(q, w, a0, a1) \
	V8DOT(q, XR0, w, a0) \
	V8DOT(q, XR1, w, a1)
#define V8DOTS3(q, w, a0, a1, a2) \
	V8DOTS2(q, w, a0, a1) \
	V8DOT(q, XR2, w, a2)
#define V8DOTS4(q, w, a0, a1, a2, a3) \
	V8DOTS3(q, w, a0, a1, a2) \
	V8DOT(q, XR3, w, a3)

// V8CHUNK2(g, c) … V8CHUNK4(g, c): chunk c of group g against the rows, both sub-blocks.
#define V8CHUNK2(g, c) \
	V8LOAD(8*(g)+(c)) \
	V8DOTS2(64*(g)+4*(c), WL, L0, L1) \
	V8DOTS2(64*(g)+32+4*(c), WH, H0, H1)
#define V8CHUNK3(g, c) \
	V8LOAD(8*(g)+(c)) \
	V8DOTS3(64*(g)+4*(c), WL, L0, L1, L2) \
	V8DOTS3(64*(g)+32+4*(c), WH, H0, H1, H2)
#define V8CHUNK4(g, c) \
	V8LOAD(8*(g)+(c)) \
	V8DOTS4(64*(g)+4*(c), WL, L0, L1, L2, L3) \
	V8DOTS4(64*(g)+32+4*(c), WH, H0, H1, H2, H3)

// V8ZERO2 … V8ZERO4 zero the rows' sub-block sums.
#define V8ZERO2 \
	VPXORD L0, L0, L0 \
	VPXORD L1, L1, L1 \
	VPXORD H0, H0, H0 \
	VPXORD H1, H1, H1
#define V8ZERO3 \
	V8ZERO2 \
	VPXORD L2, L2, L2 \
	VPXORD H2, H2, H2
#define V8ZERO4 \
	V8ZERO3 \
	VPXORD L3, L3, L3 \
	VPXORD H3, H3, H3

// V8SCALE2(s, a0, a1) … V8SCALE4(s, a0, a1, a2, a3): I0, I1, … += sc_s·a0, a1, …
#define V8SCALE2(s, a0, a1) \
	V8SCALES(s) \
	V8SCALE(a0, I0) \
	V8SCALE(a1, I1)
#define V8SCALE3(s, a0, a1, a2) \
	V8SCALE2(s, a0, a1) \
	V8SCALE(a2, I2)
#define V8SCALE4(s, a0, a1, a2, a3) \
	V8SCALE3(s, a0, a1, a2) \
	V8SCALE(a3, I3)

// V8SUBMINS2(s) … V8SUBMINS4(s): the mins of sub-block s against the rows.
#define V8SUBMINS2(s) \
	V8MINS(s) \
	V8MIN(s, XR0, M0) \
	V8MIN(s, XR1, M1)
#define V8SUBMINS3(s) \
	V8SUBMINS2(s) \
	V8MIN(s, XR2, M2)
#define V8SUBMINS4(s) \
	V8SUBMINS3(s) \
	V8MIN(s, XR3, M3)

// V8GROUPS(CHUNK, ZERO, SUBMINS, SCALEL, SCALEH): the 4 groups of a super-block
// (sub-blocks 2g and 2g+1), each after its prefetch; SCALEL and SCALEH scale the low
// and high sums by the sub-block's scales.
#define V8GROUP(g, CHUNK, ZERO, SUBMINS, SCALEL, SCALEH) \
	V8PF(g) \
	ZERO \
	CHUNK(g, 0) \
	CHUNK(g, 1) \
	CHUNK(g, 2) \
	CHUNK(g, 3) \
	CHUNK(g, 4) \
	CHUNK(g, 5) \
	CHUNK(g, 6) \
	CHUNK(g, 7) \
	SCALEL(2*(g)) \
	SCALEH(2*(g)+1) \
	SUBMINS(2*(g)) \
	SUBMINS(2*(g)+1)
#define V8GROUPS(CHUNK, ZERO, SUBMINS, SCALEL, SCALEH) \
	V8GROUP(0, CHUNK, ZERO, SUBMINS, SCALEL, SCALEH) \
	V8GROUP(1, CHUNK, ZERO, SUBMINS, SCALEL, SCALEH) \
	V8GROUP(2, CHUNK, ZERO, SUBMINS, SCALEL, SCALEH) \
	V8GROUP(3, CHUNK, ZERO, SUBMINS, SCALEL, SCALEH)

#define V8SCALE2L(s) V8SCALE2(s, L0, L1)
#define V8SCALE2H(s) V8SCALE2(s, H0, H1)
#define V8SCALE3L(s) V8SCALE3(s, L0, L1, L2)
#define V8SCALE3H(s) V8SCALE3(s, H0, H1, H2)
#define V8SCALE4L(s) V8SCALE4(s, L0, L1, L2, L3)
#define V8SCALE4H(s) V8SCALE4(s, H0, H1, H2, H3)

// V8FIN2 … V8FIN4: the super-block's float steps of the rows (V8FIN).
#define V8FIN2 \
	V8DMIN \
	V8FIN(XR0, F0, I0, M0, SUM0) \
	V8FIN(XR1, F1, I1, M1, SUM1)
#define V8FIN3 \
	V8FIN2 \
	V8FIN(XR2, F2, I2, M2, SUM2)
#define V8FIN4 \
	V8FIN3 \
	V8FIN(XR3, F3, I3, M3, SUM3)

// V8NEXT steps to the next super-block; the flags say whether one is left.
#define V8NEXT \
	ADDQ $const_q4KX8BlockBytes, WP \
	ADDQ $const_q8KBlockBytes, XOFF \
	DECQ BLEFT

// func gemmQ4_KX8xNVNNI(y []float32, ldy int, x []byte, ldx int, w []byte, ldw int, n int, nb int, rows int)
// Requires: AVX, AVX2, F16C, AVX512F, AVX512VL, AVX512_VNNI
//
//	for i < rows, j < n: y[i*ldy+j] += dotQ4_KGeneric(W_j, x[i*ldx:][:nb*292]), the
//	rows W_j in the q4KX8 layout at w, ldw bytes per row (8·ldw per group of 8)
//	n > 0, n%8 == 0, nb > 0, 2 ≤ rows ≤ 4
TEXT ·gemmQ4_KX8xNVNNI(SB), NOSPLIT, $8-120
	MOVQ y_base+0(FP), YP
	MOVQ ldy+24(FP), LDY
	MOVQ x_base+32(FP), XR0
	MOVQ ldx+56(FP), BX
	SETUP4 // XR2, XR3 are not read with fewer rows
	MOVQ w_base+64(FP), WROW
	MOVQ ldw+88(FP), LDW
	SHLQ $3, LDW
	MOVQ n+96(FP), BX
	LEAQ (YP)(BX*4), BX
	MOVQ BX, yend-8(SP)
	MOVQ ·gemvPrefetch(SB), R14 // the first pass over a tile streams it from memory
	X8MASK0F

group:
	VPXORD SUM0, SUM0, SUM0
	VPXORD SUM1, SUM1, SUM1
	VPXORD SUM2, SUM2, SUM2
	VPXORD SUM3, SUM3, SUM3
	XORQ   XOFF, XOFF
	MOVQ   WROW, WP
	MOVQ   nb+104(FP), BLEFT
	CMPQ   rows+112(FP), $3
	JEQ    block3
	JLT    block2

block4:
	X8START4
	V8GROUPS(V8CHUNK4, V8ZERO4, V8SUBMINS4, V8SCALE4L, V8SCALE4H)
	V8FIN4
	V8NEXT
	JNZ block4
	X8STORE4(SUM0, SUM1, SUM2, SUM3)
	JMP next

block3:
	X8START3
	V8GROUPS(V8CHUNK3, V8ZERO3, V8SUBMINS3, V8SCALE3L, V8SCALE3H)
	V8FIN3
	V8NEXT
	JNZ block3
	X8STORE3(SUM0, SUM1, SUM2)
	JMP next

block2:
	X8START2
	V8GROUPS(V8CHUNK2, V8ZERO2, V8SUBMINS2, V8SCALE2L, V8SCALE2H)
	V8FIN2
	V8NEXT
	JNZ block2
	X8STORE2(SUM0, SUM1)

next:
	ADDQ $32, YP
	ADDQ LDW, WROW
	CMPQ YP, yend-8(SP)
	JNE  group
	VZEROUPPER
	RET

// ---- one activation row: four chains (the even and odd chunks of each sub-block) ----

// V8CHUNK1(g, c, l, h): chunk c of group g against the one row, into l and h.
#define V8CHUNK1(g, c, l, h) \
	V8LOAD(8*(g)+(c)) \
	V8DOT(64*(g)+4*(c), XR0, WL, l) \
	V8DOT(64*(g)+32+4*(c), XR0, WH, h)

// V8GROUP1(g): group g against the one row XR0, after its prefetch.
#define V8GROUP1(g) \
	V8PF(g) \
	V8ZERO2 \
	V8CHUNK1(g, 0, L0, H0) \
	V8CHUNK1(g, 1, L1, H1) \
	V8CHUNK1(g, 2, L0, H0) \
	V8CHUNK1(g, 3, L1, H1) \
	V8CHUNK1(g, 4, L0, H0) \
	V8CHUNK1(g, 5, L1, H1) \
	V8CHUNK1(g, 6, L0, H0) \
	V8CHUNK1(g, 7, L1, H1) \
	VPADDD L1, L0, L0 \
	VPADDD H1, H0, H0 \
	V8SCALES(2*(g)) \
	V8SCALE(L0, I0) \
	V8SCALES(2*(g)+1) \
	V8SCALE(H0, I0) \
	V8MINS(2*(g)) \
	V8MIN(2*(g), XR0, M0) \
	V8MINS(2*(g)+1) \
	V8MIN(2*(g)+1, XR0, M0)

// func gemvQ4_KX8VNNI(y []float32, x []byte, w []byte, ldw int, nb int)
// Requires: AVX, AVX2, F16C, AVX512F, AVX512VL, AVX512_VNNI
//
//	for j < len(y): y[j] += dotQ4_KGeneric(W_j, x[:nb*292]), the rows W_j in the q4KX8
//	layout at w, ldw bytes per row; len(y)%8 == 0, nb > 0
TEXT ·gemvQ4_KX8VNNI(SB), NOSPLIT, $8-88
	MOVQ y_base+0(FP), YP
	MOVQ y_len+8(FP), BX
	LEAQ (YP)(BX*4), BX
	MOVQ BX, yend-8(SP)
	MOVQ x_base+24(FP), XR0
	MOVQ w_base+48(FP), WROW
	MOVQ ldw+72(FP), LDW
	SHLQ $3, LDW
	MOVQ ·gemvPrefetch(SB), R14
	X8MASK0F

group:
	CMPQ   YP, yend-8(SP)
	JEQ    done
	VPXORD SUM0, SUM0, SUM0
	XORQ   XOFF, XOFF
	MOVQ   WROW, WP
	MOVQ   nb+80(FP), BLEFT

block:
	VPXOR I0, I0, I0
	VPXOR M0, M0, M0
	V8GROUP1(0)
	V8GROUP1(1)
	V8GROUP1(2)
	V8GROUP1(3)
	V8DMIN
	V8FIN(XR0, F0, I0, M0, SUM0)
	V8NEXT
	JNZ block

	X8ADDY(YP, SUM0)
	ADDQ $32, YP
	ADDQ LDW, WROW
	JMP  group

done:
	VZEROUPPER
	RET
