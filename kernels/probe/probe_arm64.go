//go:build gc && !purego

package probe

import "golang.org/x/sys/cpu"

// fmaLoopNEON runs n iterations of 16 independent 4-lane FMLAs (128 flops each).
func fmaLoopNEON(n int)

// readNEON reads every byte of b (len(b)%128 == 0), prefetching ahead bytes on, and
// returns the xor of its 64-bit words.
//
//go:noescape
func readNEON(b []byte, ahead int) uint64

// FMA runs n iterations of the FMA loop and returns the flops done.
func FMA(n int) float64 {
	fmaLoopNEON(n)
	return 128 * float64(n)
}

// int8LoopSDOT runs n iterations of 16 independent SDOTs (512 ops each).
func int8LoopSDOT(n int)

// Int8 runs n iterations of the 8-bit multiply-add loop (SDOT, which the neon-dotprod
// kernels use) and returns the ops done, 2 per byte product (0 without FEAT_DotProd).
func Int8(n int) float64 {
	if !cpu.ARM64.HasASIMDDP {
		return 0
	}
	int8LoopSDOT(n)
	return 512 * float64(n)
}

// Read reads b (len(b)%128 == 0) with vector loads, prefetching ahead bytes on (0: the
// lines being read, in effect no prefetch).
func Read(b []byte, ahead int) (uint64, bool) {
	return readNEON(b, ahead), true
}

// MixQ8_0, MixQ4_K and MulAdd model the amd64 avx2 kernels: nothing here (0 ops).
func MixQ8_0(n int) float64 { return 0 }
func MixQ4_K(n int) float64 { return 0 }
func MulAdd(n int) float64  { return 0 }
