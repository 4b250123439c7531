//go:build gc && !purego

#include "go_asm.h"
#include "textflag.h"
#include "gemm_quant_amd64.h"
#include "gemm_x8_amd64.h"

// Matrix-multiply kernels for Q6_K weights repacked 16 rows side by side (the q6KX16
// layout, repack.go) against activations quantized to Q8_K blocks (xPrep layout), on
// AVX-512 (BW for the byte and word steps, VNNI) with 512-bit vectors: the AVX2
// kernels' steps (gemm_q6kx8_amd64.s) on twice the rows per instruction, with
// VPDPWSSD widening and adding the int16 sums in one step, and the float32 sums in
// registers (Z16…Z19), bit-identical to the AVX2 and generic kernels.

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
#define A Z8      // int16 sums of chunks 0 and 1, then of 2 and 3
#define B Z9
#define P Z10     // broadcast activations, products
#define SC Z11    // the group's scale in both int16 halves of each row's dword
#define MASK0F Z12
#define MASK30 Z13
#define H Z14     // the group's high bits
#define T Z15
#define A0 Z16    // the 16 rows' float32 sums, per activation row
#define A1 Z17
#define A2 Z18
#define A3 Z19

// Q6X16PF(off): prefetch the 4 weight lines gemvPrefetch (R14) bytes ahead of off(WP).
#define Q6X16PF(off) \
	PREFETCHT0 off(WP)(R14*1)     \
	PREFETCHT0 off+64(WP)(R14*1)  \
	PREFETCHT0 off+128(WP)(R14*1) \
	PREFETCHT0 off+192(WP)(R14*1)

#define Q6X16MASKS \
	MOVL $0x0F0F0F0F, BX    \
	VPBROADCASTD BX, MASK0F \
	MOVL $0x30303030, BX    \
	VPBROADCASTD BX, MASK30

// Q6X16UNPACK(g, shuf) unpacks group g of the super-block at WP into C0…C3 and its
// scale into SC (shuf: VPSHUF[LH]W's word pattern picking the group's scale of the
// pair).
#define Q6X16UNPACK(g, shuf) \
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
	VPSHUFHW shuf, SC, SC

// Q6X16ROW(g, xr, isum): isum += sc_g·Σ q·x over group g's 16 quants of row xr.
#define Q6X16ROW(g, xr, isum) \
	VPBROADCASTD const_q8QuantsOff+16*(g)(xr)(XOFF*1), P    \
	VPMADDUBSW P, C0, A                                     \
	VPBROADCASTD const_q8QuantsOff+16*(g)+4(xr)(XOFF*1), P  \
	VPMADDUBSW P, C1, P                                     \
	VPADDW P, A, A                                          \
	VPBROADCASTD const_q8QuantsOff+16*(g)+8(xr)(XOFF*1), P  \
	VPMADDUBSW P, C2, B                                     \
	VPBROADCASTD const_q8QuantsOff+16*(g)+12(xr)(XOFF*1), P \
	VPMADDUBSW P, C3, P                                     \
	VPADDW P, B, B                                          \
	VPDPWSSD SC, A, isum                                    \
	VPDPWSSD SC, B, isum

// Q6X16MIN(t, xr, m): m += sc_2t·bsum_2t + sc_2t+1·bsum_2t+1 of row xr (SC: the pairs).
#define Q6X16MIN(t, xr, m) \
	VPDPWSSD.BCST const_q8KSumsOff+4*(t)(xr)(XOFF*1), SC, m
#define Q6X16MIN0(xr, m) \
	VPXORD m, m, m \
	Q6X16MIN(0, xr, m)

#define Q6X16PAIRS(t) \
	VPMOVSXBW const_q6KX16ScalesOff+32*(t)(WP), SC

