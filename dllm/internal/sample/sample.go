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

	"github.com/dllm-go/dllm/kernels"
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

// ErrNoRNG is returned by New when sampling at T > 0 was asked for without a source of
// randomness; a hidden global RNG would make runs irreproducible.
var ErrNoRNG = errors.New("sample: temperature > 0 needs a random number generator")

// Sampler applies Params to rows of logits. It keeps scratch buffers, so one Sampler must
// not be used by two goroutines at once; it is deterministic for a given RNG state.
type Sampler struct {
	p   Params
	rng *rand.Rand

	z   []float32 // scaled, filtered logits of the current row, then its probabilities
	p2  []float32 // probabilities for top-p ranking
	idx []int     // ranked indices (top-k / top-p)
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
	n := len(logits)
	if n == 0 {
		return -1, 0
	}
	s.z = grow(s.z, n)
	z := s.z
	if s.p.Temperature > 0 {
		inv := float32(1 / s.p.Temperature)
		for i, v := range logits {
			z[i] = v * inv
		}
	} else {
		copy(z, logits)
	}
	if s.p.TopP < 1 {
		s.topP(z)
	}
	if s.p.TopK > 0 && s.p.TopK < n {
		s.topK(z)
	}
	// The argmax is taken on the logits, before rounding to probabilities can tie them.
	best := kernels.Argmax(z)
	kernels.Softmax(z) // removed tokens are −Inf: probability exactly 0
	if s.p.Temperature == 0 {
		return int32(best), z[best]
	}
	// Inverse-CDF draw in index order: one uniform variate per row.
	var total float64
	for _, q := range z {
		total += float64(q)
	}
	u := s.rng.Float64() * total
	var acc float64
	for i, q := range z {
		acc += float64(q)
		if u < acc && q > 0 {
			return int32(i), q
		}
	}
	return int32(best), z[best] // only reachable through rounding at the very end
}

// topK sets to −Inf every logit below the K-th largest. Survivors of top-p are the head of
// the distribution, so the K-th largest overall is the K-th largest survivor whenever more
// than K survive; when fewer survive the K-th largest is −Inf and nothing more goes.
// Ties with the K-th value are kept, as in the reference.
func (s *Sampler) topK(z []float32) {
	s.idx = kernels.TopK(s.idx, z, s.p.TopK)
	kth := z[s.idx[len(s.idx)-1]]
	for i, v := range z {
		if v < kth {
			z[i] = negInf
		}
	}
}

// topP keeps tokens, in order of decreasing probability, while the probability mass of the
// tokens before them is <= TopP, and sets the others to −Inf. Instead of sorting the
// vocabulary, probabilities are bucketed by their float32 bit pattern (monotone for
// non-negative floats; 8 exponent + 3 mantissa bits): whole buckets are kept from the top
// while their mass allows, and only the bucket where the mass crosses TopP is sorted.
func (s *Sampler) topP(z []float32) {
	n := len(z)
	s.p2 = grow(s.p2, n)
	prob := s.p2
	copy(prob, z)
	kernels.Softmax(prob)
	var mass [nBuckets]float64
	for _, q := range prob {
		mass[bucket(q)] += float64(q)
	}
	var acc float64 // mass of every bucket above the current one
	cut := -1       // the boundary bucket
	for b := nBuckets - 1; b >= 0; b-- {
		if acc+mass[b] > s.p.TopP {
			cut = b
			break
		}
		acc += mass[b]
	}
	if cut < 0 {
		return // every token fits in the nucleus
	}
	// Rank the boundary bucket (descending, ties to the lower index) and keep its head
	// while the mass before each token is <= TopP; the first token overall is always kept
	// because acc is then 0.
	s.idx = s.idx[:0]
	for i, q := range prob {
		if bucket(q) == cut {
			s.idx = append(s.idx, i)
		}
	}
	slices.SortFunc(s.idx, func(a, b int) int {
		switch {
		case prob[a] > prob[b]:
			return -1
		case prob[a] < prob[b]:
			return 1
		}
		return a - b
	})
	keep := 0
	for _, i := range s.idx {
		if acc > s.p.TopP {
			break
		}
		acc += float64(prob[i])
		keep++
	}
	for _, i := range s.idx[keep:] {
		z[i] = negInf
	}
	for i, q := range prob {
		if bucket(q) < cut {
			z[i] = negInf
		}
	}
}

const nBuckets = 1 << 11

// bucket maps a probability in [0, 1] to a bucket index that never decreases with it.
func bucket(q float32) int { return int(math.Float32bits(q) >> 20) }

var negInf = float32(math.Inf(-1))

func grow(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n)
	}
	return b[:n]
}
