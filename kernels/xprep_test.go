package kernels

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// quantizeQ8 and quantizeQ8K quantize xs's rows on the caller's goroutine, as for Q8_0
// and for Q4_K weights.
func quantizeQ8(xs *xPrep)  { xs.prepare(nil, xs.f, xs.m, xs.k, Q8_0, nil) }
func quantizeQ8K(xs *xPrep) { xs.prepare(nil, xs.f, xs.m, xs.k, Q4_K, nil) }

// TestPrepareParallel: activations prepared on a pool, their rows spread over its
// threads, come out byte for byte as prepared by the caller alone — every format, every
// activation layout of the active kernels, row counts that split evenly and not.
func TestPrepareParallel(t *testing.T) {
	pool := NewPool(3)
	defer pool.Close()
	r := rand.New(rand.NewPCG(61, 62))
	const K = 2048
	type target struct {
		f   Format
		lay *actLayout
	}
	var targets []target
	for _, f := range []Format{F32, BF16, Q8_0, Q4_0, Q4_K, Q6_K} {
		targets = append(targets, target{f, nil})
		if active.prep[f] != nil {
			targets = append(targets, target{f, active.prep[f]})
		}
		for _, k := range active.repacked[f] {
			if k.prep != nil {
				targets = append(targets, target{f, k.prep})
			}
		}
	}
	for _, M := range []int{8, 11, 32, 33} {
		x := randFloats(r, M*K)
		for i, tg := range targets {
			t.Run(fmt.Sprintf("M=%d/%s/%d", M, tg.f, i), func(t *testing.T) {
				var serial, spread xPrep
				serial.prepare(nil, x, M, K, tg.f, tg.lay)
				// Stale bytes in the spread one's buffers must all be overwritten.
				spread.q = bytes.Repeat([]byte{0xa5}, len(serial.q))[:0]
				spread.alt = bytes.Repeat([]byte{0x5a}, len(serial.alt))[:0]
				spread.packed = slices.Repeat([]float32{-1}, len(serial.packed))[:0]
				spread.prepare(pool, x, M, K, tg.f, tg.lay)
				if tasks := min(pool.Threads(), M, M*K/prepGrain); tasks < 2 {
					t.Fatalf("%d task(s): the rows were not spread", tasks)
				}
				if !bytes.Equal(spread.q, serial.q) || !bytes.Equal(spread.alt, serial.alt) ||
					!slices.Equal(spread.packed, serial.packed) {
					t.Fatalf("prepared on %d threads differs from one thread", pool.Threads())
				}
			})
		}
	}
}
