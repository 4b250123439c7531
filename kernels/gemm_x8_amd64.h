// Shared by the kernels of weights repacked 8 or 16 rows side by side
// (gemm_q4kx8_amd64.s, gemm_q4kx16_vnni_amd64.s, gemm_q6kx8_amd64.s, gemm_q8x8_amd64.s,
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

// Q4KPAIRSUMS(xr, r, y) writes the super-block's 8 sums of 32 activations of row xr
// (bsum_2s + bsum_2s+1, int16) to row r's 32-byte slot at the bottom of the frame, y a
// scratch Y register: the Q4_K kernels take a group's two mins in one multiply-add
// against them. VPHADDW of the sums of 16 with themselves leaves each 128-bit lane's
// 4 pair sums twice, so group g's two sums are the dword at Q4KPAIR(g, r)(SP).
#define Q4KPAIRSUMS(xr, r, y) \
	VMOVDQU const_q8KSumsOff(xr)(XOFF*1), y \
	VPHADDW y, y, y                         \
	VMOVDQU y, 32*(r)(SP)
#define Q4KPAIR(g, r) 4*(g)+8*((g)/2)+32*(r)

// Q4KPAIRSUMS2(y) … Q4KPAIRSUMS4(y): Q4KPAIRSUMS of the first 2 … 4 rows.
#define Q4KPAIRSUMS2(y) \
	Q4KPAIRSUMS(XR0, 0, y) \
	Q4KPAIRSUMS(XR1, 1, y)
#define Q4KPAIRSUMS3(y) \
	Q4KPAIRSUMS2(y) \
	Q4KPAIRSUMS(XR2, 2, y)
#define Q4KPAIRSUMS4(y) \
	Q4KPAIRSUMS3(y) \
	Q4KPAIRSUMS(XR3, 3, y)

// Q4KMINS2(LOAD, MIN, g) … Q4KMINS4: the mins of group g against the first 2 … 4 rows,
// LOAD(g) setting them up and MIN(g, r, msum) taking them against row r's sums.
#define Q4KMINS2(LOAD, MIN, g) \
	LOAD(g)         \
	MIN(g, 0, M0)   \
	MIN(g, 1, M1)
#define Q4KMINS3(LOAD, MIN, g) \
	Q4KMINS2(LOAD, MIN, g) \
	MIN(g, 2, M2)
#define Q4KMINS4(LOAD, MIN, g) \
	Q4KMINS3(LOAD, MIN, g) \
	MIN(g, 3, M3)

// X16PREFETCH sets R14 to how far ahead the 16-wide 2–4-row K-quant kernels prefetch
// the first pass over a tile, which streams it from memory: gemvPrefetch ahead into
// L1, or gemmX16L2Prefetch ahead into L2 where that is set; l2-16(SP) keeps the latter
// (0: the L1 path). BX clobbered.
#define X16PREFETCH \
	MOVQ    ·gemvPrefetch(SB), R14      \
	MOVQ    ·gemmX16L2Prefetch(SB), BX  \
	MOVQ    BX, l2-16(SP)               \
	TESTQ   BX, BX                      \
	CMOVQNE BX, R14

// KNPF keeps the 2–4-row kernels' last argument, pf []byte (the caller's next tile, or
// this pass's share of it), as the lines left to prefetch: pfp-24(SP) up to
// pfend-32(SP). BX clobbered.
#define KNPF \
	MOVQ pf_base+120(FP), BX \
	MOVQ BX, pfp-24(SP)      \
	ADDQ pf_len+128(FP), BX  \
	MOVQ BX, pfend-32(SP)

