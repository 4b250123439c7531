//go:build gc && !purego

#include "go_asm.h"
#include "textflag.h"
#include "gemm_quant_amd64.h"

// Matrix-multiply kernels for Q4_K weights against activations quantized to Q8_K
// blocks (xPrep layout: float32 d, 256 int8 q, 16 int16 sums of each 16).
//
// Integer sums per super-block are exact in int32 lanes: 4-bit weights are unsigned,
// so VPMADDUBSW(w u8, q s8) cannot saturate (2·15·127 < 2^15), and VPMADDWD against the
// sub-block scale (broadcast to int16 lanes) applies it while widening:
//
//	Σ = dx·d·Σ_j sc_j·Σ w·q  −  dx·dmin·Σ_j m_j·(bsum_2j + bsum_2j+1)

// Exact int32 sums of a super-block, one per activation row.
#define ISUM0 Y4
#define ISUM1 Y5
#define ISUM2 Y6
#define ISUM3 Y7

#define K4MASK Y8  // bytes 0x0F
#define QLO Y9     // low nibbles of a 64-element group: sub-block 2g
#define QHI Y10    // high nibbles: sub-block 2g+1
#define SCA Y11    // scale of sub-block 2g in every int16 lane
#define SCB Y12    // scale of sub-block 2g+1
#define KT Y13
#define SCD Y14    // the 8 scales as int16, in both 128-bit lanes
// X15/Y15 hold the unpacked scale bytes until the final phase, then its scratch.
//
// The final phase of a super-block needs seven registers while the groups' six (QLO …
// SCD) are dead, so its macros take those by parameter, named for what they hold then:
// mm the int16 pairs (m_j, m_j), dw d, dmin dmin, ks dx, ks1 dx·d, ks2 dx·dmin. A call
// such as Q4KFIN(XR0, ISUM0, ACC0, QLO, QHI, SCA, SCB, KT, SCD) shows which is which.

// Q4KSCALES unpacks the 12 scale bytes of the super-block at WP (ggml's 6-bit packing)
// with vector ops. With a0, a1, a2 the three little-endian uint32s:
//	sc[0:4] = a0 & 0x3f…    sc[4:8] = a2&0x0f… | (a0>>2)&0x30…
//	 m[0:4] = a1 & 0x3f…     m[4:8] = (a2>>4)&0x0f… | (a1>>2)&0x30…
// X15 gets [sc[0:4], sc[4:8], m[0:4], m[4:8]] as dwords (kept for Q4KFINAL) and SCD
// the 8 scales as int16s in both 128-bit lanes. Clobbers X9–X14.
#define Q4KSCALES \
	VMOVDQU const_q4KScalesOff(WP), X9         \
	VPAND q4kMasks<>+0(SB), X9, X10            \
	VPSRLD $2, X9, X11                         \
	VPAND q4kMasks<>+16(SB), X11, X11          \
	VPAND q4kMasks<>+32(SB), X9, X12           \
	VPSRLD $4, X9, X13                         \
	VPAND q4kMasks<>+32(SB), X13, X13          \
	VPSLLDQ $4, X13, X13                       \
	VPBLENDD $8, X13, X12, X12                 \
	VPSHUFD $0xE8, X12, X12                    \
	VPSHUFD $0x40, X11, X11                    \
	VPOR X11, X12, X12                         \
	VPSHUFD $0x10, X10, X10                    \
	VPBLENDD $10, X12, X10, X15                \
	VPMOVZXBW X15, SCD                         \
	VPERMQ $0x44, SCD, SCD

// Q4KSCALESGPR(off, xsc, ysc, xt) is Q4KSCALES for the block at WP+off, computed mostly
// in general registers (the one-row kernel is bound by its vector instructions): with
// q = a0 | a1<<32 and c = a2,
//	L = q & 0x3f…                              = [sc[0:4], m[0:4]]
//	H = (q>>2) & 0x30… | (c | c<<28) & 0x0f…   = [sc[4:8], m[4:8]]
// xsc gets [L.lo, H.lo, L.hi, H.hi] (X15's layout) and ysc the scales as SCD has them.
// Needs SM3F, SM30, SM0F (the one-row kernel's masks); clobbers BX, R9, R10 and xt.
#define Q4KSCALESGPR(off, xsc, ysc, xt) \
	MOVQ  const_q4KScalesOff+off(WP), BX \
	MOVL  const_q4KScalesOff+8+off(WP), R9 \
	MOVQ  BX, R10               \
	SHRQ  $2, R10               \
	ANDQ  SM30, R10             \
	ANDQ  SM3F, BX              \
	VMOVQ BX, xt                \
	MOVQ  R9, BX                \
	SHLQ  $28, BX               \
	ORQ   R9, BX                \
	ANDQ  SM0F, BX              \
	ORQ   R10, BX               \
	VMOVQ BX, xsc               \
	VPUNPCKLDQ xsc, xt, xsc     \
	VPMOVZXBW xsc, ysc          \
	VPERMQ $0x44, ysc, ysc

