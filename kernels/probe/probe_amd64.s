//go:build gc && !purego

#include "textflag.h"

// The probes behind probe.FMA and probe.Read: peak FMA throughput and memory read
// bandwidth.

// PROBELOOP(BODY): a counted probe's loop, after its set-up: BODY CX times, then
// return.
#define PROBELOOP(BODY) \
	TESTQ CX, CX \
	JZ    done   \
loop:            \
	BODY         \
	DECQ CX      \
	JNZ  loop    \
done:            \
	VZEROUPPER   \
	RET

// FMAX12: Yi += Y13·Y12, 12 independent chains.
#define FMAX12                    \
	VFMADD231PS Y12, Y13, Y0  \
	VFMADD231PS Y12, Y13, Y1  \
	VFMADD231PS Y12, Y13, Y2  \
	VFMADD231PS Y12, Y13, Y3  \
	VFMADD231PS Y12, Y13, Y4  \
	VFMADD231PS Y12, Y13, Y5  \
	VFMADD231PS Y12, Y13, Y6  \
	VFMADD231PS Y12, Y13, Y7  \
	VFMADD231PS Y12, Y13, Y8  \
	VFMADD231PS Y12, Y13, Y9  \
	VFMADD231PS Y12, Y13, Y10 \
	VFMADD231PS Y12, Y13, Y11