// Q6X16FIN(xr, isum, m, acc): isum −= 32·m; acc += (dx·d)·isum, SC holding d.
#define Q6X16FIN(xr, isum, m, acc) \
	VPSLLD $5, m, m              \
	VPSUBD m, isum, isum         \
	VBROADCASTSS (xr)(XOFF*1), A \
	VMULPS SC, A, A              \
	VCVTDQ2PS isum, isum         \
	VMULPS isum, A, A            \
	VADDPS A, acc, acc

// The group, min and float steps of the first 1 … 4 activation rows: Q6X16GROUPn(g, shuf)
// unpacks group g and adds it into each row's sum, Q6X16MINS0n / Q6X16MINSn(t) start or
// add to the rows' Σ sc·bsum with the scales of pair t, Q6X16FINn ends the super-block.
#define Q6X16GROUP1(g, shuf) \
	Q6X16UNPACK(g, shuf) \
	Q6X16ROW(g, XR0, I0)
#define Q6X16GROUP2(g, shuf) \
	Q6X16GROUP1(g, shuf) \
	Q6X16ROW(g, XR1, I1)
#define Q6X16GROUP3(g, shuf) \
	Q6X16GROUP2(g, shuf) \
	Q6X16ROW(g, XR2, I2)
#define Q6X16GROUP4(g, shuf) \
	Q6X16GROUP3(g, shuf) \
	Q6X16ROW(g, XR3, I3)
#define Q6X16MINS01 \
	Q6X16MIN0(XR0, C0)
#define Q6X16MINS02 \
	Q6X16MINS01 \
	Q6X16MIN0(XR1, C1)
#define Q6X16MINS03 \
	Q6X16MINS02 \
	Q6X16MIN0(XR2, C2)
#define Q6X16MINS04 \
	Q6X16MINS03 \
	Q6X16MIN0(XR3, C3)
#define Q6X16MINS1(t) \
	Q6X16PAIRS(t) \
	Q6X16MIN(t, XR0, C0)
#define Q6X16MINS2(t) \
	Q6X16MINS1(t) \
	Q6X16MIN(t, XR1, C1)
#define Q6X16MINS3(t) \
	Q6X16MINS2(t) \
	Q6X16MIN(t, XR2, C2)
#define Q6X16MINS4(t) \
	Q6X16MINS3(t) \
	Q6X16MIN(t, XR3, C3)
#define Q6X16FIN2 \
	VCVTPH2PS const_q6KX16DOff(WP), SC \
	Q6X16FIN(XR0, I0, C0, A0)          \
	Q6X16FIN(XR1, I1, C1, A1)
#define Q6X16FIN3 \
	Q6X16FIN2 \
	Q6X16FIN(XR2, I2, C2, A2)
#define Q6X16FIN4 \
	Q6X16FIN3 \
	Q6X16FIN(XR3, I3, C3, A3)
#define Q6X16START2 \
	VPXORD I0, I0, I0 \
	VPXORD I1, I1, I1
#define Q6X16START3 \
	Q6X16START2 \
	VPXORD I2, I2, I2
#define Q6X16START4 \
	Q6X16START3 \
	VPXORD I3, I3, I3

// Q6X16BLOCK(GROUP, MINS0, MINS): a super-block's 16 groups, each after the prefetch of
// its four lines gemvPrefetch (R14) ahead, then the scales against the activation sums.
#define Q6X16BLOCK(GROUP, MINS0, MINS) \
	Q6X16PF(0)       \
	GROUP(0, $0xA0)  \
	Q6X16PF(256)     \
	GROUP(1, $0xF5)  \
	Q6X16PF(512)     \
	GROUP(2, $0xA0)  \
	Q6X16PF(768)     \
	GROUP(3, $0xF5)  \
	Q6X16PF(1024)    \
	GROUP(4, $0xA0)  \
	Q6X16PF(1280)    \
	GROUP(5, $0xF5)  \
	Q6X16PF(1536)    \
	GROUP(6, $0xA0)  \
	Q6X16PF(1792)    \
	GROUP(7, $0xF5)  \
	Q6X16PF(2048)    \
	GROUP(8, $0xA0)  \
	Q6X16PF(2304)    \
	GROUP(9, $0xF5)  \
	Q6X16PF(2560)    \
	GROUP(10, $0xA0) \
	Q6X16PF(2816)    \
	GROUP(11, $0xF5) \
	Q6X16PF(3072)    \
	GROUP(12, $0xA0) \
	Q6X16PF(3328)    \
	GROUP(13, $0xF5) \
	Q6X16PF(3584)    \
	GROUP(14, $0xA0) \
	Q6X16PF(3840)    \
	GROUP(15, $0xF5) \
	Q6X16PAIRS(0)    \
	MINS0            \
	MINS(1)          \
	MINS(2)          \
	MINS(3)          \
	MINS(4)          \
	MINS(5)          \
	MINS(6)          \
	MINS(7)

