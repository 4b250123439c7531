//go:build gc && !purego

#include "textflag.h"

// Matrix-multiply micro-kernels for float weights (F32, BF16, F16) against float32
// activations. Each widens 8 weights at a time to float32 exactly and accumulates with
// FMA in 8-lane float32 accumulators.
//
// gemm*x4: 4 rows of x against n weight rows, 3 at a time. x holds 4 rows at stride ldx
// (elements); w holds n rows at stride ldw (bytes); y holds 4 rows at stride ldy
// (elements). Each 4×3 block keeps 12 accumulators + 3 weight vectors + 1 x vector, all
// 16 YMM registers, and adds its 12 lane sums into y.
//
// gemv*: y[j] += Σ_p x[p]·W_j[p] for j < len(y), one weight row at a time with 4
// accumulators (memory-bound shapes: M = 1 and leftover rows).

// Weight rows and x rows.
#define W0 DI
#define W1 R11
#define W2 R12
#define XR0 SI
#define XR1 R8
#define XR2 R9
#define XR3 R10
#define XOFF AX // byte offset into the x rows
#define WOFF BX // byte offset into the w rows
#define KLEFT CX
#define YP DX    // &y[j] of the current group
#define LDY R13  // ldy in bytes
#define LDW R14  // ldw in bytes
#define PF R15   // next line of pf to prefetch

// Accumulators ACCij += x_i·w_j.
#define ACC00 Y0
#define ACC01 Y1
#define ACC02 Y2
#define ACC10 Y3
#define ACC11 Y4
#define ACC12 Y5
#define ACC20 Y6
#define ACC21 Y7
#define ACC22 Y8
#define ACC30 Y9
#define ACC31 Y10
#define ACC32 Y11
#define WV0 Y12
#define WV1 Y13
#define WV2 Y14
#define XV Y15

// REDUCE adds the sum of the 8 lanes of acc (X register xacc) into the float at addr.
// Clobbers xt.
#define REDUCE(acc, xacc, xt, addr) \
	VEXTRACTF128 $1, acc, xt \
	VADDPS xt, xacc, xacc    \
	VHADDPS xacc, xacc, xacc \
	VHADDPS xacc, xacc, xacc \
	VADDSS addr, xacc, xacc  \
	VMOVSS xacc, addr

// ROW4x3 multiplies x row xr (at XOFF+d) into the three accumulators of row i.
#define ROW4x3(xr, d, a0, a1, a2) \
	VMOVUPS d(xr)(XOFF*1), XV   \
	VFMADD231PS XV, WV0, a0     \
	VFMADD231PS XV, WV1, a1     \
	VFMADD231PS XV, WV2, a2

// SETUP4 converts ldy (LDY) and ldx (in KLEFT, free until the k loop) to bytes and
// derives the row pointers XR1…XR3 from XR0 and W1, W2 from W0.
#define SETUP4 \
	SHLQ $2, LDY                \
	SHLQ $2, KLEFT              \
	LEAQ (XR0)(KLEFT*1), XR1    \
	LEAQ (XR1)(KLEFT*1), XR2    \
	LEAQ (XR2)(KLEFT*1), XR3    \
	LEAQ (W0)(LDW*1), W1        \
	LEAQ (W1)(LDW*1), W2

// ZERO4x3 starts a 4×3 block: accumulators and offsets to zero, KLEFT = k.
#define ZERO4x3 \
	VXORPS ACC00, ACC00, ACC00  \
	VXORPS ACC01, ACC01, ACC01  \
	VXORPS ACC02, ACC02, ACC02  \
	VXORPS ACC10, ACC10, ACC10  \
	VXORPS ACC11, ACC11, ACC11  \
	VXORPS ACC12, ACC12, ACC12  \
	VXORPS ACC20, ACC20, ACC20  \
	VXORPS ACC21, ACC21, ACC21  \
	VXORPS ACC22, ACC22, ACC22  \
	VXORPS ACC30, ACC30, ACC30  \
	VXORPS ACC31, ACC31, ACC31  \
	VXORPS ACC32, ACC32, ACC32  \
	XORQ XOFF, XOFF             \
	XORQ WOFF, WOFF