// func fmaLoopAVX2(n int)
// Requires: AVX, FMA
//
//	for n times: 12 independent 8-lane float32 FMAs (192 flops)
TEXT ·fmaLoopAVX2(SB), NOSPLIT, $0-8
	MOVQ   n+0(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	VXORPS Y12, Y12, Y12
	VXORPS Y13, Y13, Y13
	PROBELOOP(FMAX12)

// func readAVX2(b []byte, ahead int) uint64
// Requires: AVX, AVX2
//
//	reads every byte of b (len(b)%128 == 0), prefetching the lines ahead bytes on, and
//	returns a checksum (xor of 64-bit words)
TEXT ·readAVX2(SB), NOSPLIT, $0-40
	MOVQ   b_base+0(FP), SI
	MOVQ   b_len+8(FP), CX
	MOVQ   ahead+24(FP), DX
	VPXOR  Y0, Y0, Y0
	VPXOR  Y1, Y1, Y1
	VPXOR  Y2, Y2, Y2
	VPXOR  Y3, Y3, Y3
	TESTQ  CX, CX
	JZ     sum

loop:
	PREFETCHT0 (SI)(DX*1) // a prefetch never faults, past b's end included
	PREFETCHT0 64(SI)(DX*1)
	VPXOR      (SI), Y0, Y0 // 4 independent 32-byte streams
	VPXOR      32(SI), Y1, Y1
	VPXOR      64(SI), Y2, Y2
	VPXOR      96(SI), Y3, Y3
	ADDQ       $128, SI
	SUBQ       $128, CX
	JNZ        loop

sum:
	VPXOR        Y1, Y0, Y0
	VPXOR        Y3, Y2, Y2
	VPXOR        Y2, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPXOR        X1, X0, X0
	VPSRLDQ      $8, X0, X1
	VPXOR        X1, X0, X0
	VMOVQ        X0, AX
	MOVQ         AX, ret+32(FP)
	VZEROUPPER
	RET

// INT8X12: Yi = pair sums of Y13·Y12, 12 independent results.
#define INT8X12 \
	VPMADDUBSW Y12, Y13, Y0  \
	VPMADDUBSW Y12, Y13, Y1  \
	VPMADDUBSW Y12, Y13, Y2  \
	VPMADDUBSW Y12, Y13, Y3  \
	VPMADDUBSW Y12, Y13, Y4  \
	VPMADDUBSW Y12, Y13, Y5  \
	VPMADDUBSW Y12, Y13, Y6  \
	VPMADDUBSW Y12, Y13, Y7  \
	VPMADDUBSW Y12, Y13, Y8  \
	VPMADDUBSW Y12, Y13, Y9  \
	VPMADDUBSW Y12, Y13, Y10 \
	VPMADDUBSW Y12, Y13, Y11

// func int8LoopAVX2(n int)
// Requires: AVX2
//
//	for n times: 12 independent VPMADDUBSWs (32 byte products each, 768 ops)
TEXT ·int8LoopAVX2(SB), NOSPLIT, $0-8
	MOVQ  n+0(FP), CX
	VPXOR Y12, Y12, Y12
	VPXOR Y13, Y13, Y13
	PROBELOOP(INT8X12)

// VNNIX12: Zi += 4-product sums of Z13·Z12, 12 independent chains.
#define VNNIX12                \
	VPDPBUSD Z12, Z13, Z0  \
	VPDPBUSD Z12, Z13, Z1  \
	VPDPBUSD Z12, Z13, Z2  \
	VPDPBUSD Z12, Z13, Z3  \
	VPDPBUSD Z12, Z13, Z4  \
	VPDPBUSD Z12, Z13, Z5  \
	VPDPBUSD Z12, Z13, Z6  \
	VPDPBUSD Z12, Z13, Z7  \
	VPDPBUSD Z12, Z13, Z8  \
	VPDPBUSD Z12, Z13, Z9  \
	VPDPBUSD Z12, Z13, Z10 \
	VPDPBUSD Z12, Z13, Z11

// func int8LoopVNNI(n int)
// Requires: AVX512F, AVX512_VNNI
//
//	for n times: 12 independent 512-bit VPDPBUSD chains (64 byte products each, 1536
//	ops)
TEXT ·int8LoopVNNI(SB), NOSPLIT, $0-8
	MOVQ   n+0(FP), CX
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	PROBELOOP(VNNIX12)

// FMA512X12: Zi += Z13·Z12, 12 independent chains.
#define FMA512X12                 \
	VFMADD231PS Z12, Z13, Z0  \
	VFMADD231PS Z12, Z13, Z1  \
	VFMADD231PS Z12, Z13, Z2  \
	VFMADD231PS Z12, Z13, Z3  \
	VFMADD231PS Z12, Z13, Z4  \
	VFMADD231PS Z12, Z13, Z5  \
	VFMADD231PS Z12, Z13, Z6  \
	VFMADD231PS Z12, Z13, Z7  \
	VFMADD231PS Z12, Z13, Z8  \
	VFMADD231PS Z12, Z13, Z9  \
	VFMADD231PS Z12, Z13, Z10 \
	VFMADD231PS Z12, Z13, Z11

// func fmaLoopAVX512(n int)
// Requires: AVX512F
//
//	for n times: 12 independent 16-lane float32 FMAs (384 flops)
TEXT ·fmaLoopAVX512(SB), NOSPLIT, $0-8
	MOVQ   n+0(FP), CX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	PROBELOOP(FMA512X12)

// MULADD(acc): a VPMADDUBSW and the VPADDW that adds its pair sums into acc.
#define MULADD(acc) \
	VPMADDUBSW Y12, Y13, Y15 \
	VPADDW     Y15, acc, acc

// MULADD8: a MULADD into each of 8 accumulators; MULADD16 two rounds of it.
#define MULADD8 \
	MULADD(Y0) \
	MULADD(Y1) \
	MULADD(Y2) \
	MULADD(Y3) \
	MULADD(Y4) \
	MULADD(Y5) \
	MULADD(Y6) \
	MULADD(Y7)
#define MULADD16 \
	MULADD8 \
	MULADD8

// func mulAddAVX2(n int)
// Requires: AVX2
//
//	for n times: 16 VPMADDUBSWs, each added into one of 8 int16 accumulators (1024 ops)
TEXT ·mulAddAVX2(SB), NOSPLIT, $0-8
	MOVQ  n+0(FP), CX
	VPXOR Y12, Y12, Y12
	VPXOR Y13, Y13, Y13
	PROBELOOP(MULADD16)

// The inner loops of the avx2 set's repacked 2–4-row kernels on 4 activation rows,
// their operands in L1 (mixData, zeros: none of these instructions takes longer for
// any value). Per 32-byte chunk of 8 weight rows, 4 quants each, and per activation
// row, 32 byte products: 64 ops.

// MIXQ8ROW(i, acc): as gemmQ8_0X8xNAVX2 (Q8X8DOT): row i's 4 quants broadcast take the
// chunk's signs, times its magnitudes, each row's 4 products summed into acc's int32
// lane.
#define MIXQ8ROW(i, acc) \
	VPBROADCASTD 4*(i)(SI), Y15 \
	VPSIGNB      Y12, Y15, Y15  \
	VPMADDUBSW   Y15, Y13, Y15  \
	VPMADDWD     Y14, Y15, Y15  \
	VPADDD       Y15, acc, acc

// MIXQ8CHUNK(c): chunk c loaded and its magnitudes taken (Q8X8CHUNK1), against 4 rows.
#define MIXQ8CHUNK(c) \
	VMOVDQU 32*(c)(SI), Y12 \
	VPABSB  Y12, Y13        \
	MIXQ8ROW(0, Y0)         \
	MIXQ8ROW(1, Y1)         \
	MIXQ8ROW(2, Y2)         \
	MIXQ8ROW(3, Y3)

// MIXQ8LOOP: 4 chunks against 4 rows.
#define MIXQ8LOOP \
	MIXQ8CHUNK(0) \
	MIXQ8CHUNK(1) \
	MIXQ8CHUNK(2) \
	MIXQ8CHUNK(3)

// func mixQ8_0AVX2(n int)
// Requires: AVX2
//
//	for n times: 4 chunks against 4 rows as the Q8_0 kernels (1024 ops)
TEXT ·mixQ8_0AVX2(SB), NOSPLIT, $0-8
	MOVQ     n+0(FP), CX
	LEAQ     mixData<>(SB), SI
	VPCMPEQW Y14, Y14, Y14
	VPSRLW   $15, Y14, Y14 // int16 ones
	PROBELOOP(MIXQ8LOOP)

// MIXQ4ROW(i, acc): as gemmQ4_KX8xNAVX2 (X8MUL): row i's 4 quants broadcast times the
// chunk's nibbles, the pair sums added into acc's int16 lanes.
#define MIXQ4ROW(i, acc) \
	VPBROADCASTD 4*(i)(SI), Y13 \
	VPMADDUBSW   Y13, Y12, Y13  \
	VPADDW       Y13, acc, acc

#define MIXQ4ROWS \
	MIXQ4ROW(0, Y0) \
	MIXQ4ROW(1, Y1) \
	MIXQ4ROW(2, Y2) \
	MIXQ4ROW(3, Y3)

// MIXQ4LO(c) / MIXQ4HI(c): chunk c's low nibbles, or its high ones (X8LO, X8HI), against
// 4 rows.
#define MIXQ4LO(c) \
	VPAND 32*(c)(SI), Y14, Y12 \
	MIXQ4ROWS
#define MIXQ4HI(c) \
	VMOVDQU 32*(c)(SI), Y12 \
	VPSRLW  $4, Y12, Y12    \
	VPAND   Y14, Y12, Y12   \
	MIXQ4ROWS

// MIXQ4LOOP: 2 chunks of low nibbles and 2 of high against 4 rows.
#define MIXQ4LOOP \
	MIXQ4LO(0) \
	MIXQ4HI(1) \
	MIXQ4LO(2) \
	MIXQ4HI(3)

// func mixQ4_KAVX2(n int)
// Requires: AVX2
//
//	for n times: 4 chunks (2 of low nibbles, 2 of high) against 4 rows as the Q4_K
//	kernels (1024 ops)
TEXT ·mixQ4_KAVX2(SB), NOSPLIT, $0-8
	MOVQ      n+0(FP), CX
	LEAQ      mixData<>(SB), SI
	VPCMPEQW  Y14, Y14, Y14
	VPSRLW    $12, Y14, Y14
	VPACKUSWB Y14, Y14, Y14 // bytes 0x0F
	PROBELOOP(MIXQ4LOOP)

GLOBL mixData<>(SB), NOPTR, $128
