//go:build gc && !purego

#include "go_asm.h"
#include "textflag.h"
#include "gemm_quant_amd64.h"
#include "gemm_x8_amd64.h"

// Q4_K matrix-multiply kernels for weights repacked 16 rows side by side (the q4KX16
// layout, repack.go) against activations quantized to Q8_K blocks (xPrep layout), on
// AVX-512 VNNI with 512-bit vectors: where a core has two 512-bit units, one
// instruction does twice the work of a 256-bit one at the same rate, and these kernels
// run 1.3–1.5× the 8-row 256-bit ones at 3 to 32 rows (BenchmarkMatMulRepack).
//
// A 64-byte chunk of quants holds 4 bytes of each of the 16 rows; its low nibbles are
// 4 elements of sub-block 2g of every row, its high nibbles 4 of sub-block 2g+1. The
// nibbles are unsigned and the activation quants signed, what VPDPBUSD takes as it is:
// against the 4 activation quants broadcast to every dword it adds each row's 4
// products into that row's int32 lane. One load serves both sub-blocks of a group,
// whose sums go in two chains. The high nibbles are only masked, not shifted: they
// count 16 times over, so the low sub-block's scale is taken 16 times too, and isum
// is 16·Σ sc·Σ w·q (at most 16·8·63·32·15·128 < 2^31). Once per group VPMULLD scales
// each row's lane by its scale (the sums reach 32·15·128, past int16), and the mins
// of the group's two sub-blocks (side by side in the layout) meet the activations' two
// sums of 32 in one VPDPWSSD: per super-block, VPHADDW adds the activations' sums of 16
// in pairs into a stack slot of each row. Per super-block each
// row's lane then takes dotQ4_KGeneric's step exactly, as in the AVX2 kernels
// (gemm_q4kx8_amd64.s):
//
//	acc += float32(dx·d)·float32(isum) − float32(dx·dmin)·float32(imin)
//
// (products, difference and sum rounded one by one, no FMA; float32(isum) is
// float32(16·isum)/16 exactly, a power of two commuting with the rounding), and y +=
// acc at the end, so these kernels are bit-identical to the generic ones.

// General registers: gemm_quant_amd64.h's names (YP steps 16 outputs at a time, WP
// walks a group's blocks and WROW the groups of 16 weight rows; LDW is scaled to bytes
// per group). gemm_x8_amd64.h's stores take the 16 outputs of a 512-bit register.

#define F0 Z0     // scratch of the float steps, per activation row
#define F1 Z1
#define F2 Z2
#define F3 Z3
#define I0 Z4     // int32 Σ sc·Σ w·q of the super-block, per activation row
#define I1 Z5
#define I2 Z6
#define I3 Z7
#define M0 Z8     // int32 Σ m·bsum of the super-block
#define M1 Z9
#define M2 Z10
#define M3 Z11
#define WL Z12    // the chunk's low nibbles (sub-block 2g)
#define WH Z13    // its high nibbles (sub-block 2g+1)
#define MASK Z14  // bytes 0x0F
#define T Z15     // scales or mins of the 16 rows; dmin in the float steps
#define L0 Z16    // int32 Σ w·q of sub-block 2g
#define L1 Z17
#define L2 Z18
#define L3 Z19
#define H0 Z20    // of sub-block 2g+1
#define H1 Z21
#define H2 Z22
#define H3 Z23
#define SUM0 Z24  // the 16 rows' float32 sums
#define SUM1 Z25
#define SUM2 Z26
#define SUM3 Z27
#define D Z28     // d of the 16 rows
#define U Z29     // scratch
#define MASKF0 Z30    // bytes 0xF0
#define SIXTEENTH Z31 // float32 1/16

// Z16CONSTS sets MASK, MASKF0 and SIXTEENTH (BX clobbered).
#define Z16CONSTS \
	MOVL $0x0F0F0F0F, BX    \
	VPBROADCASTD BX, MASK   \
	MOVL $0xF0F0F0F0, BX    \
	VPBROADCASTD BX, MASKF0 \
	MOVL $0x3D800000, BX    \
	VPBROADCASTD BX, SIXTEENTH

// Z16START2 … Z16START4 zero the integer sums of a super-block, I0… and M0… of the
// first 2 … 4 rows.
#define Z16START2 \
	VPXORD I0, I0, I0 \
	VPXORD I1, I1, I1 \
	VPXORD M0, M0, M0 \
	VPXORD M1, M1, M1
