//go:build gc && !purego

#include "go_asm.h"
#include "textflag.h"
#include "gemm_quant_amd64.h"
#include "gemm_x8_amd64.h"
#include "gemm_q6kx_amd64.h"

// Matrix-multiply kernels for Q6_K weights repacked 16 rows side by side (the q6KX16
// layout, repack.go) against activations quantized to Q8_K blocks (xPrep layout), on
// AVX-512 (BW for the byte and word steps, VNNI) with 512-bit vectors: the AVX2
// kernels' unpacking (gemm_q6kx8_amd64.s) on twice the rows per instruction, each
// group's products summed in int32 by VPDPBUSD and scaled by VPMULLD (Q6ROW), and the
// float32 sums in registers (Z16…Z19), bit-identical to the AVX2 and generic kernels.

// General registers: gemm_quant_amd64.h's names (YP steps 16 outputs at a time, WP
// walks a group's super-blocks and WROW the groups of 16 weight rows; LDW is scaled to
// bytes per group).

#define C0 Z0     // the group's 4 chunks of quants (0…63), then the Σ sc·bsum per row
#define C1 Z1
#define C2 Z2
#define C3 Z3
#define I0 Z4     // int32 sums of the super-block, per activation row
#define I1 Z5
#define I2 Z6
#define I3 Z7
#define A Z8      // a row's int32 sums of the group; scratch of the float steps
#define SC Z11    // the group's scale, a dword per row; the pairs' scales (Q6PAIRS); d
#define MASK0F Z12
#define MASK30 Z13
#define H Z14     // the group's high bits
#define T Z15
#define A0 Z16    // the 16 rows' float32 sums, per activation row
#define A1 Z17
#define A2 Z18
#define A3 Z19

// Q6PREFETCH(ins, g): prefetch (ins) group g's 4 weight lines (256 bytes) R14 bytes
// ahead. Q6PF(g) into L1 (gemvPrefetch), Q6PFL2(g) into L2 (gemmX16L2Prefetch).
#define Q6PREFETCH(ins, g) \
	ins 256*(g)(WP)(R14*1)     \
	ins 256*(g)+64(WP)(R14*1)  \
	ins 256*(g)+128(WP)(R14*1) \
	ins 256*(g)+192(WP)(R14*1)
#define Q6PF(g) Q6PREFETCH(PREFETCHT0, g)
#define Q6PFL2(g) Q6PREFETCH(PREFETCHT2, g)

// Q6PFN(g), Q6PFL2N(g): Q6PF(g), Q6PFL2(g) and 2 lines of pf (of a group's 4).
#define Q6PFN(g) \
	Q6PF(g) \
	PFNEXT2
#define Q6PFL2N(g) \
	Q6PFL2(g) \
	PFNEXT2

// The rest of gemm_q6kx_amd64.h's steps.
#define Q6LOADD VCVTPH2PS const_q6KX16DOff(WP), SC
#define Q6ZERO(r) VPXORD r, r, r
#define Q6ACC0 A0
#define Q6ACC1 A1
#define Q6ACC2 A2
#define Q6ACC3 A3
#define Q6BLOCKBYTES const_q6KX16BlockBytes

#define Q6X16MASKS \
	MOVL $0x0F0F0F0F, BX    \
	VPBROADCASTD BX, MASK0F \
	MOVL $0x30303030, BX    \
	VPBROADCASTD BX, MASK30