// BODY4x3(d) runs the four rows, x at XOFF+d, against WV0..WV2.
#define BODY4x3(d) \
	ROW4x3(XR0, d, ACC00, ACC01, ACC02) \
	ROW4x3(XR1, d, ACC10, ACC11, ACC12) \
	ROW4x3(XR2, d, ACC20, ACC21, ACC22) \
	ROW4x3(XR3, d, ACC30, ACC31, ACC32)

// Weight loads of 8 elements of each of the 3 rows at WOFF+d, widened to float32.
#define LOAD3F32(d) \
	VMOVUPS d(W0)(WOFF*1), WV0 \
	VMOVUPS d(W1)(WOFF*1), WV1 \
	VMOVUPS d(W2)(WOFF*1), WV2
#define LOAD3BF16(d) \
	VPMOVZXWD d(W0)(WOFF*1), WV0 \
	VPMOVZXWD d(W1)(WOFF*1), WV1 \
	VPMOVZXWD d(W2)(WOFF*1), WV2 \
	VPSLLD $16, WV0, WV0         \
	VPSLLD $16, WV1, WV1         \
	VPSLLD $16, WV2, WV2
#define LOAD3F16(d) \
	VCVTPH2PS d(W0)(WOFF*1), WV0 \
	VCVTPH2PS d(W1)(WOFF*1), WV1 \
	VCVTPH2PS d(W2)(WOFF*1), WV2

// KLOOP(LOAD3, wstep) runs the k loop of a 4×3 block, two 8-element steps per
// iteration (wstep = bytes of 8 weights), then a last single step when k%16 == 8.
#define KLOOP(LOAD3, wstep) \
	CMPQ KLEFT, $16              \
	JLT tail                     \
loop:                            \
	CMPQ PF, pfend-16(SP)        \
	JAE nopf                     \
	PREFETCHT0 (PF)              \
	ADDQ $64, PF                 \
nopf:                            \
	LOAD3(0)                     \
	BODY4x3(0)                   \
	LOAD3(wstep)                 \
	BODY4x3(32)                  \
	ADDQ $64, XOFF               \
	ADDQ $2*wstep, WOFF          \
	SUBQ $16, KLEFT              \
	CMPQ KLEFT, $16              \
	JGE loop                     \
tail:                            \
	TESTQ KLEFT, KLEFT           \
	JZ kdone                     \
	LOAD3(0)                     \
	BODY4x3(0)                   \
kdone:

// REDUCE3(a, b, c, xc, addr, addr8) adds the lane sums of a, b and c (xc: c's X
// register) into the 3 floats at addr (addr8: addr+8), with REDUCE's additions in
// REDUCE's order (lower half + upper half, then two horizontal adds, then + y), so the
// bits are REDUCE's: the halves of a and b go through one VPERM2F128 pair and both
// horizontal adds serve all three. Clobbers Y12 and Y13.
#define REDUCE3(a, b, c, xc, addr, addr8) \
	VPERM2F128 $0x20, b, a, Y12   \
	VPERM2F128 $0x31, b, a, Y13   \
	VADDPS Y13, Y12, Y12          \
	VEXTRACTF128 $1, c, X13       \
	VADDPS X13, xc, X13           \
	VHADDPS Y13, Y12, Y12         \
	VHADDPS Y12, Y12, Y12         \
	VEXTRACTF128 $1, Y12, X13     \
	VUNPCKLPS X13, X12, X12       \
	VMOVSD addr, X13              \
	VINSERTPS $0x20, addr8, X13, X13 \
	VADDPS X13, X12, X12          \
	VMOVSD X12, addr              \
	VEXTRACTPS $2, X12, addr8

