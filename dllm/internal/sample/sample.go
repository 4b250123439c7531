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
	"sync"

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
// not be used by two goroutines at once (SampleRows spreads its rows itself); it is
// deterministic for a given RNG state.
type Sampler struct {
	p   Params
	rng *rand.Rand

	z   []float32  // Sample's copy of its row
	one rowScratch // Sample's filter scratch

	// SampleRows' call: its rows and results, their uniform variates, the scratch of the
	// rows running at once, and rowFn, its per-row function (made once: a closure per
	// call would allocate).
	logits []float32
	toks   []int32
	confs  []float32
	us     []float64
	rows   scratchList
	rowFn  func(i int)
}

// scratchList holds the row scratch not in use (a sync.Pool would drop some under the
// race detector, and the decoder's steady state allocates nothing).
type scratchList struct {
	mu   sync.Mutex
	free []*rowScratch
}

func (l *scratchList) get() *rowScratch {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(l.free)
	if n == 0 {
		return new(rowScratch)
	}
	sc := l.free[n-1]
	l.free = l.free[:n-1]
	return sc
}

func (l *scratchList) put(sc *rowScratch) {
	l.mu.Lock()
	l.free = append(l.free, sc)
	l.mu.Unlock()
}

// rowScratch is the scratch of the filters on one row.
type rowScratch struct {
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
	s := &Sampler{p: p, rng: rng}
	s.rowFn = s.sampleRowAt
	return s, nil
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
	s.z = grow(s.z, len(logits))
	copy(s.z, logits)
	return s.sampleRow(s.z, s.draw(), &s.one)
}

// SampleRows is Sample on each of the len(toks) rows of logits (all of one length), into
// toks and confs, with the same results and the same reads of the RNG as calling Sample
// on the rows in order; it overwrites the logits. run, where not nil, runs fn(0) …
// fn(n−1), in parallel as it may (a step's rows are independent, and each is one pass
// over a vocabulary, a few percent of a step when done one after another).
func (s *Sampler) SampleRows(logits []float32, toks []int32, confs []float32, run func(n int, fn func(i int))) {
	n := len(toks)
	if n == 0 {
		return
	}
	if cap(s.us) < n {
		s.us = make([]float64, n)
	}
	s.us = s.us[:n]
	for i := range s.us { // before any row runs, so the draws keep their order
		s.us[i] = s.draw()
	}
	s.logits, s.toks, s.confs = logits, toks, confs
	if run == nil {
		for i := range n {
			s.rowFn(i)
		}
	} else {
		run(n, s.rowFn)
	}
	s.logits, s.toks, s.confs = nil, nil, nil
}

// sampleRowAt samples row i of the current SampleRows call.
func (s *Sampler) sampleRowAt(i int) {
	v := len(s.logits) / len(s.toks)
	sc := s.rows.get()
	s.toks[i], s.confs[i] = s.sampleRow(s.logits[i*v:(i+1)*v], s.us[i], sc)
	s.rows.put(sc)
}

// draw is the row's uniform variate: one per row at T > 0, none at T = 0.
func (s *Sampler) draw() float64 {
	if s.p.Temperature > 0 {
		return s.rng.Float64()
	}
	return 0
}

// sampleRow samples from the logits z, which it overwrites, with the uniform variate u
// (used at T > 0) and scratch sc.
func (s *Sampler) sampleRow(z []float32, u float64, sc *rowScratch) (tok int32, conf float32) {
	n := len(z)
	if n == 0 {
		return -1, 0
	}
	if s.p.Temperature > 0 {
		inv := float32(1 / s.p.Temperature)
		for i, v := range z {
			z[i] = v * inv
		}
	}
	if s.p.TopP < 1 {
		s.topP(z, sc)
	}
	if s.p.TopK > 0 && s.p.TopK < n {
		s.topK(z, sc)
	}
	// The argmax is taken on the logits, before rounding to probabilities can tie them.
	best := kernels.Argmax(z)
	if s.p.Temperature == 0 {
		return int32(best), kernels.SoftmaxAt(z, best) // Softmax's bits, one pass fewer
	}
	kernels.Softmax(z) // removed tokens are −Inf: probability exactly 0
	// Inverse-CDF draw in index order.
	var total float64
	for _, q := range z {
		total += float64(q)
	}
	u *= total
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
func (s *Sampler) topK(z []float32, sc *rowScratch) {
	sc.idx = kernels.TopK(sc.idx, z, s.p.TopK)
	kth := z[sc.idx[len(sc.idx)-1]]
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
func (s *Sampler) topP(z []float32, sc *rowScratch) {
	n := len(z)
	sc.p2 = grow(sc.p2, n)
	prob := sc.p2
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
	sc.idx = sc.idx[:0]
	for i, q := range prob {
		if bucket(q) == cut {
			sc.idx = append(sc.idx, i)
		}
	}
	slices.SortFunc(sc.idx, func(a, b int) int {
		switch {
		case prob[a] > prob[b]:
			return -1
		case prob[a] < prob[b]:
			return 1
		}
		return a - b
	})
	keep := 0
	for _, i := range sc.idx {
		if acc > s.p.TopP {
			break
		}
		acc += float64(prob[i])
		keep++
	}
	for _, i := range sc.idx[keep:] {
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
