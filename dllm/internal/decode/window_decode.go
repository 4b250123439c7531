package decode

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// WindowDecoder runs the decoding algorithms of the bidirectional families (LLaDA,
// LLaDA-MoE, Dream, RND1) on a WindowModel. These models attend over everything, so no
// cache is exact: every step recomputes the whole window, as the official code does.
// A decoder keeps scratch buffers; one goroutine at a time.
type WindowDecoder struct {
	m        WindowModel
	vocab    int
	capacity int

	logits, ulogits []float32
	row             []float64
	u64             []float64
	idx             []int
}

// NewWindow returns a decoder for a model with the given vocabulary size and context
// capacity (the longest canvas, prompt included, a forward may take).
func NewWindow(m WindowModel, vocab, capacity int) *WindowDecoder {
	return &WindowDecoder{m: m, vocab: vocab, capacity: capacity}
}

// wrun is the state shared by the family decoders during one generation.
type wrun struct {
	d   *WindowDecoder
	ctx context.Context
	c   *WindowCommon
	src Source
	lp  int
	x   []int32
	// open, when set, marks the positions still to decode (RND1 tracks them apart from
	// the tokens: a position that took the mask id as its token is decoded); otherwise a
	// position is open while it holds the mask id.
	open  []bool
	final int // output tokens final and reported
	done  bool
	start time.Time
	res   WindowResult
}

func (d *WindowDecoder) newRun(ctx context.Context, prompt []int32, genLength int, c *WindowCommon) *wrun {
	if ctx == nil {
		ctx = context.Background()
	}
	x := make([]int32, len(prompt)+genLength)
	copy(x, prompt)
	for i := len(prompt); i < len(x); i++ {
		x[i] = c.MaskID
	}
	src := c.Source
	if src == nil {
		src = NewTorchSource(c.Seed)
	}
	return &wrun{d: d, ctx: ctx, c: c, src: src, lp: len(prompt), x: x, start: time.Now()}
}

// end sets the stop reason of a finished or interrupted run and fills the result.
func (r *wrun) end(err error) (WindowResult, error) {
	if err != nil && (errors.Is(err, ErrStopped) || r.ctx.Err() != nil) {
		r.res.Reason = StopCancelled
	}
	if err == nil {
		r.advance()
		r.res.Reason = StopLength
		if r.done {
			r.res.Reason = StopToken
			if t := r.x[r.lp+r.final-1]; len(r.c.StopIDs) > 0 && t == r.c.StopIDs[0] {
				r.res.Reason = StopEOSBlock
			}
		}
	} else if r.res.Reason == StopCancelled {
		r.advance()
	}
	res := &r.res
	res.Tokens = slices.Clone(r.x[r.lp : r.lp+r.final])
	res.Canvas = slices.Clone(r.x)
	res.Stats.finish(r.start, len(res.Tokens))
	return r.res, err
}

func (r *wrun) alive() error {
	if err := r.ctx.Err(); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	return nil
}

// begin starts a forward for rows: it checks the context, counts the call and returns
// buf (grown as needed) cut to the rows' logits.
func (r *wrun) begin(rows []int, buf *[]float32) ([]float32, error) {
	if err := r.alive(); err != nil {
		return nil, err
	}
	n := len(rows) * r.d.vocab
	if cap(*buf) < n {
		*buf = make([]float32, n)
	}
	r.res.Stats.ModelCalls++
	return (*buf)[:n], nil
}

// forward runs the model on tokens for rows into buf (grown as needed).
func (r *wrun) forward(tokens []int32, rows []int, buf *[]float32) ([]float32, error) {
	out, err := r.begin(rows, buf)
	if err != nil {
		return nil, err
	}
	if err := r.d.m.Window(tokens, rows, out); err != nil {
		return nil, fmt.Errorf("decode: forward over %d positions: %w", len(tokens), err)
	}
	return out, nil
}

// cacheable says whether the model can run cache mode c.
func (d *WindowDecoder) cacheable(c CacheMode) error {
	if _, ok := d.m.(CachedWindowModel); c != CacheNone && !ok {
		return invalid("the %s cache needs a model with a cached forward (CachedWindowModel)", c)
	}
	return nil
}