// Q4KGROUP loads 64-element group g (32 bytes of nibbles) and its two scales.
#define Q4KGROUP(g) \
	VMOVDQU const_q4KQuantsOff+32*g(WP), QLO \
	VPSRLW $4, QLO, QHI                     \
	VPAND K4MASK, QLO, QLO                  \
	VPAND K4MASK, QHI, QHI                  \
	VPSHUFB q4kScaleShuf<>+64*g(SB), SCD, SCA \
	VPSHUFB q4kScaleShuf<>+64*g+32(SB), SCD, SCB

// Q4KROW adds sc_2g·Σ w·q + sc_2g+1·Σ w·q of group g of row xr into isum's lanes.
#define Q4KROW(g, xr, isum) \
	VPMADDUBSW const_q8QuantsOff+64*g(xr)(XOFF*1), QLO, KT \
	VPMADDWD SCA, KT, KT                      \
	VPADDD KT, isum, isum                     \
	VPMADDUBSW const_q8QuantsOff+64*g+32(xr)(XOFF*1), QHI, KT \
	VPMADDWD SCB, KT, KT                      \
	VPADDD KT, isum, isum

// Q4KROW0 is Q4KROW for group 0 starting isum afresh (no separate zeroing).
#define Q4KROW0(xr, isum) \
	VPMADDUBSW const_q8QuantsOff(xr)(XOFF*1), QLO, KT \
	VPMADDWD SCA, KT, isum                \
	VPMADDUBSW const_q8QuantsOff+32(xr)(XOFF*1), QHI, KT \
	VPMADDWD SCB, KT, KT                  \
	VPADDD KT, isum, isum

// Q4KFINAL loads the super-block's d, dmin and the mins (from X15) as int16 pairs.
#define Q4KFINAL(mm, dw, dmin) \
	VPSRLDQ $8, X15, X15        \
	VPMOVZXBD X15, mm           \
	VPSLLD $16, mm, Y15         \
	VPOR Y15, mm, mm            \
	VPBROADCASTW (WP), X15      \
	VCVTPH2PS X15, dw           \
	VPBROADCASTW const_q4KDMinOff(WP), X15 \
	VCVTPH2PS X15, dmin

// Q4KFIN: acc += dx·d·float(isum) − dx·dmin·float(Σ_j m_j·(bsum_2j + bsum_2j+1)).
#define Q4KFIN(xr, isum, acc, mm, dw, dmin, ks, ks1, ks2) \
	VPMADDWD const_q8KSumsOff(xr)(XOFF*1), mm, Y15 \
	VBROADCASTSS (xr)(XOFF*1), ks     \
	VMULPS dw, ks, ks1                \
	VMULPS dmin, ks, ks2              \
	VCVTDQ2PS isum, isum              \
	VFMADD231PS isum, ks1, acc        \
	VCVTDQ2PS Y15, Y15                \
	VFNMADD231PS Y15, ks2, acc

// Q4KFIN1 is Q4KFINAL then Q4KFIN in fewer vector instructions, with the same products
// and roundings: the (m_j, m_j) pairs by a byte interleave, and d, dmin converted
// together and multiplied by dx before being spread to all lanes.
#define Q4KFIN1(xr, isum, acc, mm, dw, ks, ks1, ks2) \
	VPUNPCKHBW X15, X15, X15          \
	VPMOVZXBW X15, mm                 \
	VPBROADCASTD (WP), X15            \
	VCVTPH2PS X15, dw                 \
	VPMADDWD const_q8KSumsOff(xr)(XOFF*1), mm, Y15 \
	VBROADCASTSS (xr)(XOFF*1), ks     \
	VMULPS dw, ks, ks                 \
	VPERMILPS $0x00, ks, ks1          \
	VPERMILPS $0x55, ks, ks2          \
	VCVTDQ2PS isum, isum              \
	VFMADD231PS isum, ks1, acc        \
	VCVTDQ2PS Y15, Y15                \
	VFNMADD231PS Y15, ks2, acc

#define K4CONST \
	MOVL $0x0F, BX       \
	VMOVD BX, X8         \
	VPBROADCASTB X8, K4MASK

// func gemmQ4_Kx4AVX2(y []float32, ldy int, x []byte, ldx int, w []byte, ldw int, n int, nb int)
// Requires: AVX, AVX2, FMA, F16C
//
//	for i < 4, j < n: y[i*ldy+j] += dotQ4_KGeneric(W_j, x[i*ldx:][:nb*292]), W_j = w[j*ldw:]
//	n > 0, nb > 0
TEXT ·gemmQ4_Kx4AVX2(SB), NOSPLIT, $8-112
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
	K4CONST

