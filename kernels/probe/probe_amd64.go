//go:build gc && !purego

package probe

import "golang.org/x/sys/cpu"

var hasAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// hasVNNI: AVX-512 VNNI on 256-bit vectors, which the kernels' avx512vnni set uses.
var hasVNNI = hasAVX2 && cpu.X86.HasAVX512F && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512VNNI

// int8LoopAVX2 runs n iterations of 12 independent VPMADDUBSWs (768 ops each).
func int8LoopAVX2(n int)

// int8LoopVNNI runs n iterations of 12 independent VPDPBUSDs (768 ops each).
func int8LoopVNNI(n int)

// Int8 runs n iterations of the 8-bit multiply-add loop of the best instruction the
// quantized kernels use here (VPDPBUSD with AVX-512 VNNI, else VPMADDUBSW) and returns
// the ops done, 2 per byte product (0 when the machine has no such probe).
func Int8(n int) float64 {
	switch {
	case hasVNNI:
		int8LoopVNNI(n)
	case hasAVX2:
		int8LoopAVX2(n)
	default:
		return 0
	}
	return 768 * float64(n)
}

// fmaLoopAVX2 runs n iterations of 12 independent 8-lane FMAs (192 flops each).
func fmaLoopAVX2(n int)

// readAVX2 reads every byte of b (len(b)%128 == 0) and returns the xor of its 64-bit
// words.
//
//go:noescape
func readAVX2(b []byte) uint64

// FMA runs n iterations of the FMA loop and returns the flops done (0 when the
// machine has no such probe).
func FMA(n int) float64 {
	if !hasAVX2 {
		return 0
	}
	fmaLoopAVX2(n)
	return 192 * float64(n)
}

// Read reads b (len(b)%128 == 0) with vector loads; false when unavailable.
func Read(b []byte) (uint64, bool) {
	if !hasAVX2 {
		return 0, false
	}
	return readAVX2(b), true
}
