//go:build gc && !purego

#include "go_asm.h"
#include "textflag.h"
#include "gemm_quant_amd64.h"
#include "gemm_x8_amd64.h"
#include "gemm_q6kx_amd64.h"

// Matrix-multiply kernels for Q6_K weights repacked 8 rows side by side (the q6KX8
// layout, repack.go) against activations quantized to Q8_K blocks (xPrep layout).
//
// A 16-element scale group is 4 chunks of 4 quants × 8 rows, unpacked from 3 loads
// (two of low nibbles, one of 2-bit high parts) to bytes 0…63. VPMADDUBSW against the 4
// activation quants broadcast to every dword gives each row two int16 partial sums; two
// chunks add up in int16 without overflow (2·2·63·127 < 2^15), and VPMADDWD against the
// group's scale (sign-extended, in both halves of each row's dword) widens them into
// the row's int32 lane. The −32 of every quant is taken off once per super-block from
// the activation sums of 16: isum −= 32·Σ_g sc_g·bsum_g. Per super-block each row's
// lane then takes dotQ6_KGeneric's step exactly,
//
//	acc += float32(dx·d)·float32(isum)
//
// (product and sum rounded one by one, no FMA), and y += acc at the end, so these
// kernels are bit-identical to the generic ones.

// General registers: gemm_quant_amd64.h's names (YP steps 8 outputs at a time, WP walks
// a group's super-blocks and WROW the groups of 8 weight rows; LDW is scaled to bytes
// per group).

#define C0 Y0     // the group's 4 chunks of quants (0…63), then the Σ sc·bsum per row
#define C1 Y1
#define C2 Y2
#define C3 Y3
#define I0 Y4     // int32 sums of the super-block, per activation row
#define I1 Y5
#define I2 Y6
#define I3 Y7
#define A Y8      // int16 sums of chunks 0 and 1, then of 2 and 3
#define B Y9
#define P Y10     // broadcast activations, products
#define SC Y11    // the group's scale in both int16 halves of each row's dword
#define MASK0F Y12
#define MASK30 Y13
#define H Y14     // the group's high bits
#define T Y15

// Q6PF(g): prefetch group g's 2 weight lines (128 bytes) gemvPrefetch (R14) bytes
// ahead.
#define Q6PF(g) \
	PREFETCHT0 128*(g)(WP)(R14*1) \
	PREFETCHT0 128*(g)+64(WP)(R14*1)

// Q6PFN(g): Q6PF(g) and a line of pf (of a group's 2).
#define Q6PFN(g) \
	Q6PF(g) \
	PFNEXT1

// The rest of gemm_q6kx_amd64.h's steps.
#define Q6LOADD VCVTPH2PS const_q6KX8DOff(WP), SC
#define Q6ZERO(r) VPXOR r, r, r
#define Q6ACC0 X8ACC0
#define Q6ACC1 X8ACC1
#define Q6ACC2 X8ACC2
#define Q6ACC3 X8ACC3
#define Q6BLOCKBYTES const_q6KX8BlockBytes

#define Q6X8MASKS \
	MOVL $0x0F, BX           \
	VMOVD BX, X12            \
	VPBROADCASTB X12, MASK0F \
	MOVL $0x30, BX           \
	VMOVD BX, X13            \
	VPBROADCASTB X13, MASK30

// Q6UNPACK(g, shuf) unpacks group g of the super-block at WP into C0…C3 and its scale
// into SC (shuf: VPSHUF[LH]W's word pattern picking the group's scale of the pair).
#define Q6UNPACK(g, shuf) \
	VMOVDQU const_q6KX8QLOff+64*(g)(WP), C1    \
	VPAND MASK0F, C1, C0                       \
	VPSRLW $4, C1, C1                          \
	VPAND MASK0F, C1, C1                       \
	VMOVDQU const_q6KX8QLOff+64*(g)+32(WP), C3 \
	VPAND MASK0F, C3, C2                       \
	VPSRLW $4, C3, C3                          \
	VPAND MASK0F, C3, C3                       \
	VMOVDQU const_q6KX8QHOff+32*(g)(WP), H     \
	VPSLLW $4, H, T                            \
	VPAND MASK30, T, T                         \
	VPOR T, C0, C0                             \
	VPSLLW $2, H, T                            \
	VPAND MASK30, T, T                         \
	VPOR T, C1, C1                             \
	VPAND MASK30, H, T                         \
	VPOR T, C2, C2                             \
	VPSRLW $2, H, T                            \
	VPAND MASK30, T, T                         \
	VPOR T, C3, C3                             \
	VPMOVSXBW const_q6KX8ScalesOff+16*((g)/2)(WP), SC \
	VPSHUFLW shuf, SC, SC                      \
	VPSHUFHW shuf, SC, SC

// Q6ROW(g, xr, isum): isum += sc_g·Σ q·x over group g's 16 quants of row xr.
#define Q6ROW(g, xr, isum) \
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
	VPMADDWD SC, A, A                                       \
	VPMADDWD SC, B, B                                       \
	VPADDD A, isum, isum                                    \
	VPADDD B, isum, isum