// KNARGS(shift) loads the 2–4-row kernels' arguments (KNPF, then YP, LDY, the
// activation rows (SETUP4), WROW, LDW scaled to the bytes of a group of 1<<shift
// rows, and the end of y's first row in yend-8(SP)). BX clobbered.
#define KNARGS(shift) \
	KNPF                     \
	MOVQ y_base+0(FP), YP    \
	MOVQ ldy+24(FP), LDY     \
	MOVQ x_base+32(FP), XR0  \
	MOVQ ldx+56(FP), BX      \
	SETUP4                   \
	MOVQ w_base+64(FP), WROW \
	MOVQ ldw+88(FP), LDW     \
	SHLQ $(shift), LDW       \
	MOVQ n+96(FP), BX        \
	LEAQ (YP)(BX*4), BX      \
	MOVQ BX, yend-8(SP)

// GEMVARGS(shift) loads the one-row kernels' arguments (YP, the end of y in
// yend-8(SP), XR0, WROW and LDW scaled to the bytes of a group of 1<<shift rows). BX
// clobbered.
#define GEMVARGS(shift) \
	MOVQ y_base+0(FP), YP    \
	MOVQ y_len+8(FP), BX     \
	LEAQ (YP)(BX*4), BX      \
	MOVQ BX, yend-8(SP)      \
	MOVQ x_base+24(FP), XR0  \
	MOVQ w_base+48(FP), WROW \
	MOVQ ldw+72(FP), LDW     \
	SHLQ $(shift), LDW

// PFNEXT1, PFNEXT2, PFNEXT4 prefetch the next 1, 2 or 4 lines of pf into L2 while any
// are left (KNPF). A tile's later passes read it from cache: without these, memory
// would idle through them and the next tile's first pass would wait for it. Each kernel
// takes about half as many lines of pf as of its own tile per step (for Q8_0 a quarter
// or as many gained less). BX clobbered.
#define PFNEXTLOAD \
	MOVQ pfp-24(SP), BX   \
	CMPQ BX, pfend-32(SP)
#define PFNEXTSTORE(n) \
	ADDQ $(64*(n)), BX \
	MOVQ BX, pfp-24(SP)
#define PFNEXT1 \
	PFNEXTLOAD      \
	JAE 4(PC)       \
	PREFETCHT2 (BX) \
	PFNEXTSTORE(1)
#define PFNEXT2 \
	PFNEXTLOAD        \
	JAE 5(PC)         \
	PREFETCHT2 (BX)   \
	PREFETCHT2 64(BX) \
	PFNEXTSTORE(2)
#define PFNEXT4 \
	PFNEXTLOAD         \
	JAE 7(PC)          \
	PREFETCHT2 (BX)    \
	PREFETCHT2 64(BX)  \
	PREFETCHT2 128(BX) \
	PREFETCHT2 192(BX) \
	PFNEXTSTORE(4)

// KNLOOP(label, BLOCK, PF, STORE): the 2–4-row kernels' blocks of a group of weight
// rows (BLOCK(PF) each, from label: a block with PF as its prefetch, the flags saying
// whether another is left), then STORE of their sums, and on to next. KNLOOPS does it
// for 4, 3 or 2 rows (the flags comparing them with 3) with BLOCK4 … BLOCK2 and
// STORE4 … STORE2, from labels lab4, lab3, lab2.
#define KNLOOP(label, BLOCK, PF, STORE) \
label:         \
	BLOCK(PF)  \
	JNZ label  \
	STORE      \
	JMP next
#define KNLOOPS(PF, BLOCK4, BLOCK3, BLOCK2, STORE4, STORE3, STORE2, lab4, lab3, lab2) \
	JEQ lab3                             \
	JLT lab2                             \
	KNLOOP(lab4, BLOCK4, PF, STORE4)     \
	KNLOOP(lab3, BLOCK3, PF, STORE3)     \
	KNLOOP(lab2, BLOCK2, PF, STORE2)

// The 4-row kernels that keep their float32 sums on the stack (the frame's top 160 bytes:
// acc0…acc3, then the KNPF slots and yend-8(SP)).
#define X8ACC0 acc0-160(SP)
#define X8ACC1 acc1-128(SP)
#define X8ACC2 acc2-96(SP)
#define X8ACC3 acc3-64(SP)

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
