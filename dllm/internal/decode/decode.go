// Package decode is block-diffusion decoding for LLaDA2.x: the canvas, the LLaDA2.0
// threshold policy, the LLaDA2.1 joint-threshold edit policy, the stop rules, and the
// driver of an exact block KV cache (llada2-spec.md §3–4).
//
// The decoder owns the canvas; the model is a pure function of (tokens, positions, cache)
// → logits. Positions are absolute and blocks are aligned to position 0, so the first
// decoded block, ⌊Lp/B⌋, holds the tail of the prompt. Under the block-causal mask the
// keys and values of a finished block never change, which makes caching exact: the whole
// prompt blocks are prefilled once, each step runs only the current block against the
// cache, and a block's K/V are written with one extra forward when it is final. NoCache
// recomputes the window every step as the reference does; both give the same tokens.
//
// The bidirectional families (LLaDA, LLaDA-MoE, Dream, RND1) attend over everything, so
// no cache is exact for them: WindowDecoder drives a WindowModel over the whole canvas
// every step, with the published algorithms (GenerateLLaDA: ML-GSAI generate and
// Fast-dLLM's threshold variant; GenerateDream: Dream's diffusion_generate and Fast-dLLM's
// confidence_threshold; GenerateRND1: RND1's diffusion_sample, entropy schedule or
// entropy-bounded) and llama-diffusion-cli's loop (GenerateLlamaCpp), drawing
// randomness from a Source that can reproduce torch's seeded runs.
package decode

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/dllm-go/dllm/dllm/internal/sample"
)

// Model is the part of *arch.State the decoder drives: a KV cache of committed
// positions and a forward pass over a run of tokens placed right after them.
type Model interface {
	// Len is the number of committed positions in the cache.
	Len() int
	// Truncate drops committed positions from n on.
	Truncate(n int) error
	// Forward runs tokens at absolute positions Len()… under the block-causal mask of
	// size block (inside the run, query i sees key j iff ⌊pos_j/block⌋ ≤ ⌊pos_i/block⌋),
	// against the whole cache. commit appends the run's K/V to the cache. logits receives
	// len(rows)·vocab floats: the rows of the run listed in rows, in that order.
	Forward(tokens []int32, block int, commit bool, rows []int, logits []float32) error
}

// PartialModel is a Model that can also run the approximate in-block cached forward
// (Options.BlockCache): *arch.State.
type PartialModel interface {
	Model
	// ForwardPartial runs only the run indices listed in run (ascending) of tokens at
	// absolute positions Len()…, their queries seeing the cache, their own fresh keys
	// and values and, for the run's other positions, those the last Forward of the same
	// run (not committed) and the ForwardPartial calls since left there. rows are run
	// indices among run; logits receives theirs in that order. Nothing is committed.
	ForwardPartial(tokens []int32, block int, run, rows []int, logits []float32) error
}

// ParallelModel is a Model that lends its threads between forwards (*arch.State): the
// decoder samples a step's rows on them.
type ParallelModel interface {
	Model
	// Run calls fn(0) … fn(n−1), in parallel as it may, and returns when all are done.
	Run(n int, fn func(i int))
}

// Decoder generates with one Model (one KV cache). It keeps scratch buffers between
// generations, so it must be used by one goroutine at a time; decoders on separate
// states of a shared model may run concurrently.
type Decoder struct {
	m        Model
	vocab    int
	capacity int
	maxBlock int

	canvas []int32
	logits []float32
	rows   []int     // run-row indices passed to Forward
	pos    []int     // absolute positions of the rows
	tok    []int32   // sampled token per row
	conf   []float32 // its confidence
	cpos   []int     // 2.1: masked positions among the rows …
	cconf  []float32 // … their confidences …
	ctok   []int32   // … and tokens
	picked []int
	order  []int
	old    []int32 // 2.1: the block before the step
	kvTok  []int32 // block cache: the token each block position's K/V were computed with
	run    []int   // block cache: the block's rows a partial forward runs
}

// New returns a decoder for a model with the given vocabulary size, context capacity
// (the number of positions its state can hold) and longest forward run (the largest
// block length it can decode).
func New(m Model, vocab, capacity, maxBlock int) *Decoder {
	return &Decoder{m: m, vocab: vocab, capacity: capacity, maxBlock: maxBlock}
}

