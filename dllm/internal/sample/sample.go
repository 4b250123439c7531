// Package sample turns one row of logits into a token and a confidence, the two numbers
// block-diffusion decoding needs per position (llada2-spec.md §3.4).
//
// The rule is the one of the reference generate(): scale by 1/temperature when T > 0, keep
// the nucleus (top-p), then the top-k logits, take the softmax over what is left, and either
// draw from it (T > 0) or take its argmax (T = 0). The confidence is the probability of the
// chosen token under that same softmax, because the decoding policies compare it with their
// thresholds. Argmax at T = 0 follows the fixed reference code (quirk Q1 in the spec), not
// the early file that sampled at T = 1.
package sample

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Params selects the sampling rule.
type Params struct {
	// Temperature scales the logits by 1/T before the softmax; 0 means argmax (greedy).
	Temperature float64
	// TopK keeps only the K largest logits (ties with the K-th are kept, as in the
	// reference); 0 disables the filter.
	TopK int
	// TopP keeps the smallest prefix of tokens, sorted by probability, whose exclusive
	// cumulative probability does not exceed TopP (the first token is always kept); 1
	// disables the filter. Must lie in (0, 1].
	TopP float64
}

// Greedy is argmax with the plain softmax probability as confidence.
var Greedy = Params{Temperature: 0, TopK: 0, TopP: 1}

// Validate reports parameters the sampler cannot honour.
func (p Params) Validate() error {
	switch {
	case math.IsNaN(p.Temperature) || math.IsInf(p.Temperature, 0) || p.Temperature < 0:
		return fmt.Errorf("sample: temperature %v must be a finite number >= 0", p.Temperature)
	case p.TopK < 0:
		return fmt.Errorf("sample: top-k %d must be >= 0 (0 disables it)", p.TopK)
	case math.IsNaN(p.TopP) || p.TopP <= 0 || p.TopP > 1:
		return fmt.Errorf("sample: top-p %v must lie in (0, 1] (1 disables it)", p.TopP)
	}
	return nil
}

// filtered reports whether top-k or top-p can remove tokens.
func (p Params) filtered() bool { return p.TopK > 0 || p.TopP < 1 }

// ErrNoRNG is returned by New when sampling at T > 0 was asked for without a source of
// randomness; a hidden global RNG would make runs irreproducible.
var ErrNoRNG = errors.New("sample: temperature > 0 needs a random number generator")

// Sampler applies Params to rows of logits. It keeps scratch buffers, so one Sampler must
// not be used by two goroutines at once; it is deterministic for a given RNG state.
type Sampler struct {
	p   Params
	rng *rand.Rand

	z    []float32 // scaled logits of the current row
	keep []bool    // survivors of the filters
	idx  []int32   // candidate indices (top-k / top-p selection)
}

// New returns a sampler. rng may be nil only for Temperature == 0; it is read once per
// sampled row, in the order rows are passed to Sample.
func New(p Params, rng *rand.Rand) (*Sampler, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if p.Temperature > 0 && rng == nil {
		return nil, ErrNoRNG
	}
	return &Sampler{p: p, rng: rng}, nil
}

