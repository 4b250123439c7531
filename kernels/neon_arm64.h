// NEON instructions the Go assembler lacks, WORD-encoded, for every arm64 kernel file.
//
// Each macro is named for its mnemonic and the arrangement of its destination (which,
// for the widening and narrowing conversions, also fixes the source's). Operands are
// register numbers in ARM order, destination first. scripts/test-arm64.sh disassembles
// the test binary and checks that each use decodes as the macro's name says.

// ---- float32 lanes (.4S) ----

// FADD Vd.4S, Vn.4S, Vm.4S: d = n + m
#define FADD_4S(d, n, m) WORD $(0x4e20d400 | (m<<16) | (n<<5) | d)
// FSUB Vd.4S, Vn.4S, Vm.4S: d = n − m
#define FSUB_4S(d, n, m) WORD $(0x4ea0d400 | (m<<16) | (n<<5) | d)
// FMUL Vd.4S, Vn.4S, Vm.4S: d = n·m
#define FMUL_4S(d, n, m) WORD $(0x6e20dc00 | (m<<16) | (n<<5) | d)
// FDIV Vd.4S, Vn.4S, Vm.4S: d = n/m
#define FDIV_4S(d, n, m) WORD $(0x6e20fc00 | (m<<16) | (n<<5) | d)
// FMAX Vd.4S, Vn.4S, Vm.4S: d = max(n, m), NaN if either is NaN
#define FMAX_4S(d, n, m) WORD $(0x4e20f400 | (m<<16) | (n<<5) | d)
// FMAXV Sd, Vn.4S: d = the largest of n's 4 lanes, NaN if any is NaN
#define FMAXV_4S(d, n) WORD $(0x6e30f800 | (n<<5) | d)
// FCMGT Vd.4S, Vn.4S, Vm.4S: d = n > m ? all ones : 0 (0 if either is NaN)
#define FCMGT_4S(d, n, m) WORD $(0x6ea0e400 | (m<<16) | (n<<5) | d)
// FCMEQ Vd.4S, Vn.4S, Vm.4S: d = n == m ? all ones : 0 (0 if either is NaN)
#define FCMEQ_4S(d, n, m) WORD $(0x4e20e400 | (m<<16) | (n<<5) | d)
// FRINTN Vd.4S, Vn.4S: d = n rounded to an integral value, ties to even
#define FRINTN_4S(d, n) WORD $(0x4e218800 | (n<<5) | d)

// ---- float64 lanes (.2D) ----

// FADD Vd.2D, Vn.2D, Vm.2D: d = n + m
#define FADD_2D(d, n, m) WORD $(0x4e60d400 | (m<<16) | (n<<5) | d)
// FMUL Vd.2D, Vn.2D, Vm.2D: d = n·m
#define FMUL_2D(d, n, m) WORD $(0x6e60dc00 | (m<<16) | (n<<5) | d)

// ---- conversions between float widths ----
// The half conversions are IEEE (FPCR.AHP = 0), round to nearest even, keep subnormals
// (FZ = 0) and quiet NaNs keeping their payload's top bits (DN = 0): Go runs with FPCR = 0.

// FCVTL Vd.4S, Vn.4H / FCVTL2 Vd.4S, Vn.8H: d[i] = float32(half n[i]) / (half n[4+i])
#define FCVTL_4S(d, n) WORD $(0x0e217800 | (n<<5) | d)
#define FCVTL2_4S(d, n) WORD $(0x4e217800 | (n<<5) | d)
// FCVTL Vd.2D, Vn.2S / FCVTL2 Vd.2D, Vn.4S: widen float32 lanes 0–1 / 2–3 to float64
#define FCVTL_2D(d, n) WORD $(0x0e617800 | (n<<5) | d)
#define FCVTL2_2D(d, n) WORD $(0x4e617800 | (n<<5) | d)
// FCVTN Vd.4H, Vn.4S / FCVTN2 Vd.8H, Vn.4S: the float32 lanes of n rounded to half, into
// lanes 0–3 of d (lanes 4–7 zeroed) / lanes 4–7 of d (lanes 0–3 kept)
#define FCVTN_4H(d, n) WORD $(0x0e216800 | (n<<5) | d)
#define FCVTN2_8H(d, n) WORD $(0x4e216800 | (n<<5) | d)
// FCVTN Vd.2S, Vn.2D / FCVTN2 Vd.4S, Vn.2D: the float64 lanes of n rounded to float32,
// into lanes 0–1 of d (lanes 2–3 zeroed) / lanes 2–3 of d (lanes 0–1 kept)
#define FCVTN_2S(d, n) WORD $(0x0e616800 | (n<<5) | d)
#define FCVTN2_4S(d, n) WORD $(0x4e616800 | (n<<5) | d)

// ---- conversions between floats and integers ----

// SCVTF Vd.4S, Vn.4S: d = float32(int32(n))
#define SCVTF_4S(d, n) WORD $(0x4e21d800 | (n<<5) | d)
// FCVTZS Vd.4S, Vn.4S: d = int32(n), rounding toward zero
#define FCVTZS_4S(d, n) WORD $(0x4ea1b800 | (n<<5) | d)
// FCVTAS Vd.4S, Vn.4S: d = int32(n) rounded to nearest, ties away from zero
#define FCVTAS_4S(d, n) WORD $(0x4e21c800 | (n<<5) | d)
// FCVTNS Vd.4S, Vn.4S: d = int32(n) rounded to nearest, ties to even
#define FCVTNS_4S(d, n) WORD $(0x4e21a800 | (n<<5) | d)

// ---- integer lanes ----

// SDOT Vd.4S, Vn.16B, Vm.16B: d[i] += Σ_{k<4} int8(n[4i+k])·int8(m[4i+k]) (FEAT_DotProd)
#define SDOT_4S(d, n, m) WORD $(0x4e809400 | (m<<16) | (n<<5) | d)
// UMAXV Sd, Vn.4S: d = the largest of n's 4 lanes as unsigned integers
#define UMAXV_4S(d, n) WORD $(0x6eb0a800 | (n<<5) | d)
// SQXTN Vd.4H, Vn.4S / SQXTN2 Vd.8H, Vn.4S: the int32 lanes of n saturated to int16,
// into lanes 0–3 of d (lanes 4–7 zeroed) / lanes 4–7 of d (lanes 0–3 kept)
#define SQXTN_4H(d, n) WORD $(0x0e614800 | (n<<5) | d)
#define SQXTN2_8H(d, n) WORD $(0x4e614800 | (n<<5) | d)
// SQXTN Vd.8B, Vn.8H / SQXTN2 Vd.16B, Vn.8H: the int16 lanes of n saturated to int8,
// into bytes 0–7 of d (8–15 zeroed) / bytes 8–15 of d (0–7 kept)
#define SQXTN_8B(d, n) WORD $(0x0e214800 | (n<<5) | d)
#define SQXTN2_16B(d, n) WORD $(0x4e214800 | (n<<5) | d)
// SADDLP Vd.8H, Vn.16B: d[i] = int16(n[2i]) + int16(n[2i+1]), the bytes signed
#define SADDLP_8H(d, n) WORD $(0x4e202800 | (n<<5) | d)
