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
