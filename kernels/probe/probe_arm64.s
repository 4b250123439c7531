//go:build gc && !purego

#include "textflag.h"

// The probes behind probe.FMA and probe.Read: peak FMA throughput and memory read
// bandwidth.

// func fmaLoopNEON(n int)
// Requires: NEON
//
//	for n times: 16 independent 4-lane float32 FMLAs (128 flops)
TEXT ·fmaLoopNEON(SB), NOSPLIT, $0-8
	MOVD n+0(FP), R0
	VEOR V30.B16, V30.B16, V30.B16
	VEOR V31.B16, V31.B16, V31.B16
	CBZ  R0, done

loop:
	VFMLA V30.S4, V31.S4, V0.S4 // Vi += V31·V30, 16 independent chains
	VFMLA V30.S4, V31.S4, V1.S4
	VFMLA V30.S4, V31.S4, V2.S4
	VFMLA V30.S4, V31.S4, V3.S4
	VFMLA V30.S4, V31.S4, V4.S4
	VFMLA V30.S4, V31.S4, V5.S4
	VFMLA V30.S4, V31.S4, V6.S4
	VFMLA V30.S4, V31.S4, V7.S4
	VFMLA V30.S4, V31.S4, V8.S4
	VFMLA V30.S4, V31.S4, V9.S4
	VFMLA V30.S4, V31.S4, V10.S4
	VFMLA V30.S4, V31.S4, V11.S4
	VFMLA V30.S4, V31.S4, V12.S4
	VFMLA V30.S4, V31.S4, V13.S4
	VFMLA V30.S4, V31.S4, V14.S4
	VFMLA V30.S4, V31.S4, V15.S4
	SUBS  $1, R0, R0
	BNE   loop

done:
	RET

// func readNEON(b []byte, ahead int) uint64
// Requires: NEON
//
//	reads every byte of b (len(b)%128 == 0), prefetching the lines ahead bytes on, and
//	returns a checksum (xor of 64-bit words)
TEXT ·readNEON(SB), NOSPLIT, $0-40
	MOVD b_base+0(FP), R0
	MOVD b_len+8(FP), R1
	MOVD ahead+24(FP), R4
	VEOR V0.B16, V0.B16, V0.B16
	VEOR V1.B16, V1.B16, V1.B16
	VEOR V2.B16, V2.B16, V2.B16
	VEOR V3.B16, V3.B16, V3.B16
	CBZ  R1, sum

loop:
	ADD    R4, R0, R5
	PRFM   (R5), PLDL1KEEP // a prefetch never faults, past b's end included
	PRFM   64(R5), PLDL1KEEP
	VLD1.P 64(R0), [V4.B16, V5.B16, V6.B16, V7.B16]
	VLD1.P 64(R0), [V16.B16, V17.B16, V18.B16, V19.B16]
	VEOR   V4.B16, V0.B16, V0.B16 // 4 independent xor chains
	VEOR   V5.B16, V1.B16, V1.B16
	VEOR   V6.B16, V2.B16, V2.B16
	VEOR   V7.B16, V3.B16, V3.B16
	VEOR   V16.B16, V0.B16, V0.B16
	VEOR   V17.B16, V1.B16, V1.B16
	VEOR   V18.B16, V2.B16, V2.B16
	VEOR   V19.B16, V3.B16, V3.B16
	SUBS   $128, R1, R1
	BNE    loop

sum:
	VEOR V1.B16, V0.B16, V0.B16
	VEOR V3.B16, V2.B16, V2.B16
	VEOR V2.B16, V0.B16, V0.B16
	VMOV V0.D[0], R2
	VMOV V0.D[1], R3
	EOR  R3, R2, R2
	MOVD R2, ret+32(FP)
	RET

// SDOT Vd.4S, Vn.16B, Vm.16B (FEAT_DotProd), which the Go assembler lacks.
#define SDOT_4S(d, n, m) WORD $(0x4e809400 | (m<<16) | (n<<5) | d)

// func int8LoopSDOT(n int)
// Requires: NEON, FEAT_DotProd
//
//	for n times: 16 independent SDOTs (16 byte products each, 512 ops)
TEXT ·int8LoopSDOT(SB), NOSPLIT, $0-8
	MOVD n+0(FP), R0
	VEOR V30.B16, V30.B16, V30.B16
	VEOR V31.B16, V31.B16, V31.B16
	CBZ  R0, done

loop:
	SDOT_4S(0, 31, 30) // Vi += 4-product sums of V31·V30, 16 independent chains
	SDOT_4S(1, 31, 30)
	SDOT_4S(2, 31, 30)
	SDOT_4S(3, 31, 30)
	SDOT_4S(4, 31, 30)
	SDOT_4S(5, 31, 30)
	SDOT_4S(6, 31, 30)
	SDOT_4S(7, 31, 30)
	SDOT_4S(8, 31, 30)
	SDOT_4S(9, 31, 30)
	SDOT_4S(10, 31, 30)
	SDOT_4S(11, 31, 30)
	SDOT_4S(12, 31, 30)
	SDOT_4S(13, 31, 30)
	SDOT_4S(14, 31, 30)
	SDOT_4S(15, 31, 30)
	SUBS $1, R0, R0
	BNE  loop

done:
	RET