// STORE4x3 adds ACCij's lane sum into y[i*ldy+j] and moves YP and the weight rows on to
// the next group of 3. Uses AX (free after the k loop) for row 3 of y.
#define STORE4x3 \
	LEAQ (YP)(LDY*2), AX              \
	REDUCE3(ACC00, ACC01, ACC02, X2, (YP), 8(YP)) \
	REDUCE3(ACC10, ACC11, ACC12, X5, (YP)(LDY*1), 8(YP)(LDY*1)) \
	REDUCE3(ACC20, ACC21, ACC22, X8, (AX), 8(AX)) \
	REDUCE3(ACC30, ACC31, ACC32, X11, (AX)(LDY*1), 8(AX)(LDY*1)) \
	ADDQ $12, YP                      \
	LEAQ (W2)(LDW*1), W0              \
	LEAQ (W0)(LDW*1), W1              \
	LEAQ (W1)(LDW*1), W2

// Arguments of every gemm*x4 kernel:
//	y_base+0 y_len+8 y_cap+16 ldy+24 x_base+32 x_len+40 x_cap+48 ldx+56
//	w_base+64 w_len+72 w_cap+80 ldw+88 n+96 k+104 pf_base+112 pf_len+120 pf_cap+128;
//	locals yend-8(SP) = &y[n], pfend-16(SP) = &pf[len(pf)].

// GEMV runs y[j] += Σ_p x[p]·W_j[p] over the rows of w with exactly the arithmetic of
// the 4×3 kernels as the Go driver calls them, so a row's result does not depend on
// which kernel computed it: per K-chunk of floatChunk elements, one 8-lane accumulator
// per (row, weight row) summed by FMA in p order, its lanes reduced as REDUCE does, and
// the chunk's sum added into y. Four weight rows go at a time (independent FMA chains),
// then one at a time.
//
// LOADW(base, reg) widens the 8 weights at base+WOFF into reg; wstep is their size in
// bytes. GEMV is the whole of a gemv* kernel after its TEXT body has loaded YP = &y[0],
// YEND = len(y), XR0 = &x[0], R12 = len(x), ROW0 = &w[0] and LDW2 = ldw; its locals are
// xlen-8(SP) = len(x) and chunk-16(SP) = floatChunk.
#define YEND R13
#define ROW0 DI
#define ROW1 R9
#define ROW2 R10
#define ROW3 R15
#define LDW2 R11
#define CLEFT R14 // elements left in the chunk
#define ACC0 Y0
#define ACC1 Y1
#define ACC2 Y2
#define ACC3 Y3

// CHUNKLEN sets CLEFT = min(chunk, KLEFT) and KLEFT -= CLEFT.
#define CHUNKLEN \
	MOVQ chunk-16(SP), CLEFT       \
	CMPQ KLEFT, CLEFT              \
	CMOVQLT KLEFT, CLEFT           \
	SUBQ CLEFT, KLEFT

#define GEMV(LOADW, wstep) \
	LEAQ (YP)(YEND*4), YEND        \
	MOVQ R12, xlen-8(SP)           \
	MOVQ ·floatChunk(SB), R12      \
	MOVQ R12, chunk-16(SP)         \
row4:                              \
	MOVQ YEND, R12                 \
	SUBQ YP, R12                   \
	CMPQ R12, $16                  \
	JLT  row1                      \
	LEAQ (ROW0)(LDW2*1), ROW1      \
	LEAQ (ROW1)(LDW2*1), ROW2      \
	LEAQ (ROW2)(LDW2*1), ROW3      \
	XORQ XOFF, XOFF                \
	XORQ WOFF, WOFF                \
	MOVQ xlen-8(SP), KLEFT         \
chunk4:                            \
	VXORPS ACC0, ACC0, ACC0        \
	VXORPS ACC1, ACC1, ACC1        \
	VXORPS ACC2, ACC2, ACC2        \
	VXORPS ACC3, ACC3, ACC3        \
	CHUNKLEN                       \
