// Shared by the Q6_K kernels of the repacked layouts (gemm_q6kx8_amd64.s on AVX2,
// gemm_q6kx16_vnni_amd64.s on AVX-512): the steps of 1 … 4 activation rows and the walk
// over a super-block, in terms of each file's own steps:
//
//	Q6UNPACK(g, shuf)        group g's quants into C0…C3, its scale into SC
//	Q6ROW(g, xr, isum)       isum += sc_g·Σ q·x over group g of row xr
//	Q6PAIRS(t)               the scales of pair t into SC
//	Q6MIN0(xr, m), Q6MIN(t, xr, m)  start or add to row xr's Σ sc·bsum
//	Q6FIN(xr, isum, m, acc)  the super-block's float step of row xr, SC holding d
//	Q6LOADD                  d of the rows into SC
//	Q6ZERO(r)                r = 0
//	Q6ACC0 … Q6ACC3          the float32 sums of the rows
//	Q6BLOCKBYTES             the super-block's bytes (a const_ name)

// Q6GROUP1(g, shuf) … Q6GROUP4(g, shuf) unpack group g and add it into each row's sum;
// Q6MINS01 … Q6MINS04 and Q6MINS1(t) … Q6MINS4(t) start or add to the rows' Σ sc·bsum
// with the scales of pair t; Q6FIN2 … Q6FIN4 end the super-block; Q6START2 …
// Q6START4 zero the rows' integer sums.
#define Q6GROUP1(g, shuf) \
	Q6UNPACK(g, shuf) \
	Q6ROW(g, XR0, I0)
#define Q6GROUP2(g, shuf) \
	Q6GROUP1(g, shuf) \
	Q6ROW(g, XR1, I1)
#define Q6GROUP3(g, shuf) \
	Q6GROUP2(g, shuf) \
	Q6ROW(g, XR2, I2)
#define Q6GROUP4(g, shuf) \
	Q6GROUP3(g, shuf) \
	Q6ROW(g, XR3, I3)
#define Q6MINS01 \
	Q6MIN0(XR0, C0)
#define Q6MINS02 \
	Q6MINS01 \
	Q6MIN0(XR1, C1)
#define Q6MINS03 \
	Q6MINS02 \
	Q6MIN0(XR2, C2)
#define Q6MINS04 \
	Q6MINS03 \
	Q6MIN0(XR3, C3)
#define Q6MINS1(t) \
	Q6PAIRS(t) \
	Q6MIN(t, XR0, C0)
#define Q6MINS2(t) \
	Q6MINS1(t) \
	Q6MIN(t, XR1, C1)
#define Q6MINS3(t) \
	Q6MINS2(t) \
	Q6MIN(t, XR2, C2)
#define Q6MINS4(t) \
	Q6MINS3(t) \
	Q6MIN(t, XR3, C3)
#define Q6FIN2 \
	Q6LOADD \
	Q6FIN(XR0, I0, C0, Q6ACC0) \
	Q6FIN(XR1, I1, C1, Q6ACC1)
#define Q6FIN3 \
	Q6FIN2 \
	Q6FIN(XR2, I2, C2, Q6ACC2)
#define Q6FIN4 \
	Q6FIN3 \
	Q6FIN(XR3, I3, C3, Q6ACC3)
#define Q6START2 \
	Q6ZERO(I0) \
	Q6ZERO(I1)
#define Q6START3 \
	Q6START2 \
	Q6ZERO(I2)
#define Q6START4 \
	Q6START3 \
	Q6ZERO(I3)

// Q6BLOCK(PF, GROUP, MINS0, MINS): a super-block's 16 groups, each after its prefetch
// PF(g) (each file's Q6PF: group g's share of the super-block), then the scales
// against the activation sums.
#define Q6BLOCK(PF, GROUP, MINS0, MINS) \
	PF(0)            \
	GROUP(0, $0xA0)  \
	PF(1)            \
	GROUP(1, $0xF5)  \
	PF(2)            \
	GROUP(2, $0xA0)  \
	PF(3)            \
	GROUP(3, $0xF5)  \
	PF(4)            \
	GROUP(4, $0xA0)  \
	PF(5)            \
	GROUP(5, $0xF5)  \
	PF(6)            \
	GROUP(6, $0xA0)  \
	PF(7)            \
	GROUP(7, $0xF5)  \
	PF(8)            \
	GROUP(8, $0xA0)  \
	PF(9)            \
	GROUP(9, $0xF5)  \
	PF(10)           \
	GROUP(10, $0xA0) \
	PF(11)           \
	GROUP(11, $0xF5) \
	PF(12)           \
	GROUP(12, $0xA0) \
	PF(13)           \
	GROUP(13, $0xF5) \
	PF(14)           \
	GROUP(14, $0xA0) \
	PF(15)           \
	GROUP(15, $0xF5) \
	Q6PAIRS(0)       \
	MINS0            \
	MINS(1)          \
	MINS(2)          \
	MINS(3)          \
	MINS(4)          \
	MINS(5)          \
	MINS(6)          \
	MINS(7)

// Q6NEXT steps to the next super-block; the flags say whether one is left.
#define Q6NEXT \
	ADDQ $Q6BLOCKBYTES, WP          \
	ADDQ $const_q8KBlockBytes, XOFF \
	DECQ BLEFT