// Q6UNPACK(g, shuf) unpacks group g of the super-block at WP into C0…C3 and its
// scale into SC, sign-extended to each row's dword (shuf: VPSHUF[LH]W's word pattern
// copying the group's scale of the pair into both halves, which VPSRAD then extends).
#define Q6UNPACK(g, shuf) \
	VMOVDQU32 const_q6KX16QLOff+128*(g)(WP), C1        \
	VPANDD MASK0F, C1, C0                              \
	VPSRLW $4, C1, C1                                  \
	VPANDD MASK0F, C1, C1                              \
	VMOVDQU32 const_q6KX16QLOff+128*(g)+64(WP), C3     \
	VPANDD MASK0F, C3, C2                              \
	VPSRLW $4, C3, C3                                  \
	VPANDD MASK0F, C3, C3                              \
	VMOVDQU32 const_q6KX16QHOff+64*(g)(WP), H          \
	VPSLLW $4, H, T                                    \
	VPANDD MASK30, T, T                                \
	VPORD T, C0, C0                                    \
	VPSLLW $2, H, T                                    \
	VPANDD MASK30, T, T                                \
	VPORD T, C1, C1                                    \
	VPANDD MASK30, H, T                                \
	VPORD T, C2, C2                                    \
	VPSRLW $2, H, T                                    \
	VPANDD MASK30, T, T                                \
	VPORD T, C3, C3                                    \
	VPMOVSXBW const_q6KX16ScalesOff+32*((g)/2)(WP), SC \
	VPSHUFLW shuf, SC, SC                              \
	VPSHUFHW shuf, SC, SC                              \
	VPSRAD $16, SC, SC

// Q6ROW(g, xr, isum): isum += sc_g·Σ q·x over group g's 16 quants of row xr: the
// quants (0…63) against the activations by VPDPBUSD, four per dword, into one int32
// sum per row (at most 16·63·128), then VPMULLD by the scale (|sc| ≤ 128): the exact
// integer the 16-bit steps of the AVX2 kernels reach, in 6 instructions a row where
// VPMADDUBSW, VPADDW and VPDPWSSD took 8. A is zeroed per group, so the rows' chains
// are independent.
#define Q6ROW(g, xr, isum) \
	VPXORD A, A, A                                              \
	VPDPBUSD.BCST const_q8QuantsOff+16*(g)(xr)(XOFF*1), C0, A    \
	VPDPBUSD.BCST const_q8QuantsOff+16*(g)+4(xr)(XOFF*1), C1, A  \
	VPDPBUSD.BCST const_q8QuantsOff+16*(g)+8(xr)(XOFF*1), C2, A  \
	VPDPBUSD.BCST const_q8QuantsOff+16*(g)+12(xr)(XOFF*1), C3, A \
	VPMULLD SC, A, A                                            \
	VPADDD A, isum, isum

// Q6MIN(t, xr, m): m += sc_2t·bsum_2t + sc_2t+1·bsum_2t+1 of row xr (SC: the pairs).
#define Q6MIN(t, xr, m) \
	VPDPWSSD.BCST const_q8KSumsOff+4*(t)(xr)(XOFF*1), SC, m
#define Q6MIN0(xr, m) \
	VPXORD m, m, m \
	Q6MIN(0, xr, m)

#define Q6PAIRS(t) \
	VPMOVSXBW const_q6KX16ScalesOff+32*(t)(WP), SC

// Q6FIN(xr, isum, m, acc): isum −= 32·m; acc += (dx·d)·isum, SC holding d.
#define Q6FIN(xr, isum, m, acc) \
	VPSLLD $5, m, m              \
	VPSUBD m, isum, isum         \
	VBROADCASTSS (xr)(XOFF*1), A \
	VMULPS SC, A, A              \
	VCVTDQ2PS isum, isum         \
	VMULPS isum, A, A            \
	VADDPS A, acc, acc

// Q6X16BLOCK2(PF) … Q6X16BLOCK4(PF): a super-block of the first 2 … 4 rows, prefetching
// with PF; the flags say whether another is left. Q6X16LOOPS: KNLOOPS of them.
#define Q6X16BLOCK2(PF) \
	Q6START2                                   \
	Q6BLOCK(PF, Q6GROUP2, Q6MINS02, Q6MINS2)   \
	Q6FIN2                                     \
	Q6NEXT