step4:                             \
	VMOVUPS (XR0)(XOFF*1), Y8      \
	LOADW(ROW0, Y4)                \
	LOADW(ROW1, Y5)                \
	LOADW(ROW2, Y6)                \
	LOADW(ROW3, Y7)                \
	VFMADD231PS Y8, Y4, ACC0       \
	VFMADD231PS Y8, Y5, ACC1       \
	VFMADD231PS Y8, Y6, ACC2       \
	VFMADD231PS Y8, Y7, ACC3       \
	ADDQ $32, XOFF                 \
	ADDQ $wstep, WOFF              \
	SUBQ $8, CLEFT                 \
	JNZ  step4                     \
	REDUCE(ACC0, X0, X12, (YP))    \
	REDUCE(ACC1, X1, X12, 4(YP))   \
	REDUCE(ACC2, X2, X12, 8(YP))   \
	REDUCE(ACC3, X3, X12, 12(YP))  \
	TESTQ KLEFT, KLEFT             \
	JNZ  chunk4                    \
	ADDQ $16, YP                   \
	LEAQ (ROW3)(LDW2*1), ROW0      \
	JMP  row4                      \
row1:                              \
	CMPQ YP, YEND                  \
	JEQ  done                      \
	XORQ XOFF, XOFF                \
	XORQ WOFF, WOFF                \
	MOVQ xlen-8(SP), KLEFT         \
chunk1:                            \
	VXORPS ACC0, ACC0, ACC0        \
	CHUNKLEN                       \
step1:                             \
	LOADW(ROW0, Y4)                \
	VFMADD231PS (XR0)(XOFF*1), Y4, ACC0 \
	ADDQ $32, XOFF                 \
	ADDQ $wstep, WOFF              \
	SUBQ $8, CLEFT                 \
	JNZ  step1                     \
	REDUCE(ACC0, X0, X12, (YP))    \
	TESTQ KLEFT, KLEFT             \
	JNZ  chunk1                    \
	ADDQ $4, YP                    \
	ADDQ LDW2, ROW0                \
	JMP  row1                      \
done:                              \
	VZEROUPPER                     \
	RET

#define LOADF32(base, reg) VMOVUPS (base)(WOFF*1), reg
#define LOADBF16(base, reg) VPMOVZXWD (base)(WOFF*1), reg; VPSLLD $16, reg, reg
#define LOADF16(base, reg) VCVTPH2PS (base)(WOFF*1), reg

// GEMM4x3(LOAD3, wstep) is the whole of a gemm*x4 kernel after its TEXT body has loaded
// YP = &y[0], LDY = ldy, XR0 = &x[0], KLEFT = ldx, W0 = &w[0], LDW = ldw, AX = n,
// PF = &pf[0] and BX = len(pf), and stored k in k-24(SP): for each group of 3 weight
// rows, the k loop and the stores.
#define GEMM4x3(LOAD3, wstep) \
	LEAQ (YP)(AX*4), AX           \
	MOVQ AX, yend-8(SP)           \
	ADDQ PF, BX                   \
	MOVQ BX, pfend-16(SP)         \
	SETUP4                        \
group:                            \
	ZERO4x3                       \
	MOVQ k-24(SP), KLEFT          \
	KLOOP(LOAD3, wstep)           \
	STORE4x3                      \
	CMPQ YP, yend-8(SP)           \
	JNE  group                    \
	VZEROUPPER                    \
	RET

// func gemmF32x4AVX2(y []float32, ldy int, x []float32, ldx int, w []byte, ldw int, n int, k int, pf []byte)
// Requires: AVX, FMA
//
//	for i < 4, j < n: y[i*ldy+j] += Σ_{p<k} x[i*ldx+p]·W_j[p], W_j = float32s at w[j*ldw:]
//	n > 0, n%3 == 0, k > 0, k%8 == 0
//	and, as a hint, prefetch one line of pf per 16 elements of k until pf is covered
TEXT ·gemmF32x4AVX2(SB), NOSPLIT, $24-136
	MOVQ y_base+0(FP), YP
	MOVQ ldy+24(FP), LDY
	MOVQ x_base+32(FP), XR0
	MOVQ ldx+56(FP), KLEFT
	MOVQ w_base+64(FP), W0
	MOVQ ldw+88(FP), LDW
	MOVQ n+96(FP), AX
	MOVQ k+104(FP), BX
	MOVQ BX, k-24(SP)
	MOVQ pf_base+112(FP), PF
	MOVQ pf_len+120(FP), BX
	GEMM4x3(LOAD3F32, 32)       // WVj = W_j[p : p+8]; ACCij += x_i[p : p+8]·WVj

