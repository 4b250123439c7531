//go:build gc && !purego

#include "go_asm.h"
#include "textflag.h"
#include "gemm_quant_amd64.h"

// Matrix-multiply kernels for Q6_K weights against activations quantized to Q8_K
// blocks (xPrep layout: float32 d, 256 int8 q, 16 int16 sums of each 16).
//
// Integer sums per super-block are exact in int32 lanes: the 6-bit weights are taken
// unsigned (q6 + 32), so VPMADDUBSW(w u8, q s8) cannot saturate (2·63·127 < 2^15), and
// VPMADDWD against the sub-block scale (broadcast to int16 lanes) applies it while
// widening:
//
//	Σ = dx·d·Σ_g sc_g·(Σ w·q − 32·bsum_g), w = 6-bit unsigned quant

// Exact int32 sums of a super-block, one per activation row.
#define ISUM0 Y4
#define ISUM1 Y5
#define ISUM2 Y6
#define ISUM3 Y7

#define M0F Y8     // bytes 0x0F
#define M30 Y9     // bytes 0x30
#define V6 Y10     // 32 decoded 6-bit weights (0…63)
#define T6 Y11
#define SV Y12     // lane 0: scale of the vector's first 16, lane 1: of its last 16
#define SCH Y13    // the 8 scales of the current half, as int16, in both lanes
#define S6 Y14
#define S16 Y15    // all 16 scales as int16

// Q6KDECODE(h, v) builds V6 = vector v (elements 32v…32v+31) of half h, and its scales:
//	ql = WP+64h, qh = WP+128+32h
//	v0 = ql[0:32]&15  | (qh<<4)&0x30    v1 = ql[32:64]&15  | (qh<<2)&0x30
//	v2 = ql[0:32]>>4  | qh&0x30         v3 = ql[32:64]>>4  | (qh>>2)&0x30
#define Q6KHI0(h) VMOVDQU const_q6KHighOff+32*h(WP), T6; VPSLLW $4, T6, T6; VPAND M30, T6, T6
#define Q6KHI1(h) VMOVDQU const_q6KHighOff+32*h(WP), T6; VPSLLW $2, T6, T6; VPAND M30, T6, T6
#define Q6KHI2(h) VPAND const_q6KHighOff+32*h(WP), M30, T6
#define Q6KHI3(h) VMOVDQU const_q6KHighOff+32*h(WP), T6; VPSRLW $2, T6, T6; VPAND M30, T6, T6
#define Q6KLO0(h) VPAND 64*h(WP), M0F, V6
#define Q6KLO1(h) VPAND 64*h+32(WP), M0F, V6
#define Q6KLO2(h) VMOVDQU 64*h(WP), V6; VPSRLW $4, V6, V6; VPAND M0F, V6, V6
#define Q6KLO3(h) VMOVDQU 64*h+32(WP), V6; VPSRLW $4, V6, V6; VPAND M0F, V6, V6

#define Q6KDECODE(HI, LO, h, v) \
	HI(h)                                     \
	LO(h)                                     \
	VPOR T6, V6, V6                           \
	VPSHUFB q6kScaleShuf<>+32*v(SB), SCH, SV

// Q6KROW adds the scaled Σ w·q of vector v of half h of row xr into isum's lanes.
#define Q6KROW(h, v, xr, isum) \
	VPMADDUBSW const_q8QuantsOff+128*h+32*v(xr)(XOFF*1), V6, T6 \
	VPMADDWD SV, T6, T6                                         \
	VPADDD T6, isum, isum

// Q6KFIN: acc += dx·d·float(isum − 32·Σ_g sc_g·bsum_g). DW6 = d in Y13 (SCH is dead).
#define Q6KFIN(xr, isum, acc) \
	VPMADDWD const_q8KSumsOff(xr)(XOFF*1), S16, T6 \
	VPSLLD $5, T6, T6                 \
	VPSUBD T6, isum, isum             \
	VBROADCASTSS (xr)(XOFF*1), S6     \
	VMULPS Y13, S6, S6                \
	VCVTDQ2PS isum, isum              \
	VFMADD231PS isum, S6, acc