#define Z16START3 \
	Z16START2         \
	VPXORD I2, I2, I2 \
	VPXORD M2, M2, M2
#define Z16START4 \
	Z16START3         \
	VPXORD I3, I3, I3 \
	VPXORD M3, M3, M3

// Z16LOAD(c): chunk c (8·group + chunk) of the super-block's quants, low nibbles to WL
// and high ones, in place (16 times their value), to WH.
#define Z16LOAD(c) \
	VMOVDQU32 const_q4KX16QuantsOff+64*(c)(WP), WH \
	VPANDD WH, MASK, WL                            \
	VPANDD WH, MASKF0, WH

// Z16DOT(q, xr, w, acc): acc += the 16 rows' Σ w·q over the 4 activation quants at q of
// row xr.
#define Z16DOT(q, xr, w, acc) \
	VPDPBUSD.BCST const_q8QuantsOff+(q)(xr)(XOFF*1), w, acc

// Z16SCALES(s) sets T's dword r to sc_s of row r, Z16SCALES16(s) to 16·sc_s (for the
// low nibbles' sums); Z16SCALE(acc, isum): isum += T·acc.
#define Z16SCALES(s) \
	VPMOVZXBD const_q4KX16ScalesOff+16*(s)(WP), T
#define Z16SCALES16(s) \
	Z16SCALES(s) \
	VPSLLD $4, T, T
#define Z16SCALE(acc, isum) \
	VPMULLD T, acc, acc \
	VPADDD acc, isum, isum

// Z16GMINS(g) sets T's dword r to the mins of sub-blocks 2g and 2g+1 of row r (int16).
#define Z16GMINS(g) \
	VPMOVZXBW const_q4KX16MinsOff+32*(g)(WP), T

// Z16GMIN(g, r, msum): msum += m_2g·sum_2g + m_2g+1·sum_2g+1 of activation row r
// (Q4KPAIRSUMS).
#define Z16GMIN(g, r, msum) \
	VPDPWSSD.BCST Q4KPAIR(g, r)(SP), T, msum

// Z16FIN(xr, f, isum, msum, acc): acc += (dx·d)·isum − (dx·dmin)·imin for the 16 rows,
// D holding d and T dmin; f and U are scratch.
#define Z16FIN(xr, f, isum, msum, acc) \
	VBROADCASTSS (xr)(XOFF*1), U \
	VMULPS D, U, f               \
	VMULPS T, U, U               \
	VCVTDQ2PS isum, isum         \
	VMULPS SIXTEENTH, isum, isum \
	VMULPS isum, f, f            \
	VCVTDQ2PS msum, msum         \
	VMULPS msum, U, U            \
	VSUBPS U, f, f               \
	VADDPS acc, f, acc

#define Z16DMIN \
	VCVTPH2PS const_q4KX16DOff(WP), D \
	VCVTPH2PS const_q4KX16DMinOff(WP), T

// Z16PREFETCH(ins, g): prefetch (ins) group g's quarter of the super-block R14 bytes
// ahead. Z16PF(g) into L1 (gemvPrefetch; gemvX16Prefetch in the one-row kernel),
// Z16PFL2(g) into L2 (gemmX16L2Prefetch).
#define Z16PREFETCH(ins, g) \
	ins 592*(g)+0(WP)(R14*1)   \
	ins 592*(g)+64(WP)(R14*1)  \
	ins 592*(g)+128(WP)(R14*1) \
	ins 592*(g)+192(WP)(R14*1) \
	ins 592*(g)+256(WP)(R14*1) \
	ins 592*(g)+320(WP)(R14*1) \
	ins 592*(g)+384(WP)(R14*1) \
	ins 592*(g)+448(WP)(R14*1) \
	ins 592*(g)+512(WP)(R14*1) \
	ins 592*(g)+576(WP)(R14*1)
#define Z16PF(g) Z16PREFETCH(PREFETCHT0, g)
#define Z16PFL2(g) Z16PREFETCH(PREFETCHT2, g)

// Z16PFN(g), Z16PFL2N(g): Z16PF(g), Z16PFL2(g) and 4 lines of pf (of a quarter's 9.25).
#define Z16PFN(g) \
	Z16PF(g) \
	PFNEXT4
