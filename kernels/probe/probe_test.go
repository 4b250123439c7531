package probe

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// TestRead checks the read probe really reads every byte: its result is the xor of
// the buffer's 64-bit words.
func TestRead(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 128, 256, 128 * 37} {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		got, ok := Read(b, 512)
		if !ok {
			t.Skip("no read probe in this build")
		}
		var want uint64
		for i := 0; i < n; i += 8 {
			want ^= binary.LittleEndian.Uint64(b[i:])
		}
		if got != want {
			t.Errorf("Read(%d bytes) = %#x, want %#x", n, got, want)
		}
	}
}

func TestMeasure(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about a second")
	}
	l := Measure(1)
	t.Logf("1 thread: %+v", l)
	if FMA(1) > 0 && l.GFLOPS <= 0 {
		t.Errorf("GFLOPS = %v with an FMA probe", l.GFLOPS)
	}
	if Int8(1) > 0 && l.Int8GOPS <= 0 {
		t.Errorf("Int8GOPS = %v with an int8 probe", l.Int8GOPS)
	}
	if _, ok := Read(nil, 0); ok && l.GBps <= 0 {
		t.Errorf("GBps = %v with a read probe", l.GBps)
	}
}