row:
	VXORPS ACC0, ACC0, ACC0
	VXORPS ACC1, ACC1, ACC1
	VXORPS ACC2, ACC2, ACC2
	VXORPS ACC3, ACC3, ACC3
	XORQ   XOFF, XOFF
	MOVQ   WROW, WP
	MOVQ   nb+104(FP), BLEFT

block:
	Q4KSCALES
	VPXOR ISUM0, ISUM0, ISUM0
	VPXOR ISUM1, ISUM1, ISUM1
	VPXOR ISUM2, ISUM2, ISUM2
	VPXOR ISUM3, ISUM3, ISUM3
	Q4KGROUP(0)
	Q4KROW(0, XR0, ISUM0)
	Q4KROW(0, XR1, ISUM1)
	Q4KROW(0, XR2, ISUM2)
	Q4KROW(0, XR3, ISUM3)
	Q4KGROUP(1)
	Q4KROW(1, XR0, ISUM0)
	Q4KROW(1, XR1, ISUM1)
	Q4KROW(1, XR2, ISUM2)
	Q4KROW(1, XR3, ISUM3)
	Q4KGROUP(2)
	Q4KROW(2, XR0, ISUM0)
	Q4KROW(2, XR1, ISUM1)
	Q4KROW(2, XR2, ISUM2)
	Q4KROW(2, XR3, ISUM3)
	Q4KGROUP(3)
	Q4KROW(3, XR0, ISUM0)
	Q4KROW(3, XR1, ISUM1)
	Q4KROW(3, XR2, ISUM2)
	Q4KROW(3, XR3, ISUM3)
	Q4KFINAL(QLO, QHI, SCA)
	Q4KFIN(XR0, ISUM0, ACC0, QLO, QHI, SCA, SCB, KT, SCD)
	Q4KFIN(XR1, ISUM1, ACC1, QLO, QHI, SCA, SCB, KT, SCD)
	Q4KFIN(XR2, ISUM2, ACC2, QLO, QHI, SCA, SCB, KT, SCD)
	Q4KFIN(XR3, ISUM3, ACC3, QLO, QHI, SCA, SCB, KT, SCD)
	ADDQ  $const_q4KBlockBytes, WP
	ADDQ  $const_q8KBlockBytes, XOFF
	DECQ  BLEFT
	JNZ   block

	STORE4
	ADDQ $4, YP
	ADDQ LDW, WROW
	CMPQ YP, yend-8(SP)
	JNE  row
	VZEROUPPER
	RET

// ---- the one-row kernel ----
// One row needs neither XR1–XR3, ISUM2/ISUM3 nor the strides LDY/LDW, so their registers
// take other names here: the one-row kernel unpacks the scales of block b+1 while block b
// computes (so the unpacking is off the critical path), keeps the masks of Q4KSCALESGPR
// in general registers, and the prefetch distance in PFDIST.
#undef XR1
#undef XR2
#undef XR3
#undef ISUM2
#undef ISUM3
#undef LDY
#undef LDW
#define PFDIST R8   // software-prefetch distance in bytes
#define NEXTSCD Y6  // scales, SCD's layout
#define NEXTSB X7   // scale bytes, X15's layout
#define SM3F R12    // 0x3f3f…
#define SM0F R13    // 0x0f0f…
#define SM30 R14    // 0x3030…

// func gemvQ4_KAVX2(y []float32, x []byte, w []byte, ldw int, nb int)
// Requires: AVX, AVX2, FMA, F16C
//
//	for j < len(y): y[j] += dotQ4_KGeneric(W_j, x[:nb*292]), W_j = w[j*ldw:]; nb > 0
TEXT ·gemvQ4_KAVX2(SB), NOSPLIT, $8-88
	MOVQ y_base+0(FP), YP
	MOVQ y_len+8(FP), BX
	LEAQ (YP)(BX*4), BX
	MOVQ BX, yend-8(SP)
	MOVQ x_base+24(FP), XR0
	MOVQ w_base+48(FP), WROW
	MOVQ ·gemvPrefetch(SB), PFDIST
	K4CONST
	MOVQ $0x3f3f3f3f3f3f3f3f, SM3F
	MOVQ $0x3030303030303030, SM30
	MOVQ $0x0f0f0f0f0f0f0f0f, SM0F

row:
	CMPQ   YP, yend-8(SP)
	JEQ    done
	VXORPS ACC0, ACC0, ACC0
	XORQ   XOFF, XOFF
	MOVQ   WROW, WP
	MOVQ   nb+80(FP), BLEFT
	Q4KSCALESGPR(0, NEXTSB, NEXTSCD, X9)

