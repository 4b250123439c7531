// Shared by the kernels of weights repacked 8 or 16 rows side by side
// (gemm_q4kx8_amd64.s, gemm_q4kx16_vnni_amd64.s, gemm_q6kx8_amd64.s,
// gemm_q6kx16_vnni_amd64.s, gemm_q8x16_vnni_amd64.s): each output step is 8 (in a 256-bit register) or 16 (in a
// 512-bit one) consecutive y values per activation row, at YP, YP+LDY, …
// (gemm_quant_amd64.h's names).

// X8MASK0F sets MASK (Y14) to bytes 0x0F, for the Q4_K kernels' nibbles (BX clobbered).
#define X8MASK0F \
	MOVL $0x0F, BX \
	VMOVD BX, X14  \
	VPBROADCASTB X14, MASK

// X8START2 … X8START4 zero the Q4_K kernels' integer sums of a super-block, I0… and
// M0… of the first 2 … 4 rows.
#define X8START2 \
	VPXOR I0, I0, I0 \
	VPXOR I1, I1, I1 \
	VPXOR M0, M0, M0 \
	VPXOR M1, M1, M1
#define X8START3 \
	X8START2 \
	VPXOR I2, I2, I2 \
	VPXOR M2, M2, M2
#define X8START4 \
	X8START3 \
	VPXOR I3, I3, I3 \
	VPXOR M3, M3, M3

// The 4-row kernels that keep their float32 sums on the stack (the frame's top 136 bytes:
// acc0…acc3, then yend-8(SP)).
#define X8ACC0 acc0-136(SP)
#define X8ACC1 acc1-104(SP)
#define X8ACC2 acc2-72(SP)
#define X8ACC3 acc3-40(SP)

// X8ZEROACC(z) zeroes the 4 stack sums (z: a scratch vector).
#define X8ZEROACC(z) \
	VXORPS  z, z, z      \
	VMOVUPS z, X8ACC0    \
	VMOVUPS z, X8ACC1    \
	VMOVUPS z, X8ACC2    \
	VMOVUPS z, X8ACC3

// X8LOADACC(a0, a1, a2, a3) loads the 4 stack sums.
#define X8LOADACC(a0, a1, a2, a3) \
	VMOVUPS X8ACC0, a0 \
	VMOVUPS X8ACC1, a1 \
	VMOVUPS X8ACC2, a2 \
	VMOVUPS X8ACC3, a3

// X8ADDY(p, v): the 8 or 16 floats at p += v (v is overwritten).
#define X8ADDY(p, v) \
	VADDPS (p), v, v \
	VMOVUPS v, (p)

// X8STORE2(a0, a1) … X8STORE4(a0, a1, a2, a3): the 8 or 16 y values of each of the first 2 … 4
// activation rows += a0, a1, … (BX clobbered).
#define X8STORE2(a0, a1) \
	X8ADDY(YP, a0)       \
	LEAQ (YP)(LDY*1), BX \
	X8ADDY(BX, a1)
#define X8STORE3(a0, a1, a2) \
	X8STORE2(a0, a1) \
	ADDQ LDY, BX     \
	X8ADDY(BX, a2)
#define X8STORE4(a0, a1, a2, a3) \
	X8STORE3(a0, a1, a2) \
	ADDQ LDY, BX         \
	X8ADDY(BX, a3)
