//go:build gc && !purego

package kernels

// fmaLoopAVX2 runs n iterations of 12 independent 8-lane FMAs (192 flops each).
func fmaLoopAVX2(n int)

// readAVX2 reads every byte of b (len(b)%128 == 0) and returns the xor of its 64-bit
// words.
//
//go:noescape
func readAVX2(b []byte) uint64

// peakProbe runs n iterations of the FMA probe and returns the flops done (0 when the
// machine has no such probe).
func peakProbe(n int) float64 {
	if !useAVX2 {
		return 0
	}
	fmaLoopAVX2(n)
	return 192 * float64(n)
}

// readProbe reads b (len(b)%128 == 0) with vector loads; false when unavailable.
func readProbe(b []byte) (uint64, bool) {
	if !useAVX2 {
		return 0, false
	}
	raceReadBytes(b)
	return readAVX2(b), true
}
