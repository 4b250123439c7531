//go:build gc && !purego

package probe

import "golang.org/x/sys/cpu"

var hasAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

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
