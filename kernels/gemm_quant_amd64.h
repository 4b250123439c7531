// Register names and macros shared by the amd64 quantized matrix kernels
// (gemm_q8_amd64.s, gemm_q4k_amd64.s, gemm_q6k_amd64.s): one weight row against 4 activation rows (or 1),
// with ACC0..ACC3 the float32 lane accumulators of the rows.

#define YP DX     // &y[j]
#define XR0 SI    // activation rows
#define XR1 R8
#define XR2 R9
#define XR3 R10
#define WP DI     // current weight block
#define WROW R11  // current weight row
#define XOFF AX   // byte offset of the current activation block
#define BLEFT CX  // blocks left in the row
#define LDY R12   // ldy in bytes
#define LDW R13   // ldw in bytes

#define ACC0 Y0
#define ACC1 Y1
#define ACC2 Y2
#define ACC3 Y3

// SETUP4 derives XR1..XR3 from XR0 and BX = ldx, and scales LDY to bytes.
#define SETUP4 \
	LEAQ (XR0)(BX*1), XR1 \
	LEAQ (XR1)(BX*1), XR2 \
	LEAQ (XR2)(BX*1), XR3 \
	SHLQ $2, LDY

// STORE4 adds the lane sums of ACC0..ACC3 into y[0], y[ldy], y[2ldy], y[3ldy] at YP.
#define STORE4 \
	VHADDPS ACC1, ACC0, ACC0              \
	VHADDPS ACC3, ACC2, ACC2              \
	VHADDPS ACC2, ACC0, ACC0              \
	VEXTRACTF128 $1, ACC0, X1             \
	VADDPS X1, X0, X0                     \
	LEAQ (YP)(LDY*2), BX                  \
	VMOVSS (YP), X1                       \
	VINSERTPS $0x10, (YP)(LDY*1), X1, X1  \
	VINSERTPS $0x20, (BX), X1, X1         \
	VINSERTPS $0x30, (BX)(LDY*1), X1, X1  \
	VADDPS X1, X0, X0                     \
	VMOVSS X0, (YP)                       \
	VEXTRACTPS $1, X0, (YP)(LDY*1)        \
	VEXTRACTPS $2, X0, (BX)               \
	VEXTRACTPS $3, X0, (BX)(LDY*1)

// STORE1 adds the lane sum of ACC0 into y[0] at YP, summing the lanes in the order
// STORE4 does ((a0+a1)+(a2+a3)) + ((a4+a5)+(a6+a7)), so a row's result does not depend
// on which kernel handled it.
#define STORE1 \
	VHADDPS ACC0, ACC0, ACC0  \
	VHADDPS ACC0, ACC0, ACC0  \
	VEXTRACTF128 $1, ACC0, X1 \
	VADDPS X1, X0, X0         \
	VADDSS (YP), X0, X0       \
	VMOVSS X0, (YP)