// NewRand is the RNG the decoder uses for a seed: PCG, so a seed names one stream on
// every platform and Go version.
func NewRand(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// Params returns the parameters the sampler was built with.
func (s *Sampler) Params() Params { return s.p }

// Sample picks a token from one row of logits and returns it with its confidence. The row
// is not modified. An empty row returns (-1, 0).
func (s *Sampler) Sample(logits []float32) (tok int32, conf float32) {
	if len(logits) == 0 {
		return -1, 0
	}
	if s.p.Temperature == 0 && !s.p.filtered() {
		return greedy(logits)
	}
	return s.general(logits)
}

// greedy is the T = 0, unfiltered path: argmax (first index on ties, like torch.max) and
// p = 1/Σ exp(l_i − l_max). The sum is taken in float64 so the confidence keeps about
// 1e-7 relative accuracy for any vocabulary size.
func greedy(logits []float32) (int32, float32) {
	best := argmax(logits)
	m := float64(logits[best])
	var sum float64
	for _, v := range logits {
		sum += math.Exp(float64(v) - m)
	}
	return int32(best), float32(1 / sum)
}

// argmax returns the first index of the largest value; NaN never wins.
func argmax(x []float32) int {
	best := 0
	for i := 1; i < len(x); i++ {
		if x[i] > x[best] || (x[best] != x[best] && x[i] == x[i]) {
			best = i
		}
	}
	return best
}

// general handles temperature and the filters. Removed tokens get probability zero (the
// reference fills them with the dtype minimum, whose exp underflows to zero).
func (s *Sampler) general(logits []float32) (int32, float32) {
	n := len(logits)
	s.z = grow(s.z, n)
	s.keep = growBool(s.keep, n)
	z, keep := s.z, s.keep
	inv := float32(1)
	if s.p.Temperature > 0 {
		inv = float32(1 / s.p.Temperature)
	}
	for i, v := range logits {
		z[i] = v * inv
		keep[i] = true
	}
	if s.p.TopP < 1 {
		s.topP(z, keep)
	}
	if s.p.TopK > 0 && s.p.TopK < n {
		s.topK(z, keep)
	}

	// Softmax over the survivors.
	best := -1
	for i := range z {
		if keep[i] && (best < 0 || z[i] > z[best]) {
			best = i
		}
	}
	m := float64(z[best])
	var sum float64
	for i, v := range z {
		if keep[i] {
			sum += math.Exp(float64(v) - m)
		}
	}
	if s.p.Temperature == 0 {
		return int32(best), float32(1 / sum)
	}
	// Inverse-CDF draw in index order: one uniform variate per row.
	u := s.rng.Float64() * sum
	var acc float64
	pick := best
	for i, v := range z {
		if !keep[i] {
			continue
		}
		e := math.Exp(float64(v) - m)
		acc += e
		if u < acc {
			pick = i
			break
		}
	}
	return int32(pick), float32(math.Exp(float64(z[pick])-m) / sum)
}

// topK clears keep for every token whose value is below the K-th largest surviving value.
// Survivors of top-p are the head of the distribution, so the K-th largest surviving value
// is the K-th largest overall whenever more than K tokens survive.
func (s *Sampler) topK(z []float32, keep []bool) {
	k, alive := s.p.TopK, 0
	for _, ok := range keep {
		if ok {
			alive++
		}
	}
	if alive <= k {
		return
	}
	s.idx = topIndices(s.idx[:0], z, k)
	kth := z[s.idx[len(s.idx)-1]]
	for i := range z {
		if keep[i] && z[i] < kth {
			keep[i] = false
		}
	}
}

// topP keeps tokens, in order of decreasing probability, while the probability mass of the
// tokens before them is <= TopP. Only the head of the distribution is sorted: candidates
// are taken in growing top-m sets until their mass passes TopP.
func (s *Sampler) topP(z []float32, keep []bool) {
	n := len(z)
	m := float64(z[argmax(z)])
	var sum float64
	for _, v := range z {
		sum += math.Exp(float64(v) - m)
	}
	limit := s.p.TopP * sum // compare unnormalised masses
	for want := min(64, n); ; want = min(want*4, n) {
		s.idx = topIndices(s.idx[:0], z, want)
		var acc float64
		for j, i := range s.idx {
			if j > 0 && acc > limit {
				// Everything from here on (and outside the head) is removed.
				s.dropExcept(keep, s.idx[:j])
				return
			}
			acc += math.Exp(float64(z[i]) - m)
		}
		if acc > limit {
			s.dropExcept(keep, s.idx) // the next token would already be past TopP
			return
		}
		if want == n {
			return // the whole vocabulary fits in the nucleus
		}
	}
}

// dropExcept clears keep everywhere except at the listed indices.
func (s *Sampler) dropExcept(keep []bool, kept []int32) {
	for i := range keep {
		keep[i] = false
	}
	for _, i := range kept {
		keep[i] = true
	}
}

// topIndices returns the indices of the k largest values of z in decreasing order of value,
// ties by increasing index (a stable descending sort, as torch.sort on CPU gives).
func topIndices(dst []int32, z []float32, k int) []int32 {
	if k >= len(z) {
		for i := range z {
			dst = append(dst, int32(i))
		}
		sortDesc(dst, z)
		return dst
	}
	// Partial selection with a bounded min-heap of size k.
	h := dst[:0]
	less := func(a, b int32) bool { // a ranks below b
		if z[a] != z[b] {
			return z[a] < z[b]
		}
		return a > b
	}
	down := func(i int) {
		for {
			l := 2*i + 1
			if l >= len(h) {
				return
			}
			c := l
			if r := l + 1; r < len(h) && less(h[r], h[l]) {
				c = r
			}
			if !less(h[c], h[i]) {
				return
			}
			h[i], h[c] = h[c], h[i]
			i = c
		}
	}
	for i := range z {
		j := int32(i)
		if len(h) < k {
			h = append(h, j)
			for c := len(h) - 1; c > 0; {
				p := (c - 1) / 2
				if !less(h[c], h[p]) {
					break
				}
				h[c], h[p] = h[p], h[c]
				c = p
			}
			continue
		}
		if less(h[0], j) {
			h[0] = j
			down(0)
		}
	}
	sortDesc(h, z)
	return h
}

func sortDesc(idx []int32, z []float32) {
	slices.SortFunc(idx, func(a, b int32) int {
		switch {
		case z[a] > z[b]:
			return -1
		case z[a] < z[b]:
			return 1
		}
		return int(a - b)
	})
}

func grow(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n)
	}
	return b[:n]
}

func growBool(b []bool, n int) []bool {
	if cap(b) < n {
		return make([]bool, n)
	}
	return b[:n]
}
