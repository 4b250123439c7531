//go:build !race

package kernels

const raceEnabled = false

// Without the race detector the annotations compile to nothing.

func raceReadF32([]float32)  {}
func raceWriteF32([]float32) {}
func raceReadBytes([]byte)   {}
func raceWriteBytes([]byte)  {}
func raceReadI8([]int8)      {}
func raceReadI16([]int16)    {}
