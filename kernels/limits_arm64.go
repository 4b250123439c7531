//go:build gc && !purego

package kernels

// fmaLoopNEON runs n iterations of 16 independent 4-lane FMLAs (128 flops each).
func fmaLoopNEON(n int)

// readNEON reads every byte of b (len(b)%128 == 0) and returns the xor of its 64-bit
// words.
//
//go:noescape
func readNEON(b []byte) uint64

// peakProbe runs n iterations of the FMA probe and returns the flops done.
func peakProbe(n int) float64 {
	fmaLoopNEON(n)
	return 128 * float64(n)
}

// readProbe reads b (len(b)%128 == 0) with vector loads.
func readProbe(b []byte) (uint64, bool) {
	raceReadBytes(b)
	return readNEON(b), true
}
