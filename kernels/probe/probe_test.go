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

// TestMixes: where the avx2 kernels' inner loops have a probe, they run and count their
// ops per iteration (4 chunks × 4 rows × 32 byte products × 2; MulAdd's 16 multiplies
// × 32 × 2), so Peak rates them.
func TestMixes(t *testing.T) {
	for name, mix := range map[string]func(int) float64{"q8_0": MixQ8_0, "q4_k": MixQ4_K, "muladd": MulAdd} {
		if mix(0) != 0 {
			t.Errorf("%s: %v ops in 0 iterations", name, mix(0))
		}
		ops := mix(3)
		if ops == 0 {
			continue // another kernel set runs here
		}
		if ops != 3*1024 {
			t.Errorf("%s: %v ops in 3 iterations, want %d", name, ops, 3*1024)
		}
		if g := Peak(mix, 1<<10, 1); g <= 0 {
			t.Errorf("%s: Peak = %v GOP/s", name, g)
		}
	}
}