// Q6X16NEXT steps to the next super-block; the flags say whether one is left.
#define Q6X16NEXT \
	ADDQ $const_q6KX16BlockBytes, WP \
	ADDQ $const_q8KBlockBytes, XOFF  \
	DECQ BLEFT

// func gemmQ6_KX16xNVNNI(y []float32, ldy int, x []byte, ldx int, w []byte, ldw int, n int, nb int, rows int)
// Requires: AVX, AVX2, F16C, AVX512F, AVX512BW, AVX512_VNNI
//
//	for i < rows, j < n: y[i*ldy+j] += dotQ6_KGeneric(W_j, x[i*ldx:][:nb*292]), the
//	rows W_j in the q6KX16 layout at w, ldw bytes per row (16·ldw per group of 16)
//	n > 0, n%16 == 0, nb > 0, 2 ≤ rows ≤ 4
TEXT ·gemmQ6_KX16xNVNNI(SB), NOSPLIT, $8-120
	MOVQ y_base+0(FP), YP
	MOVQ ldy+24(FP), LDY
	MOVQ x_base+32(FP), XR0
	MOVQ ldx+56(FP), BX
	SETUP4 // XR2, XR3 are not read with fewer rows
	MOVQ w_base+64(FP), WROW
	MOVQ ldw+88(FP), LDW
	SHLQ $4, LDW
	MOVQ n+96(FP), BX
	LEAQ (YP)(BX*4), BX
	MOVQ BX, yend-8(SP)
	MOVQ ·gemvPrefetch(SB), R14 // the first pass over a tile streams it from memory
	Q6X16MASKS

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
	Q6X16START4
	Q6X16BLOCK(Q6X16GROUP4, Q6X16MINS04, Q6X16MINS4)
	Q6X16FIN4
	Q6X16NEXT
	JNZ block4
	X8STORE4(A0, A1, A2, A3)
	JMP next

block3:
	Q6X16START3
	Q6X16BLOCK(Q6X16GROUP3, Q6X16MINS03, Q6X16MINS3)
	Q6X16FIN3
	Q6X16NEXT
	JNZ block3
	X8STORE3(A0, A1, A2)
	JMP next

block2:
	Q6X16START2
	Q6X16BLOCK(Q6X16GROUP2, Q6X16MINS02, Q6X16MINS2)
	Q6X16FIN2
	Q6X16NEXT
	JNZ block2
	X8STORE2(A0, A1)

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
	MOVQ y_base+0(FP), YP
	MOVQ y_len+8(FP), BX
	LEAQ (YP)(BX*4), BX
	MOVQ BX, yend-8(SP)
	MOVQ x_base+24(FP), XR0
	MOVQ w_base+48(FP), WROW
	MOVQ ldw+72(FP), LDW
	SHLQ $4, LDW
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
	Q6X16BLOCK(Q6X16GROUP1, Q6X16MINS01, Q6X16MINS1)
	VCVTPH2PS const_q6KX16DOff(WP), SC
	Q6X16FIN(XR0, I0, C0, A0)
	Q6X16NEXT
	JNZ block

	X8ADDY(YP, A0)
	ADDQ $64, YP
	ADDQ LDW, WROW
	JMP  group

done:
	VZEROUPPER
	RET
