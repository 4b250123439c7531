//go:build race

package kernels

import (
	"runtime"
	"unsafe"
)

const raceEnabled = true

// Assembly memory accesses are invisible to the race detector; the Go wrappers report
// the ranges an assembly call reads and writes.

func raceReadF32(s []float32) {
	if len(s) > 0 {
		runtime.RaceReadRange(unsafe.Pointer(&s[0]), 4*len(s))
	}
}

func raceWriteF32(s []float32) {
	if len(s) > 0 {
		runtime.RaceWriteRange(unsafe.Pointer(&s[0]), 4*len(s))
	}
}

func raceReadBytes(s []byte) {
	if len(s) > 0 {
		runtime.RaceReadRange(unsafe.Pointer(&s[0]), len(s))
	}
}

func raceWriteBytes(s []byte) {
	if len(s) > 0 {
		runtime.RaceWriteRange(unsafe.Pointer(&s[0]), len(s))
	}
}

func raceReadI8(s []int8) {
	if len(s) > 0 {
		runtime.RaceReadRange(unsafe.Pointer(&s[0]), len(s))
	}
}

func raceReadI16(s []int16) {
	if len(s) > 0 {
		runtime.RaceReadRange(unsafe.Pointer(&s[0]), 2*len(s))
	}
}