#define Z16PFL2N(g) \
	Z16PFL2(g) \
	PFNEXT4

// ---- 2, 3 or 4 activation rows ----

// Z16DOTS2(q, w, a0, a1) … Z16DOTS4(q, w, a0, a1, a2, a3): Z16DOT of w against quants q of
// the first 2 … 4 rows, into a0, a1, …
#define Z16DOTS2(q, w, a0, a1) \
	Z16DOT(q, XR0, w, a0) \
	Z16DOT(q, XR1, w, a1)
#define Z16DOTS3(q, w, a0, a1, a2) \
	Z16DOTS2(q, w, a0, a1) \
	Z16DOT(q, XR2, w, a2)
#define Z16DOTS4(q, w, a0, a1, a2, a3) \
	Z16DOTS3(q, w, a0, a1, a2) \
	Z16DOT(q, XR3, w, a3)

// Z16CHUNK2(g, c) … Z16CHUNK4(g, c): chunk c of group g against the rows, both sub-blocks.
#define Z16CHUNK2(g, c) \
	Z16LOAD(8*(g)+(c))                 \
	Z16DOTS2(64*(g)+4*(c), WL, L0, L1) \
	Z16DOTS2(64*(g)+32+4*(c), WH, H0, H1)
#define Z16CHUNK3(g, c) \
	Z16LOAD(8*(g)+(c))                     \
	Z16DOTS3(64*(g)+4*(c), WL, L0, L1, L2) \
	Z16DOTS3(64*(g)+32+4*(c), WH, H0, H1, H2)
#define Z16CHUNK4(g, c) \
	Z16LOAD(8*(g)+(c))                         \
	Z16DOTS4(64*(g)+4*(c), WL, L0, L1, L2, L3) \
	Z16DOTS4(64*(g)+32+4*(c), WH, H0, H1, H2, H3)

// Z16ZERO2 … Z16ZERO4 zero the rows' sub-block sums.
#define Z16ZERO2 \
	VPXORD L0, L0, L0 \
	VPXORD L1, L1, L1 \
	VPXORD H0, H0, H0 \
	VPXORD H1, H1, H1
#define Z16ZERO3 \
	Z16ZERO2          \
	VPXORD L2, L2, L2 \
	VPXORD H2, H2, H2
#define Z16ZERO4 \
	Z16ZERO3          \
	VPXORD L3, L3, L3 \
	VPXORD H3, H3, H3

// Z16SCALE2(S, s, a0, a1) … Z16SCALE4(S, s, a0, a1, a2, a3): I0, I1, … += T·a0, a1,
// … with T set by S(s) (Z16SCALES16 or Z16SCALES).
#define Z16SCALE2(S, s, a0, a1) \
	S(s)             \
	Z16SCALE(a0, I0) \
	Z16SCALE(a1, I1)
#define Z16SCALE3(S, s, a0, a1, a2) \
	Z16SCALE2(S, s, a0, a1) \
	Z16SCALE(a2, I2)
#define Z16SCALE4(S, s, a0, a1, a2, a3) \
	Z16SCALE3(S, s, a0, a1, a2) \
	Z16SCALE(a3, I3)

// Z16GMINS2(g) … Z16GMINS4(g): the mins of group g against the rows.
#define Z16GMINS2(g) Q4KMINS2(Z16GMINS, Z16GMIN, g)
#define Z16GMINS3(g) Q4KMINS3(Z16GMINS, Z16GMIN, g)
#define Z16GMINS4(g) Q4KMINS4(Z16GMINS, Z16GMIN, g)

// Z16GROUPS(PF, CHUNK, ZERO, GMINS, SCALEL, SCALEH): the 4 groups of a super-block
// (sub-blocks 2g and 2g+1), each after its prefetch PF(g); SCALEL and SCALEH scale the
// low and high sums by the sub-block's scales.
#define Z16GROUP(g, PF, CHUNK, ZERO, GMINS, SCALEL, SCALEH) \
	PF(g)           \
	ZERO            \
	CHUNK(g, 0)     \
	CHUNK(g, 1)     \
	CHUNK(g, 2)     \
	CHUNK(g, 3)     \
	CHUNK(g, 4)     \
	CHUNK(g, 5)     \
	CHUNK(g, 6)     \
	CHUNK(g, 7)     \
	SCALEL(2*(g))   \
	SCALEH(2*(g)+1) \
	GMINS(g)
