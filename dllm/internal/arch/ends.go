package arch

import "sync/atomic"

// ends hands out the items 0…n-1 of a list from both of its ends.
type ends struct{ v atomic.Uint64 } // the first unclaimed item in the low half, one past the last in the high

func (e *ends) reset(n int) { e.v.Store(uint64(n) << 32) }

// take claims the first unclaimed item (front) or the last one; ok is false when none is left.
func (e *ends) take(front bool) (i int, ok bool) {
	for {
		old := e.v.Load()
		lo, hi := uint32(old), uint32(old>>32)
		if lo >= hi {
			return 0, false
		}
		next := uint64(hi)<<32 | uint64(lo+1)
		i = int(lo)
		if !front {
			next = uint64(hi-1)<<32 | uint64(lo)
			i = int(hi - 1)
		}
		if e.v.CompareAndSwap(old, next) {
			return i, true
		}
	}
}