// forwardCached runs a cached forward over [from, to) of the canvas (CachedWindowModel).
func (r *wrun) forwardCached(from, to int, rows []int, buf *[]float32) ([]float32, error) {
	cm, ok := r.d.m.(CachedWindowModel)
	if !ok {
		return nil, invalid("the model has no cached forward (the prefix and dual cache modes need one)")
	}
	out, err := r.begin(rows, buf)
	if err != nil {
		return nil, err
	}
	if err := cm.WindowCached(r.x, from, to, rows, out); err != nil {
		return nil, fmt.Errorf("decode: cached forward over positions [%d, %d): %w", from, to, err)
	}
	return out, nil
}

// cacheSpan is the input of step i of a block [start, end) in cache mode c: the whole
// canvas for the block's first step (which refreshes the cache) and every step without a
// cache, then the suffix (prefix cache) or the block (dual cache). It returns the golden trace's kind.
func (r *wrun) cacheSpan(c CacheMode, i, start, end int) (from, to int, kind string) {
	switch {
	case i == 0 || c == CacheNone:
		return 0, len(r.x), "full"
	case c == CachePrefix:
		return start, len(r.x), "prefix_cache_suffix"
	}
	return start, end, "dual_cache_block"
}

func (r *wrun) isStop(t int32) bool { return slices.Contains(r.c.StopIDs, t) }

// advance moves the final prefix over unmasked positions, to the end or just after the
// first stop token.
func (r *wrun) advance() {
	for !r.done && r.lp+r.final < len(r.x) {
		t := r.x[r.lp+r.final]
		if r.open != nil && r.open[r.lp+r.final] || r.open == nil && t == r.c.MaskID {
			break
		}
		r.final++
		r.done = r.isStop(t)
	}
}

// step records a step, reports it and the newly final output, and says whether the
// run is over (EOSEarlyStop).
func (r *wrun) step(ws WindowStep) (stop bool, err error) {
	st := &r.res.Stats
	if ws.Calls > 0 {
		st.Forwards++
	}
	st.Committed += len(ws.Committed)
	if len(ws.Committed) > 1 {
		st.MultiCommitSteps++
	}
	st.MaxCommitInOneStep = max(st.MaxCommitInOneStep, len(ws.Committed))
	r.res.Trace = append(r.res.Trace, ws)
	if r.c.OnStep != nil && !r.c.OnStep(WindowStepEvent{WindowStep: ws, Prompt: r.lp, Canvas: r.x[r.lp:]}) {
		return false, ErrStopped
	}
	from := r.final
	r.advance()
	if r.final > from {
		if st.TimeToFirstToken == 0 {
			st.TimeToFirstToken = time.Since(r.start)
		}
		if r.c.OnCommit != nil && !r.c.OnCommit(CommitEvent{Offset: from, Tokens: r.x[r.lp+from : r.lp+r.final]}) {
			return false, ErrStopped
		}
	}
	return r.done && r.c.EOSEarlyStop, nil
}

// masked appends to dst the masked positions of x in [from, to).
func (r *wrun) masked(dst []int, from, to int) []int {
	dst = dst[:0]
	for p := from; p < to; p++ {
		if r.x[p] == r.c.MaskID {
			dst = append(dst, p)
		}
	}
	return dst
}

// rankOrder sorts cand (indices into pos/conf) by decreasing confidence, ties to the
// lower position: torch.topk's order for distinct values, and a fixed one for ties.
func rankOrder(cand []int, pos []int, conf []float64) {
	slices.SortStableFunc(cand, func(a, b int) int {
		if c := cmp.Compare(conf[b], conf[a]); c != 0 {
			return c
		}
		return pos[a] - pos[b]
	})
}

// softmaxProb returns the softmax probability of entry k of z, in float64.
func softmaxProb(z []float64, k int) float64 {
	m := math.Inf(-1)
	for _, v := range z {
		m = max(m, v)
	}
	var s float64
	for _, v := range z {
		s += math.Exp(v - m)
	}
	return math.Exp(z[k]-m) / s
}

// argmax64 is the first index of the largest value (torch.argmax on CPU).
func argmax64(z []float64) int {
	best := 0
	for i, v := range z {
		if v > z[best] {
			best = i
		}
	}
	return best
}

func grow64(b []float64, n int) []float64 {
	if cap(b) < n {
		return make([]float64, n)
	}
	return b[:n]
}
