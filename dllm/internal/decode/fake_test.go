package decode

import (
	"fmt"
	"math"
	"slices"
)

// Token ids of the fake vocabulary.
const (
	fV    = 16 // vocabulary size
	fEOS  = 12
	fRole = 13 // <|role_end|>
	fMask = 14
)

// predictFn is what the fake model "believes" at absolute position p, given the tokens it
// may see there under the block-causal mask (x[0 : (⌊p/B⌋+1)·B], shorter if the run
// ends earlier): the argmax token and its softmax probability.
type predictFn func(p int, visible []int32) (tok int32, conf float64)

// fakeModel is a Model whose KV cache is the committed tokens themselves, so caching is
// exact by construction and any driver mistake (a stale or missing commit, a wrong
// offset) changes what the prediction function sees.
type fakeModel struct {
	block     int
	capacity  int
	predict   predictFn
	committed []int32

	calls     int             // Forward calls
	runs      []string        // "commit/len/rows" per call, for assertions
	beforeRun func(calls int) // called at the start of every Forward
	err       func(int) error // injected Forward failure
	quiet     bool            // no bookkeeping, no allocation (allocation tests)
	scratch   []int32
}

func newFake(block int, predict predictFn) *fakeModel {
	return &fakeModel{block: block, capacity: 1 << 12, predict: predict}
}

func (f *fakeModel) Len() int { return len(f.committed) }

func (f *fakeModel) Truncate(n int) error {
	if n < 0 || n > len(f.committed) {
		return fmt.Errorf("fake: truncate %d of %d", n, len(f.committed))
	}
	f.committed = f.committed[:n]
	return nil
}

func (f *fakeModel) Forward(tokens []int32, block int, commit bool, rows []int, logits []float32) error {
	f.calls++
	if f.beforeRun != nil {
		f.beforeRun(f.calls)
	}
	if f.err != nil {
		if err := f.err(f.calls); err != nil {
			return err
		}
	}
	if block != f.block {
		return fmt.Errorf("fake: block %d, want %d", block, f.block)
	}
	start := len(f.committed)
	if start+len(tokens) > f.capacity {
		return fmt.Errorf("fake: %d positions exceed capacity %d", start+len(tokens), f.capacity)
	}
	if len(logits) != len(rows)*fV {
		return fmt.Errorf("fake: %d logits for %d rows", len(logits), len(rows))
	}
	var full []int32
	if f.quiet {
		f.scratch = append(append(f.scratch[:0], f.committed...), tokens...)
		full = f.scratch
	} else {
		full = append(slices.Clip(f.committed), tokens...)
		f.runs = append(f.runs, fmt.Sprintf("%v/%d+%d/%d", commit, start, len(tokens), len(rows)))
	}
	for i, r := range rows {
		if r < 0 || r >= len(tokens) {
			return fmt.Errorf("fake: row %d outside the run of %d", r, len(tokens))
		}
		p := start + r
		vis := full[:min(len(full), (p/block+1)*block)]
		tok, conf := f.predict(p, vis)
		setLogits(logits[i*fV:(i+1)*fV], tok, conf)
	}
	if commit {
		f.committed = append(f.committed[:start], tokens...)
	}
	return nil
}

// setLogits writes a row whose softmax gives tok probability conf and spreads the rest
// evenly: logit L for tok, 0 elsewhere, e^L/(e^L+V−1) = conf.
func setLogits(row []float32, tok int32, conf float64) {
	for i := range row {
		row[i] = 0
	}
	row[tok] = float32(math.Log(conf * float64(len(row)-1) / (1 - conf)))
}

// hash64 mixes a sequence of ints (splitmix64 finaliser per element).
func hash64(vals ...int) uint64 {
	h := uint64(0x9e3779b97f4a7c15)
	for _, v := range vals {
		h ^= uint64(v) + 0x9e3779b97f4a7c15 + (h << 6) + (h >> 2)
		h ^= h >> 30
		h *= 0xbf58476d1ce4e5b9
		h ^= h >> 27
		h *= 0x94d049bb133111eb
		h ^= h >> 31
	}
	return h
}

// randomPredict is a deterministic pseudo-model: the prediction at p depends on p and
// every visible token, with confidences spread over (0.2, 0.9999); eosRate of positions
// predict EOS (or <|role_end|>), and unmasked positions mostly predict themselves.
func randomPredict(eosRate float64) predictFn {
	return func(p int, vis []int32) (int32, float64) {
		args := make([]int, 0, len(vis)+1)
		args = append(args, p)
		for _, t := range vis {
			args = append(args, int(t))
		}
		h := hash64(args...)
		u := float64(h>>11) / (1 << 53)
		conf := 0.2 + 0.7999*float64((h>>3)%1000)/1000
		switch {
		case u < eosRate:
			return fEOS, conf
		case u < eosRate*1.3:
			return fRole, conf
		}
		if p < len(vis) && vis[p] != fMask && (h>>20)%4 != 0 {
			return vis[p], conf
		}
		return int32((h >> 40) % 12), conf
	}
}