#define K6CONST \
	MOVL $0x0F, BX         \
	VMOVD BX, X8           \
	VPBROADCASTB X8, M0F   \
	MOVL $0x30, BX         \
	VMOVD BX, X9           \
	VPBROADCASTB X9, M30

// Q6KVEC4 runs vector v of half h through the 4 rows.
#define Q6KVEC4(HI, LO, h, v) \
	Q6KDECODE(HI, LO, h, v)      \
	Q6KROW(h, v, XR0, ISUM0)     \
	Q6KROW(h, v, XR1, ISUM1)     \
	Q6KROW(h, v, XR2, ISUM2)     \
	Q6KROW(h, v, XR3, ISUM3)

#define Q6KVEC1(HI, LO, h, v) \
	Q6KDECODE(HI, LO, h, v)      \
	Q6KROW(h, v, XR0, ISUM0)

// func gemmQ6_Kx4AVX2(y []float32, ldy int, x []byte, ldx int, w []byte, ldw int, n int, nb int)
// Requires: AVX, AVX2, FMA, F16C
//
//	for i < 4, j < n: y[i*ldy+j] += dotQ6_KGeneric(W_j, x[i*ldx:][:nb*292]), W_j = w[j*ldw:]
//	n > 0, nb > 0
TEXT ·gemmQ6_Kx4AVX2(SB), NOSPLIT, $8-112
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
	K6CONST

row:
	VXORPS ACC0, ACC0, ACC0
	VXORPS ACC1, ACC1, ACC1
	VXORPS ACC2, ACC2, ACC2
	VXORPS ACC3, ACC3, ACC3
	XORQ   XOFF, XOFF
	MOVQ   WROW, WP
	MOVQ   nb+104(FP), BLEFT

block:
	VPXOR     ISUM0, ISUM0, ISUM0
	VPXOR     ISUM1, ISUM1, ISUM1
	VPXOR     ISUM2, ISUM2, ISUM2
	VPXOR     ISUM3, ISUM3, ISUM3
	VPMOVSXBW const_q6KScalesOff(WP), S16        // S16 = int16(scales[0:16])
	VPERMQ    $0x44, S16, SCH     // half 0: scales 0…7 in both lanes
	Q6KVEC4(Q6KHI0, Q6KLO0, 0, 0)
	Q6KVEC4(Q6KHI1, Q6KLO1, 0, 1)
	Q6KVEC4(Q6KHI2, Q6KLO2, 0, 2)
	Q6KVEC4(Q6KHI3, Q6KLO3, 0, 3)
	VPERMQ    $0xEE, S16, SCH     // half 1: scales 8…15
	Q6KVEC4(Q6KHI0, Q6KLO0, 1, 0)
	Q6KVEC4(Q6KHI1, Q6KLO1, 1, 1)
	Q6KVEC4(Q6KHI2, Q6KLO2, 1, 2)
	Q6KVEC4(Q6KHI3, Q6KLO3, 1, 3)
	VPBROADCASTW const_q6KDOff(WP), X13
	VCVTPH2PS    X13, Y13         // d
	Q6KFIN(XR0, ISUM0, ACC0)
	Q6KFIN(XR1, ISUM1, ACC1)
	Q6KFIN(XR2, ISUM2, ACC2)
	Q6KFIN(XR3, ISUM3, ACC3)
	ADDQ      $const_q6KBlockBytes, WP
	ADDQ      $const_q8KBlockBytes, XOFF
	DECQ      BLEFT
	JNZ       block

	STORE4
	ADDQ $4, YP
	ADDQ LDW, WROW
	CMPQ YP, yend-8(SP)
	JNE  row
	VZEROUPPER
	RET

// ---- the one-row kernel ----
// One row needs no XR1–XR3: XR1's register holds the prefetch distance here.
#undef XR1
#undef XR2
#undef XR3
#define PFDIST R8 // software-prefetch distance in bytes