// func gemmBF16x4AVX2(y []float32, ldy int, x []float32, ldx int, w []byte, ldw int, n int, k int, pf []byte)
// Requires: AVX, AVX2, FMA
//
//	as gemmF32x4AVX2 with W_j = bfloat16s at w[j*ldw:], widened by w<<16
TEXT ·gemmBF16x4AVX2(SB), NOSPLIT, $24-136
	MOVQ y_base+0(FP), YP
	MOVQ ldy+24(FP), LDY
	MOVQ x_base+32(FP), XR0
	MOVQ ldx+56(FP), KLEFT
	MOVQ w_base+64(FP), W0
	MOVQ ldw+88(FP), LDW
	MOVQ n+96(FP), AX
	MOVQ k+104(FP), BX
	MOVQ BX, k-24(SP)
	MOVQ pf_base+112(FP), PF
	MOVQ pf_len+120(FP), BX
	GEMM4x3(LOAD3BF16, 16)      // WVj = uint32(W_j[p : p+8]) << 16

// func gemmF16x4AVX2(y []float32, ldy int, x []float32, ldx int, w []byte, ldw int, n int, k int, pf []byte)
// Requires: AVX, F16C, FMA
//
//	as gemmF32x4AVX2 with W_j = IEEE halves at w[j*ldw:]
TEXT ·gemmF16x4AVX2(SB), NOSPLIT, $24-136
	MOVQ y_base+0(FP), YP
	MOVQ ldy+24(FP), LDY
	MOVQ x_base+32(FP), XR0
	MOVQ ldx+56(FP), KLEFT
	MOVQ w_base+64(FP), W0
	MOVQ ldw+88(FP), LDW
	MOVQ n+96(FP), AX
	MOVQ k+104(FP), BX
	MOVQ BX, k-24(SP)
	MOVQ pf_base+112(FP), PF
	MOVQ pf_len+120(FP), BX
	GEMM4x3(LOAD3F16, 16)       // WVj = float32(W_j[p : p+8])

// func gemvF32AVX2(y []float32, x []float32, w []byte, ldw int)
// Requires: AVX, FMA
//
//	for j < len(y): y[j] += Σ_{p<len(x)} x[p]·W_j[p], W_j = float32s at w[j*ldw:]
//	len(x)%8 == 0, floatChunk%8 == 0 (summed chunk by chunk, see GEMV)
TEXT ·gemvF32AVX2(SB), NOSPLIT, $16-80
	MOVQ y_base+0(FP), YP
	MOVQ y_len+8(FP), YEND
	MOVQ x_base+24(FP), XR0
	MOVQ x_len+32(FP), R12
	MOVQ w_base+48(FP), ROW0
	MOVQ ldw+72(FP), LDW2
	GEMV(LOADF32, 32)

// func gemvBF16AVX2(y []float32, x []float32, w []byte, ldw int)
// Requires: AVX, AVX2, FMA
//
//	as gemvF32AVX2 with W_j = bfloat16s at w[j*ldw:]
TEXT ·gemvBF16AVX2(SB), NOSPLIT, $16-80
	MOVQ y_base+0(FP), YP
	MOVQ y_len+8(FP), YEND
	MOVQ x_base+24(FP), XR0
	MOVQ x_len+32(FP), R12
	MOVQ w_base+48(FP), ROW0
	MOVQ ldw+72(FP), LDW2
	GEMV(LOADBF16, 16)

// func gemvF16AVX2(y []float32, x []float32, w []byte, ldw int)
// Requires: AVX, F16C, FMA
//
//	as gemvF32AVX2 with W_j = IEEE halves at w[j*ldw:]
TEXT ·gemvF16AVX2(SB), NOSPLIT, $16-80
	MOVQ y_base+0(FP), YP
	MOVQ y_len+8(FP), YEND
	MOVQ x_base+24(FP), XR0
	MOVQ x_len+32(FP), R12
	MOVQ w_base+48(FP), ROW0
	MOVQ ldw+72(FP), LDW2
	GEMV(LOADF16, 16)