// Q6MIN(t, xr, m): m += sc_2t·bsum_2t + sc_2t+1·bsum_2t+1 of row xr (SC: the pairs).
#define Q6MIN(t, xr, m) \
	VPBROADCASTD const_q8KSumsOff+4*(t)(xr)(XOFF*1), P \
	VPMADDWD SC, P, P \
	VPADDD P, m, m
#define Q6MIN0(xr, m) \
	VPBROADCASTD const_q8KSumsOff(xr)(XOFF*1), P \
	VPMADDWD SC, P, m

#define Q6PAIRS(t) \
	VPMOVSXBW const_q6KX8ScalesOff+16*(t)(WP), SC

// Q6FIN(xr, isum, m, acc): isum −= 32·m; acc += (dx·d)·isum, SC holding d.
#define Q6FIN(xr, isum, m, acc) \
	VPSLLD $5, m, m              \
	VPSUBD m, isum, isum         \
	VBROADCASTSS (xr)(XOFF*1), A \
	VMULPS SC, A, A              \
	VCVTDQ2PS isum, isum         \
	VMULPS isum, A, A            \
	VADDPS acc, A, A             \
	VMOVUPS A, acc

// func gemmQ6_KX8xNAVX2(y []float32, ldy int, x []byte, ldx int, w []byte, ldw int, n int, nb int, rows int, pf []byte)
// Requires: AVX, AVX2, F16C
//
//	for i < rows, j < n: y[i*ldy+j] += dotQ6_KGeneric(W_j, x[i*ldx:][:nb*292]), the
//	rows W_j in the q6KX8 layout at w, ldw bytes per row (8·ldw per group of 8)
//	n > 0, n%8 == 0, nb > 0, 2 ≤ rows ≤ 4; pf prefetched into L2 (PFNEXT1)
TEXT ·gemmQ6_KX8xNAVX2(SB), NOSPLIT, $160-144 // the stack sums, KNPF's slots, yend
	KNARGS(3)
	MOVQ ·gemvPrefetch(SB), R14 // the first pass over a tile streams it from memory
	Q6X8MASKS

group:
	X8ZEROACC(A)
	XORQ    XOFF, XOFF
	MOVQ    WROW, WP
	MOVQ    nb+104(FP), BLEFT
	CMPQ    rows+112(FP), $3
	JEQ     block3
	JLT     block2

block4:
	Q6START4
	Q6BLOCK(Q6PFN, Q6GROUP4, Q6MINS04, Q6MINS4)
	Q6FIN4
	Q6NEXT
	JNZ block4
	X8LOADACC(I0, I1, I2, I3)
	X8STORE4(I0, I1, I2, I3)
	JMP next

block3:
	Q6START3
	Q6BLOCK(Q6PFN, Q6GROUP3, Q6MINS03, Q6MINS3)
	Q6FIN3
	Q6NEXT
	JNZ block3
	X8LOADACC(I0, I1, I2, I3)
	X8STORE3(I0, I1, I2)
	JMP next

block2:
	Q6START2
	Q6BLOCK(Q6PFN, Q6GROUP2, Q6MINS02, Q6MINS2)
	Q6FIN2
	Q6NEXT
	JNZ block2
	X8LOADACC(I0, I1, I2, I3)
	X8STORE2(I0, I1)

next:
	ADDQ $32, YP
	ADDQ LDW, WROW
	CMPQ YP, yend-8(SP)
	JNE  group
	VZEROUPPER
	RET

// ---- one activation row ----

// func gemvQ6_KX8AVX2(y []float32, x []byte, w []byte, ldw int, nb int)
// Requires: AVX, AVX2, F16C
//
//	for j < len(y): y[j] += dotQ6_KGeneric(W_j, x[:nb*292]), the rows W_j in the q6KX8
//	layout at w, ldw bytes per row; len(y)%8 == 0, nb > 0
TEXT ·gemvQ6_KX8AVX2(SB), NOSPLIT, $40-88
	GEMVARGS(3)
	MOVQ ·gemvPrefetch(SB), R14
	Q6X8MASKS

group:
	CMPQ    YP, yend-8(SP)
	JEQ     done
	VXORPS  A, A, A
	VMOVUPS A, acc-40(SP)
	XORQ    XOFF, XOFF
	MOVQ    WROW, WP
	MOVQ    nb+80(FP), BLEFT

block:
	VPXOR I0, I0, I0
	Q6BLOCK(Q6PF, Q6GROUP1, Q6MINS01, Q6MINS1)
	Q6LOADD
	Q6FIN(XR0, I0, C0, acc-40(SP))
	Q6NEXT
	JNZ block

	VMOVUPS acc-40(SP), I0
	X8ADDY(YP, I0)
	ADDQ $32, YP
	ADDQ LDW, WROW
	JMP  group

done:
	VZEROUPPER
	RET