// func gemvQ6_KAVX2(y []float32, x []byte, w []byte, ldw int, nb int)
// Requires: AVX, AVX2, FMA, F16C
//
//	for j < len(y): y[j] += dotQ6_KGeneric(W_j, x[:nb*292]), W_j = w[j*ldw:]; nb > 0
TEXT ·gemvQ6_KAVX2(SB), NOSPLIT, $8-88
	MOVQ y_base+0(FP), YP
	MOVQ y_len+8(FP), BX
	LEAQ (YP)(BX*4), BX
	MOVQ BX, yend-8(SP)
	MOVQ x_base+24(FP), XR0
	MOVQ w_base+48(FP), WROW
	MOVQ ldw+72(FP), LDW
	MOVQ ·gemvPrefetch(SB), PFDIST
	K6CONST

row:
	CMPQ   YP, yend-8(SP)
	JEQ    done
	VXORPS ACC0, ACC0, ACC0
	XORQ   XOFF, XOFF
	MOVQ   WROW, WP
	MOVQ   nb+80(FP), BLEFT

block:
	PREFETCHT0 (WP)(PFDIST*1)      // a weight line gemvPrefetch bytes ahead
	PREFETCHT0 64(WP)(PFDIST*1)
	PREFETCHT0 128(WP)(PFDIST*1)
	VPXOR     ISUM0, ISUM0, ISUM0
	VPMOVSXBW const_q6KScalesOff(WP), S16
	VPERMQ    $0x44, S16, SCH
	Q6KVEC1(Q6KHI0, Q6KLO0, 0, 0)
	Q6KVEC1(Q6KHI1, Q6KLO1, 0, 1)
	Q6KVEC1(Q6KHI2, Q6KLO2, 0, 2)
	Q6KVEC1(Q6KHI3, Q6KLO3, 0, 3)
	VPERMQ    $0xEE, S16, SCH
	Q6KVEC1(Q6KHI0, Q6KLO0, 1, 0)
	Q6KVEC1(Q6KHI1, Q6KLO1, 1, 1)
	Q6KVEC1(Q6KHI2, Q6KLO2, 1, 2)
	Q6KVEC1(Q6KHI3, Q6KLO3, 1, 3)
	VPBROADCASTW const_q6KDOff(WP), X13
	VCVTPH2PS    X13, Y13
	Q6KFIN(XR0, ISUM0, ACC0)
	ADDQ      $const_q6KBlockBytes, WP
	ADDQ      $const_q8KBlockBytes, XOFF
	DECQ      BLEFT
	JNZ       block

	STORE1
	ADDQ $4, YP
	ADDQ LDW, WROW
	JMP  row

done:
	VZEROUPPER
	RET

// Shuffle masks: entry v puts scale word 2v in lane 0 and word 2v+1 in lane 1.
DATA q6kScaleShuf<>+0(SB)/8, $0x0100010001000100
DATA q6kScaleShuf<>+8(SB)/8, $0x0100010001000100
DATA q6kScaleShuf<>+16(SB)/8, $0x0302030203020302
DATA q6kScaleShuf<>+24(SB)/8, $0x0302030203020302
DATA q6kScaleShuf<>+32(SB)/8, $0x0504050405040504
DATA q6kScaleShuf<>+40(SB)/8, $0x0504050405040504
DATA q6kScaleShuf<>+48(SB)/8, $0x0706070607060706
DATA q6kScaleShuf<>+56(SB)/8, $0x0706070607060706
DATA q6kScaleShuf<>+64(SB)/8, $0x0908090809080908
DATA q6kScaleShuf<>+72(SB)/8, $0x0908090809080908
DATA q6kScaleShuf<>+80(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA q6kScaleShuf<>+88(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA q6kScaleShuf<>+96(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA q6kScaleShuf<>+104(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA q6kScaleShuf<>+112(SB)/8, $0x0f0e0f0e0f0e0f0e
DATA q6kScaleShuf<>+120(SB)/8, $0x0f0e0f0e0f0e0f0e
GLOBL q6kScaleShuf<>(SB), RODATA|NOPTR, $128