#define Z16GROUPS(PF, CHUNK, ZERO, GMINS, SCALEL, SCALEH) \
	Z16GROUP(0, PF, CHUNK, ZERO, GMINS, SCALEL, SCALEH) \
	Z16GROUP(1, PF, CHUNK, ZERO, GMINS, SCALEL, SCALEH) \
	Z16GROUP(2, PF, CHUNK, ZERO, GMINS, SCALEL, SCALEH) \
	Z16GROUP(3, PF, CHUNK, ZERO, GMINS, SCALEL, SCALEH)

// Z16BLOCK2(PF) … Z16BLOCK4(PF): a super-block of the first 2 … 4 rows, prefetching with
// PF (F0 scratch); the flags say whether another is left.
#define Z16BLOCK2(PF) \
	Z16START2                                                              \
	Q4KPAIRSUMS2(Y0)                                                       \
	Z16GROUPS(PF, Z16CHUNK2, Z16ZERO2, Z16GMINS2, Z16SCALE2L, Z16SCALE2H) \
	Z16FIN2                                                                \
	Z16NEXT
#define Z16BLOCK3(PF) \
	Z16START3                                                              \
	Q4KPAIRSUMS3(Y0)                                                       \
	Z16GROUPS(PF, Z16CHUNK3, Z16ZERO3, Z16GMINS3, Z16SCALE3L, Z16SCALE3H) \
	Z16FIN3                                                                \
	Z16NEXT
#define Z16BLOCK4(PF) \
	Z16START4                                                              \
	Q4KPAIRSUMS4(Y0)                                                       \
	Z16GROUPS(PF, Z16CHUNK4, Z16ZERO4, Z16GMINS4, Z16SCALE4L, Z16SCALE4H) \
	Z16FIN4                                                                \
	Z16NEXT

#define Z16SCALE2L(s) Z16SCALE2(Z16SCALES16, s, L0, L1)
#define Z16SCALE2H(s) Z16SCALE2(Z16SCALES, s, H0, H1)
#define Z16SCALE3L(s) Z16SCALE3(Z16SCALES16, s, L0, L1, L2)
#define Z16SCALE3H(s) Z16SCALE3(Z16SCALES, s, H0, H1, H2)
#define Z16SCALE4L(s) Z16SCALE4(Z16SCALES16, s, L0, L1, L2, L3)
#define Z16SCALE4H(s) Z16SCALE4(Z16SCALES, s, H0, H1, H2, H3)

// Z16FIN2 … Z16FIN4: the super-block's float steps of the rows (Z16FIN).
#define Z16FIN2 \
	Z16DMIN                       \
	Z16FIN(XR0, F0, I0, M0, SUM0) \
	Z16FIN(XR1, F1, I1, M1, SUM1)
#define Z16FIN3 \
	Z16FIN2 \
	Z16FIN(XR2, F2, I2, M2, SUM2)
#define Z16FIN4 \
	Z16FIN3 \
	Z16FIN(XR3, F3, I3, M3, SUM3)

// Z16NEXT steps to the next super-block; the flags say whether one is left.
#define Z16NEXT \
	ADDQ $const_q4KX16BlockBytes, WP \
	ADDQ $const_q8KBlockBytes, XOFF  \
	DECQ BLEFT

// Z16LOOPS(PF, lab4, lab3, lab2): KNLOOPS of the Q4_K super-blocks.
#define Z16LOOPS(PF, lab4, lab3, lab2) \
	KNLOOPS(PF, Z16BLOCK4, Z16BLOCK3, Z16BLOCK2, Z16STORE4, Z16STORE3, Z16STORE2, lab4, lab3, lab2)
#define Z16STORE2 X8STORE2(SUM0, SUM1)
#define Z16STORE3 X8STORE3(SUM0, SUM1, SUM2)
#define Z16STORE4 X8STORE4(SUM0, SUM1, SUM2, SUM3)