block:
	PREFETCHT0 (WP)(PFDIST*1)      // a weight line gemvPrefetch bytes ahead
	PREFETCHT0 64(WP)(PFDIST*1)
	PREFETCHT0 128(WP)(PFDIST*1)
	VMOVDQA NEXTSCD, SCD       // this block's scales, unpacked during the previous one
	VMOVDQA NEXTSB, X15
	CMPQ    BLEFT, $1
	JEQ     unpacked
	Q4KSCALESGPR(const_q4KBlockBytes, NEXTSB, NEXTSCD, X9)
unpacked:
	Q4KGROUP(0)
	Q4KROW0(XR0, ISUM0)
	Q4KGROUP(1)
	Q4KROW(1, XR0, ISUM0)
	Q4KGROUP(2)
	Q4KROW(2, XR0, ISUM0)
	Q4KGROUP(3)
	Q4KROW(3, XR0, ISUM0)
	Q4KFIN1(XR0, ISUM0, ACC0, QLO, QHI, SCB, KT, SCD)
	ADDQ  $const_q4KBlockBytes, WP
	ADDQ  $const_q8KBlockBytes, XOFF
	DECQ  BLEFT
	JNZ   block

	STORE1
	ADDQ $4, YP
	ADDQ ldw+72(FP), WROW       // (from memory: LDW's register holds a mask here)
	JMP  row

done:
	VZEROUPPER
	RET

// Shuffle masks: entry j (32 bytes) broadcasts int16 lane j of SCD to every lane.
DATA q4kScaleShuf<>+0(SB)/8, $0x0100010001000100
DATA q4kScaleShuf<>+8(SB)/8, $0x0100010001000100
DATA q4kScaleShuf<>+16(SB)/8, $0x0100010001000100
DATA q4kScaleShuf<>+24(SB)/8, $0x0100010001000100
DATA q4kScaleShuf<>+32(SB)/8, $0x0302030203020302
DATA q4kScaleShuf<>+40(SB)/8, $0x0302030203020302
DATA q4kScaleShuf<>+48(SB)/8, $0x0302030203020302
DATA q4kScaleShuf<>+56(SB)/8, $0x0302030203020302
DATA q4kScaleShuf<>+64(SB)/8, $0x0504050405040504
DATA q4kScaleShuf<>+72(SB)/8, $0x0504050405040504
DATA q4kScaleShuf<>+80(SB)/8, $0x0504050405040504
DATA q4kScaleShuf<>+88(SB)/8, $0x0504050405040504
DATA q4kScaleShuf<>+96(SB)/8, $0x0706070607060706
DATA q4kScaleShuf<>+104(SB)/8, $0x0706070607060706
DATA q4kScaleShuf<>+112(SB)/8, $0x0706070607060706
DATA q4kScaleShuf<>+120(SB)/8, $0x0706070607060706
DATA q4kScaleShuf<>+128(SB)/8, $0x0908090809080908
DATA q4kScaleShuf<>+136(SB)/8, $0x0908090809080908
DATA q4kScaleShuf<>+144(SB)/8, $0x0908090809080908
DATA q4kScaleShuf<>+152(SB)/8, $0x0908090809080908
DATA q4kScaleShuf<>+160(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA q4kScaleShuf<>+168(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA q4kScaleShuf<>+176(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA q4kScaleShuf<>+184(SB)/8, $0x0b0a0b0a0b0a0b0a
DATA q4kScaleShuf<>+192(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA q4kScaleShuf<>+200(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA q4kScaleShuf<>+208(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA q4kScaleShuf<>+216(SB)/8, $0x0d0c0d0c0d0c0d0c
DATA q4kScaleShuf<>+224(SB)/8, $0x0f0e0f0e0f0e0f0e
DATA q4kScaleShuf<>+232(SB)/8, $0x0f0e0f0e0f0e0f0e
DATA q4kScaleShuf<>+240(SB)/8, $0x0f0e0f0e0f0e0f0e
DATA q4kScaleShuf<>+248(SB)/8, $0x0f0e0f0e0f0e0f0e
GLOBL q4kScaleShuf<>(SB), RODATA|NOPTR, $256
// Q4_K scale masks: 0x3f…, 0x30…, 0x0f… (16 bytes each).
DATA q4kMasks<>+0(SB)/8, $0x3f3f3f3f3f3f3f3f
DATA q4kMasks<>+8(SB)/8, $0x3f3f3f3f3f3f3f3f
DATA q4kMasks<>+16(SB)/8, $0x3030303030303030
DATA q4kMasks<>+24(SB)/8, $0x3030303030303030
DATA q4kMasks<>+32(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA q4kMasks<>+40(SB)/8, $0x0f0f0f0f0f0f0f0f
GLOBL q4kMasks<>(SB), RODATA|NOPTR, $48
