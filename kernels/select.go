package kernels

import (
	"math"
	"sort"
)

// Argmax returns the first index of the largest element of x; NaN never wins (if every
// element is NaN the result is 0). It returns -1 for an empty x.
func Argmax(x []float32) int {
	if len(x) == 0 {
		return -1
	}
	// The maxima of chunks (in assembly where there is some) find the chunk holding the
	// first maximum; only that chunk is searched element by element. A vocabulary row is
	// ~150k logits, searched once per decoded position.
	at, bv := -1, float32(math.Inf(-1))
	for c := 0; c < len(x); c += argmaxChunk {
		if m, _ := active.maxNaN(x[c:min(c+argmaxChunk, len(x))]); m > bv {
			at, bv = c, m
		}
	}
	if at >= 0 {
		for i, v := range x[at:min(at+argmaxChunk, len(x))] {
			if v == bv {
				return at + i
			}
		}
	}
	return argmaxGeneric(x) // nothing above −Inf: the first −Inf, or 0 if all NaN
}

// argmaxChunk is how many elements one chunk maximum of Argmax covers.
const argmaxChunk = 4096

// argmaxGeneric is Argmax, one element at a time.
func argmaxGeneric(x []float32) int {
	best := -1
	var bv float32
	for i, v := range x {
		if v != v {
			continue
		}
		if best < 0 || v > bv {
			best, bv = i, v
		}
	}
	return max(best, 0)
}

// ranksAbove reports whether element i (value a) ranks before element j (value b):
// larger first, NaN after every number, ties broken by the lower index.
func ranksAbove(a float32, i int, b float32, j int) bool {
	switch {
	case a != a:
		return b != b && i < j
	case b != b:
		return true
	case a != b:
		return a > b
	}
	return i < j
}

// TopK returns the indices of the min(k, len(x)) largest elements of x in descending
// order of value, ties broken by the lower index, NaNs ranked below every number. The
// indices are appended to dst[:0].
func TopK(dst []int, x []float32, k int) []int {
	dst = dst[:0]
	k = min(k, len(x))
	if k <= 0 {
		return dst
	}
	if k > 64 {
		for i := range x {
			dst = append(dst, i)
		}
		sort.Slice(dst, func(p, q int) bool { return ranksAbove(x[dst[p]], dst[p], x[dst[q]], dst[q]) })
		return dst[:k]
	}
	// Insertion into a short sorted list: O(len(x)) for typical inputs.
	for i, v := range x {
		if len(dst) == k && !ranksAbove(v, i, x[dst[k-1]], dst[k-1]) {
			continue
		}
		if len(dst) < k {
			dst = append(dst, i)
		}
		p := len(dst) - 1
		for p > 0 && ranksAbove(v, i, x[dst[p-1]], dst[p-1]) {
			dst[p] = dst[p-1]
			p--
		}
		dst[p] = i
	}
	return dst
}
