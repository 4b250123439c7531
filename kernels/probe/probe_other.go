//go:build purego || !gc || !(amd64 || arm64)

package probe

// FMA has no assembly loop here: it does nothing and reports 0 flops.
func FMA(n int) float64 { return 0 }

// Int8 has no assembly loop here: it does nothing and reports 0 ops.
func Int8(n int) float64 { return 0 }

// Read has no assembly loop here.
func Read(b []byte, ahead int) (uint64, bool) { return 0, false }

// MixQ8_0 has no assembly loop here: it does nothing and reports 0 ops.
func MixQ8_0(n int) float64 { return 0 }

// MixQ4_K has no assembly loop here: it does nothing and reports 0 ops.
func MixQ4_K(n int) float64 { return 0 }

// MulAdd has no assembly loop here: it does nothing and reports 0 ops.
func MulAdd(n int) float64 { return 0 }
