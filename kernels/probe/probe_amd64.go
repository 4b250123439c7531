//go:build gc && !purego

package probe

import "golang.org/x/sys/cpu"

var hasAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// hasAVX512: 512-bit vectors. Where a core has two 512-bit units (many Xeons), they
// double its peak over 256-bit vectors; elsewhere (Zen 4) they match it.
var hasAVX512 = hasAVX2 && cpu.X86.HasAVX512F

// hasVNNI: AVX-512 VNNI, whose 512-bit VPDPBUSD the kernels' avx512vnni set uses.
var hasVNNI = hasAVX512 && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512VNNI

// int8LoopAVX2 runs n iterations of 12 independent VPMADDUBSWs (768 ops each).
func int8LoopAVX2(n int)

// int8LoopVNNI runs n iterations of 12 independent 512-bit VPDPBUSDs (1536 ops each).
func int8LoopVNNI(n int)

// Int8 runs n iterations of the 8-bit multiply-add loop of the best instruction the
// quantized kernels use here (512-bit VPDPBUSD with AVX-512 VNNI, else VPMADDUBSW) and
// returns the ops done, 2 per byte product (0 when the machine has no such probe).
func Int8(n int) float64 {
	switch {
	case hasVNNI:
		int8LoopVNNI(n)
		return 1536 * float64(n)
	case hasAVX2:
		int8LoopAVX2(n)
	default:
		return 0
	}
	return 768 * float64(n)
}

// mixQ8_0AVX2 and mixQ4_KAVX2 run n iterations of the inner loop of the avx2 set's
// repacked 2–4-row Q8_0 and Q4_K kernels: 4 chunks of 8 weight rows against 4
// activation rows (1024 ops each).
func mixQ8_0AVX2(n int)
func mixQ4_KAVX2(n int)

// MixQ8_0 and MixQ4_K run n iterations of the inner loop of the avx2 kernels for Q8_0
// and Q4_K weights, operands in L1, and return the ops done, 2 per byte product (0
// where the machine runs other kernels: with AVX-512 VNNI, or without AVX2). Against
// Int8, VPMADDUBSW alone, they are what those kernels can reach at best: an exact Q8_0
// product also takes the activations' signs (VPSIGNB) and a VPMADDWD per VPMADDUBSW
// (its pair sums fill 16 bits), a Q4_K one a VPADDW per VPMADDUBSW and its nibbles'
// masks.
func MixQ8_0(n int) float64 { return mix(mixQ8_0AVX2, n) }
func MixQ4_K(n int) float64 { return mix(mixQ4_KAVX2, n) }

// mulAddAVX2 runs n iterations of 16 VPMADDUBSWs, each followed by the VPADDW that
// adds its pair sums into an accumulator (1024 ops).
func mulAddAVX2(n int)

// MulAdd runs n iterations of VPMADDUBSWs each added into an accumulator, operands in
// registers, and returns the ops done (0 where MixQ8_0 and MixQ4_K are 0). A dot
// product on AVX2 adds every multiply's results into its sums (only VNNI multiplies
// and accumulates in one instruction), so no AVX2 int8 kernel, whatever its layout,
// runs faster than this against Int8.
func MulAdd(n int) float64 { return mix(mulAddAVX2, n) }

func mix(loop func(int), n int) float64 {
	if !hasAVX2 || hasVNNI {
		return 0
	}
	loop(n)
	return 1024 * float64(n)
}

// fmaLoopAVX2 runs n iterations of 12 independent 8-lane FMAs (192 flops each).
func fmaLoopAVX2(n int)

// readAVX2 reads every byte of b (len(b)%128 == 0), prefetching ahead bytes on, and
// returns the xor of its 64-bit words.
//
//go:noescape
func readAVX2(b []byte, ahead int) uint64

// fmaLoopAVX512 runs n iterations of 12 independent 16-lane FMAs (384 flops each).
func fmaLoopAVX512(n int)

// FMA runs n iterations of the FMA loop on the widest vectors the machine has and
// returns the flops done (0 when the machine has no such probe).
func FMA(n int) float64 {
	switch {
	case hasAVX512:
		fmaLoopAVX512(n)
		return 384 * float64(n)
	case hasAVX2:
		fmaLoopAVX2(n)
		return 192 * float64(n)
	}
	return 0
}

// Read reads b (len(b)%128 == 0) with vector loads, prefetching ahead bytes on (0: the
// lines being read, in effect no prefetch); false when unavailable.
func Read(b []byte, ahead int) (uint64, bool) {
	if !hasAVX2 {
		return 0, false
	}
	return readAVX2(b, ahead), true
}