#define Q6X16BLOCK3(PF) \
	Q6START3                                   \
	Q6BLOCK(PF, Q6GROUP3, Q6MINS03, Q6MINS3)   \
	Q6FIN3                                     \
	Q6NEXT
#define Q6X16BLOCK4(PF) \
	Q6START4                                   \
	Q6BLOCK(PF, Q6GROUP4, Q6MINS04, Q6MINS4)   \
	Q6FIN4                                     \
	Q6NEXT
#define Q6X16STORE2 X8STORE2(A0, A1)
#define Q6X16STORE3 X8STORE3(A0, A1, A2)
#define Q6X16STORE4 X8STORE4(A0, A1, A2, A3)
#define Q6X16LOOPS(PF, lab4, lab3, lab2) \
	KNLOOPS(PF, Q6X16BLOCK4, Q6X16BLOCK3, Q6X16BLOCK2, Q6X16STORE4, Q6X16STORE3, Q6X16STORE2, lab4, lab3, lab2)

// func gemmQ6_KX16xNVNNI(y []float32, ldy int, x []byte, ldx int, w []byte, ldw int, n int, nb int, rows int, pf []byte)
// Requires: AVX, AVX2, F16C, AVX512F, AVX512BW, AVX512_VNNI
//
//	for i < rows, j < n: y[i*ldy+j] += dotQ6_KGeneric(W_j, x[i*ldx:][:nb*292]), the
//	rows W_j in the q6KX16 layout at w, ldw bytes per row (16·ldw per group of 16)
//	n > 0, n%16 == 0, nb > 0, 2 ≤ rows ≤ 4; pf prefetched into L2 (PFNEXT2)
TEXT ·gemmQ6_KX16xNVNNI(SB), NOSPLIT, $32-144 // KNPF's slots, l2, yend
	KNARGS(4)
	X16PREFETCH
	Q6X16MASKS

group:
	VPXORD A0, A0, A0
	VPXORD A1, A1, A1
	VPXORD A2, A2, A2
	VPXORD A3, A3, A3
	XORQ   XOFF, XOFF
	MOVQ   WROW, WP
	MOVQ   nb+104(FP), BLEFT
	CMPQ   l2-16(SP), $0
	JNE    groupl2
	CMPQ   rows+112(FP), $3
	Q6X16LOOPS(Q6PFN, block4, block3, block2)

groupl2:
	CMPQ rows+112(FP), $3
	Q6X16LOOPS(Q6PFL2N, block4l2, block3l2, block2l2)

next:
	ADDQ $64, YP
	ADDQ LDW, WROW
	CMPQ YP, yend-8(SP)
	JNE  group
	VZEROUPPER
	RET

// ---- one activation row ----

// func gemvQ6_KX16VNNI(y []float32, x []byte, w []byte, ldw int, nb int)
// Requires: AVX, AVX2, F16C, AVX512F, AVX512BW, AVX512_VNNI
//
//	for j < len(y): y[j] += dotQ6_KGeneric(W_j, x[:nb*292]), the rows W_j in the q6KX16
//	layout at w, ldw bytes per row; len(y)%16 == 0, nb > 0
TEXT ·gemvQ6_KX16VNNI(SB), NOSPLIT, $8-88
	GEMVARGS(4)
	MOVQ ·gemvPrefetch(SB), R14
	Q6X16MASKS

group:
	CMPQ   YP, yend-8(SP)
	JEQ    done
	VPXORD A0, A0, A0
	XORQ   XOFF, XOFF
	MOVQ   WROW, WP
	MOVQ   nb+80(FP), BLEFT

block:
	VPXORD I0, I0, I0
	Q6BLOCK(Q6PF, Q6GROUP1, Q6MINS01, Q6MINS1)
	Q6LOADD
	Q6FIN(XR0, I0, C0, A0)
	Q6NEXT
	JNZ block

	X8ADDY(YP, A0)
	ADDQ $64, YP
	ADDQ LDW, WROW
	JMP  group

done:
	VZEROUPPER
	RET
