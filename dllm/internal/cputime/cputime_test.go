package cputime

import (
	"runtime"
	"testing"
	"time"
)

// Spinning for a while must show up as CPU time. (Windows counts it in clock ticks of up
// to 15.6 ms, hence the wide margin.)
func TestProcessAdvances(t *testing.T) {
	c0 := Process()
	for start := time.Now(); time.Since(start) < 50*time.Millisecond; {
	}
	if c1 := Process(); c1-c0 < 10*time.Millisecond {
		t.Fatalf("50 ms of spinning added %v of CPU time on %s, want at least 10ms", c1-c0, runtime.GOOS)
	}
}
