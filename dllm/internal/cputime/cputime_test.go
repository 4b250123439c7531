package cputime

import (
	"runtime"
	"testing"
	"time"
)

// Spinning for a while must show up as CPU time, and the clock must not go backwards.
func TestProcessAdvances(t *testing.T) {
	c0 := Process()
	if c0 <= 0 {
		t.Fatalf("Process() = %v on %s, want > 0", c0, runtime.GOOS)
	}
	for start := time.Now(); time.Since(start) < 50*time.Millisecond; {
	}
	if c1 := Process(); c1-c0 < 10*time.Millisecond {
		t.Fatalf("50 ms of spinning added %v of CPU time, want at least 10ms", c1-c0)
	}
}