// func gemmQ4_KX16xNVNNI(y []float32, ldy int, x []byte, ldx int, w []byte, ldw int, n int, nb int, rows int, pf []byte)
// Requires: AVX, AVX2, F16C, AVX512F, AVX512_VNNI
//
//	for i < rows, j < n: y[i*ldy+j] += dotQ4_KGeneric(W_j, x[i*ldx:][:nb*292]), the
//	rows W_j in the q4KX16 layout at w, ldw bytes per row (16·ldw per group of 16)
//	n > 0, n%16 == 0, nb > 0, 2 ≤ rows ≤ 4; pf prefetched into L2 (PFNEXT4)
TEXT ·gemmQ4_KX16xNVNNI(SB), NOSPLIT, $160-144 // 4 rows' sums of 32, KNPF's slots, l2, yend
	KNARGS(4)
	X16PREFETCH
	Z16CONSTS

group:
	VPXORD SUM0, SUM0, SUM0
	VPXORD SUM1, SUM1, SUM1
	VPXORD SUM2, SUM2, SUM2
	VPXORD SUM3, SUM3, SUM3
	XORQ   XOFF, XOFF
	MOVQ   WROW, WP
	MOVQ   nb+104(FP), BLEFT
	CMPQ   l2-16(SP), $0
	JNE    groupl2
	CMPQ   rows+112(FP), $3
	Z16LOOPS(Z16PFN, block4, block3, block2)

groupl2:
	CMPQ rows+112(FP), $3
	Z16LOOPS(Z16PFL2N, block4l2, block3l2, block2l2)

next:
	ADDQ $64, YP
	ADDQ LDW, WROW
	CMPQ YP, yend-8(SP)
	JNE  group
	VZEROUPPER
	RET

// ---- one activation row: four chains (the even and odd chunks of each sub-block) ----

// Z16CHUNK1(g, c, l, h): chunk c of group g against the one row, into l and h.
#define Z16CHUNK1(g, c, l, h) \
	Z16LOAD(8*(g)+(c))               \
	Z16DOT(64*(g)+4*(c), XR0, WL, l) \
	Z16DOT(64*(g)+32+4*(c), XR0, WH, h)

// Z16GROUP1(g): group g against the one row XR0, after its prefetch.
#define Z16GROUP1(g) \
	Z16PF(g)                \
	Z16ZERO2                \
	Z16CHUNK1(g, 0, L0, H0) \
	Z16CHUNK1(g, 1, L1, H1) \
	Z16CHUNK1(g, 2, L0, H0) \
	Z16CHUNK1(g, 3, L1, H1) \
	Z16CHUNK1(g, 4, L0, H0) \
	Z16CHUNK1(g, 5, L1, H1) \
	Z16CHUNK1(g, 6, L0, H0) \
	Z16CHUNK1(g, 7, L1, H1) \
	VPADDD L1, L0, L0       \
	VPADDD H1, H0, H0       \
	Z16SCALES16(2*(g))      \
	Z16SCALE(L0, I0)        \
	Z16SCALES(2*(g)+1)      \
	Z16SCALE(H0, I0)        \
	Z16GMINS(g)             \
	Z16GMIN(g, 0, M0)

// func gemvQ4_KX16VNNI(y []float32, x []byte, w []byte, ldw int, nb int)
// Requires: AVX, AVX2, F16C, AVX512F, AVX512_VNNI
//
//	for j < len(y): y[j] += dotQ4_KGeneric(W_j, x[:nb*292]), the rows W_j in the q4KX16
//	layout at w, ldw bytes per row; len(y)%16 == 0, nb > 0
TEXT ·gemvQ4_KX16VNNI(SB), NOSPLIT, $40-88 // the row's sums of 32, then yend
	GEMVARGS(4)
	MOVQ ·gemvX16Prefetch(SB), R14
	Z16CONSTS

group:
	CMPQ   YP, yend-8(SP)
	JEQ    done
	VPXORD SUM0, SUM0, SUM0
	XORQ   XOFF, XOFF
	MOVQ   WROW, WP
	MOVQ   nb+80(FP), BLEFT

block:
	VPXORD I0, I0, I0
	VPXORD M0, M0, M0
	Q4KPAIRSUMS(XR0, 0, Y0) // F0 scratch
	Z16GROUP1(0)
	Z16GROUP1(1)
	Z16GROUP1(2)
	Z16GROUP1(3)
	Z16DMIN
	Z16FIN(XR0, F0, I0, M0, SUM0)
	Z16NEXT
	JNZ block

	X8ADDY(YP, SUM0)
	ADDQ $64, YP
	ADDQ LDW, WROW
	JMP  group

done:
	VZEROUPPER
	RET
