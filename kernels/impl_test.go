package kernels

import (
	"math"
	"testing"
)

// forEachImpl runs fn once per implementation available on this machine, as a subtest
// or sub-benchmark named after it, with only that implementation (plus the generic
// fallback) enabled. (TestMain refuses to run when an implementation named in
// KERNELS_REQUIRE is missing, so that none is skipped silently.)
func forEachImpl[T testing.TB](tb T, run func(name string, fn func(T)) bool, fn func(T)) {
	for _, im := range Implementations() {
		if !im.Available {
			continue
		}
		run(im.Name, func(tb T) {
			restore, err := Use(im.Name)
			if err != nil {
				tb.Fatal(err)
			}
			defer restore()
			fn(tb)
		})
	}
}

func eachImpl(t *testing.T, fn func(t *testing.T)) { forEachImpl(t, t.Run, fn) }

func eachImplB(b *testing.B, fn func(b *testing.B)) { forEachImpl(b, b.Run, fn) }

// guarded returns a slice of n elements inside NaN guard bands, starting at offset off
// of its backing array, and a check that the guards are intact.
func guarded(t testing.TB, n, off int) ([]float32, func()) {
	const guard = 16
	buf := make([]float32, off+n+guard)
	nan := math.Float32frombits(0x7fc0dead)
	for i := range buf {
		buf[i] = nan
	}
	s := buf[off : off+n : off+n]
	clear(s)
	return s, func() {
		t.Helper()
		for i, v := range buf {
			if (i < off || i >= off+n) && math.Float32bits(v) != 0x7fc0dead {
				t.Fatalf("guard element %d (slice [%d:%d]) overwritten: %v", i, off, off+n, v)
			}
		}
	}
}

// sameBits reports whether a and b are equal or both NaN.
func sameBits(a, b float32) bool { return a == b || (a != a && b != b) }