// Generate decodes one prompt. On success the error is nil and Result.Reason says why it
// ended. If OnStep/OnCommit stop it, the error is ErrStopped; if ctx ends, ctx.Err()
// (wrapped); both come with the partial Result and Reason StopCancelled. The context is
// checked before every forward, so cancellation takes effect within one forward. A
// failed forward returns its error with the partial Result and an empty Reason.
func (d *Decoder) Generate(ctx context.Context, prompt []int32, o Options) (Result, error) {
	if err := o.validate(prompt, d.vocab, d.capacity, d.maxBlock); err != nil {
		return Result{}, err
	}
	if _, ok := d.m.(PartialModel); o.BlockCache && !ok {
		return Result{}, invalid("the model has no partial forward: no block cache")
	}
	if ctx == nil {
		ctx = context.Background()
	}
	smp, err := sample.New(o.Sampling, sample.NewRand(o.Seed))
	if err != nil {
		return Result{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	r := d.newRun(ctx, prompt, &o, smp)
	err = r.generate()
	if err != nil && (errors.Is(err, ErrStopped) || ctx.Err() != nil) {
		r.res.Reason = StopCancelled
	}
	r.finish()
	return r.res, err
}

// run is the state of one generation.
type run struct {
	d      *Decoder
	ctx    context.Context
	o      *Options
	smp    *sample.Sampler
	stops  []int32
	sched  []int // 2.0 transfer schedule
	lp, bl int   // prompt length, block length
	nb     int   // blocks in the canvas
	first  int   // first decoded block
	x      []int32
	w      int // current window end
	final  int // output tokens final so far (emitted)
	done   bool
	start  time.Time
	res    Result
}

func (d *Decoder) newRun(ctx context.Context, prompt []int32, o *Options, smp *sample.Sampler) *run {
	lp, bl := len(prompt), o.BlockLength
	nb := (lp + o.GenLength + bl - 1) / bl
	total := nb * bl
	d.canvas = growI32(d.canvas, total)
	x := d.canvas
	copy(x, prompt)
	for i := lp; i < total; i++ {
		x[i] = o.MaskID
	}
	d.logits = growF32(d.logits, bl*d.vocab)
	d.rows, d.pos, d.cpos = growInt(d.rows, bl), growInt(d.pos, bl), growInt(d.cpos, bl)
	d.picked, d.order = growInt(d.picked, bl), growInt(d.order, bl)
	d.tok, d.ctok, d.old = growI32(d.tok, bl), growI32(d.ctok, bl), growI32(d.old, bl)
	d.kvTok, d.run = growI32(d.kvTok, bl), growInt(d.run, bl)
	d.conf, d.cconf = growF32(d.conf, bl), growF32(d.cconf, bl)

	r := &run{d: d, ctx: ctx, o: o, smp: smp, lp: lp, bl: bl, nb: nb, first: lp / bl, x: x, start: time.Now()}
	r.w = (r.first + 1) * bl
	r.stops = o.StopIDs
	if len(r.stops) == 0 {
		r.stops = []int32{o.EOSID}
	}
	if o.Variant == V20 {
		r.sched = Schedule(bl, effectiveSteps(o))
	}
	return r
}

func (r *run) isStop(t int32) bool { return slices.Contains(r.stops, t) }

// firstStop returns the first position in [from, to) holding a stop token, or -1.
func (r *run) firstStop(from, to int) int {
	for p := from; p < to; p++ {
		if r.isStop(r.x[p]) {
			return p
		}
	}
	return -1
}

func (r *run) hasMask(from, to int) bool {
	return slices.Contains(r.x[from:to], r.o.MaskID)
}

// reason names a stop on the token at p by the mechanism that saw it.
func (r *run) reason(p int, eos StopReason) StopReason {
	if r.x[p] == r.o.EOSID {
		return eos
	}
	return StopToken
}

func (r *run) generate() error {
	if err := r.prefill(); err != nil {
		return err
	}
	for b := r.first; b < r.nb; b++ {
		r.w = (b + 1) * r.bl
		r.res.Blocks = append(r.res.Blocks, b)
		if !r.o.NoCache && r.d.m.Len() != b*r.bl {
			return fmt.Errorf("decode: model state holds %d positions at the start of block %d, want %d", r.d.m.Len(), b, b*r.bl)
		}
		var stop StopReason
		var err error
		if r.o.Variant == V21 {
			stop, err = r.block21(b)
		} else {
			stop, err = r.block20(b)
		}
		if err != nil {
			return err
		}
		if stop != "" {
			r.res.Reason = stop
			return nil
		}
		if b+1 < r.nb && !r.o.NoCache {
			if err := r.commitBlock(b); err != nil {
				return err
			}
		}
	}
	r.res.Reason = StopLength
	return nil
}

// prefill writes the K/V of the whole prompt blocks before the first decoded block, in
// one batched forward, keeping whole blocks the caller says are already cached.
func (r *run) prefill() error {
	if r.o.NoCache {
		return nil
	}
	m := r.d.m
	end := r.first * r.bl
	keep := min(r.o.ReusePrefix, m.Len(), end) / r.bl * r.bl
	if err := m.Truncate(keep); err != nil {
		return fmt.Errorf("decode: truncating the cache to %d: %w", keep, err)
	}
	r.res.Stats.ReusedTokens = keep
	if end == keep {
		return nil
	}
	if err := r.alive(); err != nil {
		return err
	}
	r.res.Stats.ModelCalls++
	r.res.Stats.PrefillTokens = end - keep
	if err := m.Forward(r.x[keep:end], r.bl, true, nil, nil); err != nil {
		return fmt.Errorf("decode: prefill of positions %d..%d: %w", keep, end-1, err)
	}
	return nil
}

// commitBlock writes the K/V of a final block into the cache.
func (r *run) commitBlock(b int) error {
	if err := r.alive(); err != nil {
		return err
	}
	r.res.Stats.ModelCalls++
	if err := r.d.m.Forward(r.x[b*r.bl:(b+1)*r.bl], r.bl, true, nil, nil); err != nil {
		return fmt.Errorf("decode: committing block %d: %w", b, err)
	}
	return nil
}

func (r *run) alive() error {
	if err := r.ctx.Err(); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	return nil
}

// forward runs the current block for the absolute positions in d.pos[:n] and samples
// each of them into d.tok / d.conf. With the block cache, step s of the block is a full
// forward when s is 0 or a multiple of Refresh, else a partial one over the masked rows,
// the rows filled since their K/V were computed and their neighbours within Vicinity.
func (r *run) forward(b, s, n int) error {
	if err := r.alive(); err != nil {
		return err
	}
	d, m, start := r.d, r.d.m, b*r.bl
	rows, logits := d.rows[:n], d.logits[:n*d.vocab]
	var tokens []int32
	if r.o.NoCache {
		// The reference: the whole window from an empty cache, last-block rows.
		if err := m.Truncate(0); err != nil {
			return fmt.Errorf("decode: truncating the cache: %w", err)
		}
		tokens = r.x[:r.w]
		copy(rows, d.pos[:n])
	} else {
		tokens = r.x[start:r.w]
		for i, p := range d.pos[:n] {
			rows[i] = p - start
		}
	}
	r.res.Stats.ModelCalls++
	if r.o.BlockCache && s > 0 && (r.o.Refresh == 0 || s%r.o.Refresh != 0) {
		// The rows to run: the candidates (they need logits: with a Window, the masked
		// rows up to the last of d.pos[:n]), those filled since their K/V were computed,
		// and those within Vicinity of such a fill (dInfer's vicinity refresh: a new token
		// changes its neighbours' K/V the most).
		run, last := d.run[:0], d.pos[n-1]-start
		for i, t := range tokens {
			need := (t == r.o.MaskID && i <= last) || t != d.kvTok[i]
			for j := max(0, i-r.o.Vicinity); j <= min(len(tokens)-1, i+r.o.Vicinity) && !need; j++ {
				need = tokens[j] != d.kvTok[j]
			}
			if need {
				run = append(run, i)
			}
		}
		for _, i := range run {
			d.kvTok[i] = tokens[i]
		}
		r.res.Stats.PartialForwards++
		r.res.Stats.RowsComputed += len(run)
		if err := m.(PartialModel).ForwardPartial(tokens, r.bl, run, rows, logits); err != nil {
			return fmt.Errorf("decode: partial forward of block %d: %w", b, err)
		}
	} else {
		r.res.Stats.RowsComputed += len(tokens)
		if err := m.Forward(tokens, r.bl, false, rows, logits); err != nil {
			return fmt.Errorf("decode: forward of block %d: %w", b, err)
		}
		if r.o.BlockCache {
			copy(d.kvTok, tokens)
		}
	}
	var run func(int, func(int))
	if pm, ok := m.(ParallelModel); ok {
		run = pm.Run
	}
	r.smp.SampleRows(logits, d.tok[:n], d.conf[:n], run)
	return nil
}

// block20 decodes block b with the LLaDA2.0 threshold policy. It returns a non-empty
// reason when generation ends after (or inside) this block.
func (r *run) block20(b int) (StopReason, error) {
	d, o, start := r.d, r.o, b*r.bl
	for s := range r.sched {
		masked := 0
		for p := start; p < r.w; p++ {
			if r.x[p] == o.MaskID {
				d.pos[masked] = p
				masked++
			}
		}
		if masked == 0 {
			break
		}
		n := masked // the candidates: d.pos[:n]
		if o.Window > 0 {
			n = min(masked, max(o.Window, r.sched[s]))
		}
		if err := r.forward(b, s, n); err != nil {
			return "", err
		}
		picked, above, fb := pickTransfer(d.pos[:n], d.conf[:n], o.Threshold, r.sched[s], d.picked, d.order)
		ts := TraceStep{Variant: V20, Block: b, Step: s, Window: r.w, Masked: masked, Above: above,
			Scheduled: r.sched[s], Fallback: fb, Committed: make([]Commit, len(picked))}
		hitStop := false
		for i, k := range picked {
			p, t := d.pos[k], d.tok[k]
			r.x[p] = t
			ts.Committed[i] = Commit{Pos: p, Token: t, Conf: d.conf[k]}
			hitStop = hitStop || r.isStop(t)
		}
		if err := r.step(ts); err != nil {
			return "", err
		}
		if err := r.emit(); err != nil {
			return "", err
		}
		if o.EOSEarlyStop && hitStop {
			// The reference searches x[0:W] from 0; generated positions only here, so a
			// stop token inside the prompt cannot end generation before it starts.
			if e := r.firstStop(r.lp, r.w); e >= 0 && !r.hasMask(r.lp, e) {
				return r.reason(e, StopEOSEarly), nil
			}
		}
	}
	if e := r.firstStop(r.lp, r.w); e >= 0 {
		return r.reason(e, StopEOSBlock), nil
	}
	return "", nil
}

// block21 decodes block b with the LLaDA2.1 joint-threshold policy: commits and edits
// until an iteration without masks changes nothing, or MaxPostSteps such iterations ran.
func (r *run) block21(b int) (StopReason, error) {
	d, o, start := r.d, r.o, b*r.bl
	post := 0
	for s := 0; ; s++ {
		old := d.old[:r.bl]
		copy(old, r.x[start:r.w])
		masked, n := 0, 0
		for p := start; p < r.w; p++ {
			isMask := r.x[p] == o.MaskID
			if isMask {
				masked++
			}
			if isMask || p >= r.lp { // prompt positions are never edited: no logits needed
				d.pos[n] = p
				n++
			}
		}
		if masked == 0 {
			post++
		}
		if post > o.MaxPostSteps {
			break
		}
		if err := r.forward(b, s, n); err != nil {
			return "", err
		}
		ts := TraceStep{Variant: V21, Block: b, Step: s, PostStep: post, Window: r.w, Masked: masked}
		// Mask→token.
		var picked []int
		nc := 0
		for i := range n {
			if old[d.pos[i]-start] == o.MaskID {
				d.cpos[nc], d.cconf[nc], d.ctok[nc] = d.pos[i], d.conf[i], d.tok[i]
				nc++
			}
		}
		if nc > 0 {
			picked, ts.Above, ts.Fallback = pickTransfer(d.cpos[:nc], d.cconf[:nc], o.Threshold, o.NumToTransfer, d.picked, d.order)
			ts.Committed = make([]Commit, len(picked))
			for i, k := range picked {
				ts.Committed[i] = Commit{Pos: d.cpos[k], Token: d.ctok[k], Conf: d.cconf[k]}
			}
		}
		// Token→token, decided on the same forward, against the block before the step.
		for i := range n {
			p := d.pos[i]
			if was := old[p-start]; was != o.MaskID && p >= r.lp && d.tok[i] != was && float64(d.conf[i]) > o.EditThreshold {
				ts.Edited = append(ts.Edited, Edit{Pos: p, Old: was, New: d.tok[i], Conf: d.conf[i]})
			}
		}
		for _, c := range ts.Committed {
			r.x[c.Pos] = c.Token
		}
		for _, e := range ts.Edited {
			r.x[e.Pos] = e.New
		}
		if err := r.step(ts); err != nil {
			return "", err
		}
		if masked == 0 && len(ts.Edited) == 0 {
			break
		}
	}
	// Edits stay possible until the block ends, so its tokens become final only now.
	if err := r.emit(); err != nil {
		return "", err
	}
	if o.EOSEarlyStop && !r.hasMask(r.lp, r.w) {
		if e := r.firstStop(r.lp, r.w); e >= 0 {
			return r.reason(e, StopEOSEarly), nil
		}
	}
	return "", nil
}

// step records a decoding forward and reports it to OnStep.
func (r *run) step(ts TraceStep) error {
	st := &r.res.Stats
	st.Forwards++
	st.Committed += len(ts.Committed)
	st.Edits += len(ts.Edited)
	if len(ts.Committed) > 1 {
		st.MultiCommitSteps++
	}
	if ts.Fallback {
		st.FallbackSteps++
	}
	st.MaxCommitInOneStep = max(st.MaxCommitInOneStep, len(ts.Committed))
	r.res.Trace = append(r.res.Trace, ts)
	if r.o.OnStep == nil {
		return nil
	}
	start := ts.Block * r.bl
	if !r.o.OnStep(StepEvent{TraceStep: ts, BlockStart: start, Prompt: r.lp, Canvas: r.x[start:r.w]}) {
		return ErrStopped
	}
	return nil
}

// emit advances the final prefix of the output over positions that are no longer masked
// (the caller knows they cannot change) and reports the new piece to OnCommit. The output
// ends at GenLength or just after the first stop token.
func (r *run) emit() error {
	from := r.final
	r.advance()
	if r.final == from {
		return nil
	}
	if r.res.Stats.TimeToFirstToken == 0 {
		r.res.Stats.TimeToFirstToken = time.Since(r.start)
	}
	if r.o.OnCommit != nil && !r.o.OnCommit(CommitEvent{Offset: from, Tokens: r.x[r.lp+from : r.lp+r.final]}) {
		return ErrStopped
	}
	return nil
}

// advance moves the final prefix over unmasked positions up to the window, GenLength or
// just after the first stop token.
func (r *run) advance() {
	limit := min(r.w, r.lp+r.o.GenLength)
	for !r.done && r.lp+r.final < limit {
		t := r.x[r.lp+r.final]
		if t == r.o.MaskID {
			break
		}
		r.final++
		r.done = r.isStop(t)
	}
}

func (r *run) finish() {
	res := &r.res
	if res.Reason == StopCancelled && r.o.Variant == V20 {
		// Committed 2.0 tokens are final even if the stop came before OnCommit saw them.
		r.advance()
	}
	res.Tokens = slices.Clone(r.x[r.lp : r.lp+r.final])
	res.Canvas = slices.Clone(r.x[:r.w])
	if !r.o.NoCache {
		res.Cached = r.d.m.Len()
	}
	res.Stats.finish(r.start, len(res.Tokens))
}

func growI32(b []int32, n int) []int32 {
	if cap(b) < n {
		return make([]int32, n)
	}
	return b[:n]
}

func growF32(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n)
	}
	return b[:n]
}

func growInt(b []int, n int) []int {
	if cap(b) < n {
		return make([]int, n)
	}
	return b[:n]
}
