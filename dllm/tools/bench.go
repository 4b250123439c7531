package tools

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/dllm-go/dllm/dllm"
	"github.com/dllm-go/dllm/dllm/internal/arch"
	"github.com/dllm-go/dllm/dllm/internal/invalid"
	"github.com/dllm-go/dllm/dllm/internal/modelview"
	"github.com/dllm-go/dllm/dllm/internal/weights"
	"github.com/dllm-go/dllm/kernels"
	"github.com/dllm-go/dllm/kernels/pagemem"
	"github.com/dllm-go/dllm/kernels/probe"
)

// BenchOptions controls Bench. Zero fields take the defaults in brackets.
type BenchOptions struct {
	Reps        int   // timed repetitions of each measurement [5]
	Warmup      int   // untimed runs before them [1]
	BlockLength int   // diffusion block, the block forward's length [32]
	Prefill     []int // prompt lengths to prefill [128, 512]
	// Context is how many tokens the block forwards (all rows, 1 row) find committed
	// [BlockLength]: at thousands, a step's attention costs as much as the rest of it.
	// LLaDA2 only; it must leave room for the block within the model's positions.
	Context int
	// StepPrompt is the prompt length of the first-step forward [64]; negative skips it.
	StepPrompt int
	// ThreadScan also times the block forwards (all rows, 1 row, first step) on 1, 2,
	// 4, … threads below ScanMax and on ScanMax itself (BenchResult.ThreadScan), in
	// rounds that each run every forward on every thread count once, so that a machine
	// changing speed during the scan does not bias one count against another.
	ThreadScan bool
	ScanMax    int // the most threads of the scan [GOMAXPROCS]
	// GenTokens is the generation length of the end-to-end run [32], rounded up so the
	// prompt and the generation end on a block boundary (the canvas is whole blocks
	// anyway; this way every decoded position counts in tokens/s); negative skips it.
	GenTokens int
	// Prompt is the user message of the end-to-end run (chat template applied), and the
	// text of the first step's prompt.
	Prompt string
	// Caches are the approximate modes the block decode (BenchResult.BlockDecode) runs
	// besides exact: GenerateOptions.Cache values of LLaDA2 ("block", "block:N", "window:W", "window:W:N").
	// nil means {"block"}; empty, exact alone.
	Caches []string
	// DecodeSteps is the block decode's Steps [the block length]: on a synthetic model,
	// whose confidences never clear the threshold, the block takes this many forwards.
	DecodeSteps int
	// Log, if set, receives a line as each measurement starts (they can take minutes on
	// big models).
	Log func(string)
}

// BenchTiming summarises the repetitions of one measurement: seconds per run and the
// matching throughput in tokens per second (Best = from the fastest run).
type BenchTiming struct {
	Tokens     int     `json:"tokens"` // tokens processed per run
	Reps       int     `json:"reps"`
	MinSec     float64 `json:"min_s"`
	MedianSec  float64 `json:"median_s"`
	MaxSec     float64 `json:"max_s"`
	TokPerSec  float64 `json:"tok_per_s"`      // from the median
	BestPerSec float64 `json:"best_tok_per_s"` // from the minimum
}

// BenchLimits are the machine's ceilings measured by kernels/probe in the same run, on
// Threads threads, before and after the forwards they rate, the higher of the two per
// figure (a shared machine's speed can change during a run): memory read bandwidth
// (probe.ReadGBps: the best read of a buffer beyond the caches, with and without
// prefetch, on huge pages where granted), float32 FMA peak and 8-bit integer
// multiply-add peak (the instruction the quantized kernels use: VPDPBUSD, VPMADDUBSW or
// SDOT). A zero figure means this build has no probe for it. Where the avx2 kernels
// run, LoopQ8GOPS and LoopQ4KGOPS are the rates of their Q8_0 and Q4_K inner loops
// (probe.MixQ8_0, MixQ4_K): the most of the int8 peak those kernels can reach, so the
// ceiling of % of roofline for the ops that arithmetic bounds.
type BenchLimits struct {
	Threads     int     `json:"threads"`
	ReadGBps    float64 `json:"read_gb_per_s"`
	FMAGFLOPS   float64 `json:"fma_gflop_per_s"`
	Int8GOPS    float64 `json:"int8_gop_per_s"`
	LoopQ8GOPS  float64 `json:"loop_q8_0_gop_per_s,omitempty"`
	LoopQ4KGOPS float64 `json:"loop_q4_k_gop_per_s,omitempty"`
}

// BenchWork is what one forward reads and computes, as the forward itself recorded it
// (arch.Work: every matmul actually run), and how close its time came to the machine's
// limits.
//
//   - Bytes: WeightBytes is every weight the forward read, at the sizes the kernels read
//     them (the file's dtypes; norms, expert bias and a quantized router widened to
//     f32): embedding rows of the distinct token ids, attention, dense and shared MLPs,
//     the router, the distinct routed experts run, norms, and the LM head (read whole
//     once per batch of logits rows). CacheBytes are the keys and values attention read
//     from the KV cache.
//   - FLOPs: 2·rows·in·out per matmul actually run (a routed expert: the rows routed to
//     it, without padding rows), plus the attention scores (2·rows·head_dim·keys) and
//     values (the same over the keys padded to 64); element-wise work is not counted.
//   - Roofline: each op (a matmul, or an MLP's three matmuls on the same rows) takes at
//     least max(bytes ÷ read bandwidth, FLOPs ÷ peak) — the per-op maximum, which is
//     stricter than the maximum of the totals: a forward is memory-bound in its expert
//     matmuls of a few rows and compute-bound in its matmuls over many rows, and cannot
//     overlap the two. The peak is the 8-bit integer one for matmuls on quantized weights
//     (Int8FLOPs; their kernels multiply 8-bit integers, 2–4× faster than float32 FMAs),
//     the float32 FMA one otherwise (or where no int8 probe ran). RooflineSec sums that
//     over the ops; RooflinePct = RooflineSec ÷ the median time × 100. Zero when the
//     limits were not measured.
//   - GBps and GFLOPS are (WeightBytes+CacheBytes) and FLOPs ÷ the median time.
type BenchWork struct {
	// ExpertsPerLayer is the mean number of distinct routed experts run per MoE layer;
	// ExpertsMin and ExpertsMax the fewest and most in one layer.
	ExpertsPerLayer float64          `json:"experts_per_moe_layer"`
	ExpertsMin      int              `json:"experts_min"`
	ExpertsMax      int              `json:"experts_max"`
	WeightBytes     int64            `json:"weight_bytes"`
	CacheBytes      int64            `json:"cache_bytes"`
	FLOPs           int64            `json:"flops"`
	Int8FLOPs       int64            `json:"int8_flops"` // of FLOPs, 8-bit integer products
	GBps            float64          `json:"gb_per_s"`
	GFLOPS          float64          `json:"gflop_per_s"`
	RooflineSec     float64          `json:"roofline_s"`
	RooflinePct     float64          `json:"roofline_pct"`
	Ops             []BenchOpSummary `json:"ops"` // the same by kind of op
	// RecordedSec is the wall time of the recorded forward: of as many runs after the
	// timed ones, recording, the one of median wall time, whose time the ops'
	// MeasuredSec divide.
	RecordedSec float64 `json:"recorded_s"`
}

// BenchOpSummary sums the ops of one kind of a forward ("embed", "norm", "qkv",
// "attend", "out", "dense", "router", "shared", "expert", "head"; see arch.OpKind).
type BenchOpSummary struct {
	Kind        string  `json:"kind"`
	Count       int     `json:"count"`
	Bytes       int64   `json:"bytes"`
	FLOPs       int64   `json:"flops"`
	Int8FLOPs   int64   `json:"int8_flops"`
	RooflineSec float64 `json:"roofline_s"`
	// MeasuredSec is the wall time the recorded forward spent on ops of this kind
	// (arch.Work.Time: each span from the end of the one before).
	MeasuredSec float64 `json:"measured_s"`
}

// BenchForward is a timed block forward with its work and roofline.
type BenchForward struct {
	BenchTiming
	BenchWork
}

// BenchFirstStep is the first decoding step of a block after a prompt.
type BenchFirstStep struct {
	BenchForward
	PromptTokens int `json:"prompt_tokens"` // prompt length; the cache holds its whole blocks
	MaskRows     int `json:"mask_rows"`     // mask tokens in the block (logits rows)
}

// BenchThreads is the block forwards timed on one thread count (BenchOptions.ThreadScan).
type BenchThreads struct {
	Threads          int             `json:"threads"`
	Limits           BenchLimits     `json:"limits"`
	BlockForward     BenchScanPoint  `json:"block_forward"`
	BlockForward1Row BenchScanPoint  `json:"block_forward_1row"`
	FirstStep        *BenchScanPoint `json:"first_step,omitempty"`
}

// Points returns e's forwards: all rows, 1 row and the first step (nil when not run).
func (e *BenchThreads) Points() [3]*BenchScanPoint {
	return [3]*BenchScanPoint{&e.BlockForward, &e.BlockForward1Row, e.FirstStep}
}

// BenchScanPoint is one forward at one thread count: its timing, its speed-up (median
// tokens/s ÷ that on 1 thread) and its % of the roofline of this thread count's limits.
type BenchScanPoint struct {
	BenchTiming
	Speedup     float64 `json:"speedup"`
	RooflinePct float64 `json:"roofline_pct"`
	// RecordedSec and Ops are the recorded forward at this thread count (as
	// BenchWork.RecordedSec): its wall time and its time per kind of op, so that an op
	// that scales worse than the others shows.
	RecordedSec float64       `json:"recorded_s"`
	Ops         []BenchOpTime `json:"ops"`
}

// BenchOpTime is the time a recorded forward spent on one kind of op (as
// BenchOpSummary.MeasuredSec) and, in a thread scan, its speed-up: the time on 1
// thread ÷ this time.
type BenchOpTime struct {
	Kind        string  `json:"kind"`
	MeasuredSec float64 `json:"measured_s"`
	Speedup     float64 `json:"speedup"`
}

// BenchDecode is the end-to-end generation measurement.
type BenchDecode struct {
	BenchTiming
	PromptTokens     int     `json:"prompt_tokens"`
	Forwards         int     `json:"forwards"`           // denoising forwards per run
	TokensPerForward float64 `json:"tokens_per_forward"` // generated tokens / forwards
}

// BenchResult is what Bench measured, with everything needed to compare runs: the model,
// the machine, the thread count and the kernel implementation.
type BenchResult struct {
	Model      string `json:"model"`
	Format     string `json:"format"`
	WeightType string `json:"weight_type"` // most common matrix type, e.g. "q8_0"
	FileBytes  int64  `json:"file_bytes"`
	Layers     int    `json:"layers"`
	Hidden     int    `json:"hidden"`
	Experts    int    `json:"experts"`
	Vocab      int    `json:"vocab"`

	CPU     string `json:"cpu"`
	Cores   int    `json:"cores"` // logical CPUs
	Threads int    `json:"threads"`
	Kernels string `json:"kernels"` // best active kernel implementation ("avx512vnni", "avx2", "neon", "generic")
	// HugePages is Linux's transparent huge page mode ("always", "madvise", "never"):
	// with either of the first two the repacked weights stream from huge pages, faster.
	HugePages string `json:"huge_pages,omitempty"`
	Go        string `json:"go"`
	// Limits are the machine's ceilings on Threads threads, measured in this run.
	Limits BenchLimits `json:"limits"`

	// Context is the committed prefix the block forwards ran against, in tokens.
	Context int `json:"context"`
	// BlockForward is one diffusion step: a BlockLength-token block of pseudo-random
	// tokens against a committed prefix of Context tokens, logits for every position of
	// the block (all LM-head rows).
	BlockForward BenchForward `json:"block_forward"`
	// BlockForward1Row is the same forward with the LM head on the last row only: what
	// llama-bench's pp32 measures (it computes logits for the last token of a batch).
	BlockForward1Row BenchForward `json:"block_forward_1row"`
	// FirstStep is the step decoding actually runs first: a StepPrompt-token chat prompt
	// (the Prompt text, repeated to length, its last tokens kept) whose whole blocks are
	// in the cache, then the block after them — the prompt's tail, if any, and mask
	// tokens — with logits for the mask rows. Mask rows route alike, so this step runs
	// fewer distinct experts than a block of random tokens.
	FirstStep *BenchFirstStep `json:"first_step,omitempty"`
	Prefill   []BenchTiming   `json:"prefill"` // commit a prompt, no LM head
	Decode    *BenchDecode    `json:"decode,omitempty"`
	// BlockDecode is the block after the first step's prompt decoded for real, exactly
	// and in each approximate mode (BenchOptions.Caches), every step timed.
	BlockDecode []BenchBlockDecode `json:"block_decode,omitempty"`
	ThreadScan  []BenchThreads     `json:"thread_scan,omitempty"`

	// Window is set for the bidirectional families (LLaDA, LLaDA-MoE, Dream, RND1),
	// which have no block forward, prefill or thread scan (those fields stay zero): the
	// whole-window forward every exact decoding step runs, over the chat prompt and the
	// generation's masks, logits for the generated rows.
	Window *BenchWindow `json:"window_forward,omitempty"`
	// Fast compares, for LLaDA, LLaDA-MoE and Dream, the same threshold decoding exact and
	// with Fast-dLLM's approximate prefix and dual caches.
	Fast *BenchFast `json:"fast,omitempty"`
}

// Bench measures the speed of a loaded model on its worker pool (dllm.LoadOptions.Threads):
// the machine's limits (kernels/probe), block forwards with what they read and compute
// against those limits, prompt prefill and an end-to-end generation, each after warm-up
// runs (which also fault in the mapped weights) and repeated; with ThreadScan, the block
// forwards again on each thread count. Inputs are fixed, so results are comparable
// across runs and machines.
func Bench(ctx context.Context, m *dllm.Model, o BenchOptions) (*BenchResult, error) {
	if ctx == nil {
		return nil, invalid.Errorf("dllm: Bench with a nil context")
	}
	if m == nil {
		return nil, invalid.Errorf("dllm: Bench of a nil model")
	}
	if o.Reps <= 0 {
		o.Reps = 5
	}
	if o.Warmup < 0 {
		o.Warmup = 0
	} else if o.Warmup == 0 {
		o.Warmup = 1
	}
	if o.BlockLength <= 0 {
		o.BlockLength = 32
	}
	if o.Context <= 0 {
		o.Context = o.BlockLength
	}
	if o.Prefill == nil {
		o.Prefill = []int{128, 512}
	}
	if o.StepPrompt == 0 {
		o.StepPrompt = 64
	}
	if o.ScanMax <= 0 {
		o.ScanMax = runtime.GOMAXPROCS(0)
	}
	if o.GenTokens == 0 {
		o.GenTokens = 32
	}
	if o.Caches == nil {
		o.Caches = []string{"block"}
	}
	if o.DecodeSteps <= 0 {
		o.DecodeSteps = o.BlockLength
	}
	if o.Prompt == "" {
		o.Prompt = "Write a short story about a robot who learns to paint."
	}
	logf := func(format string, args ...any) {
		if o.Log != nil {
			o.Log(fmt.Sprintf(format, args...))
		}
	}
	var stepPrompt []int32
	if o.StepPrompt > 0 {
		var err error
		if stepPrompt, err = promptOfLength(m, o.Prompt, o.StepPrompt); err != nil {
			return nil, err
		}
	}
	r := &BenchResult{}
	b := &bencher{ctx: ctx, o: o, logf: logf, mask: m.Info().MaskID, stepPrompt: stepPrompt, limits: map[int]BenchLimits{}}
	window := false
	err := modelview.Use(m, func(v modelview.View) error {
		if f := arch.FamilyByName(v.Net.Config().Family); f != nil && f.Bidirectional {
			window = true
			return b.window(m, v, r)
		}
		return b.forwards(m.Info(), v, r)
	})
	if err != nil || window {
		return r, err
	}
	// End to end: the chat prompt, default (LLaDA2.0 threshold) decoding, greedy, a new
	// session per run so no KV prefix is reused.
	if o.GenTokens > 0 {
		msgs := []dllm.Message{{Role: "user", Content: o.Prompt}}
		prompt, err := m.Tokenizer().EncodeChat(msgs, true)
		if err != nil {
			return nil, err
		}
		B := o.BlockLength
		gen := (len(prompt)+o.GenTokens+B-1)/B*B - len(prompt)
		logf("generation, %d tokens after a %d-token prompt", gen, len(prompt))
		opts := dllm.DefaultOptions()
		opts.MaxTokens, opts.BlockLength, opts.Steps = gen, B, B
		d := &BenchDecode{}
		var lastTokens int
		t, err := timeIt(ctx, o, 0, func() error {
			sess, err := m.NewSession()
			if err != nil {
				return err
			}
			defer sess.Close()
			res, err := sess.GenerateChat(ctx, msgs, opts)
			if err != nil {
				return err
			}
			d.PromptTokens, d.Forwards, lastTokens = res.Stats.PromptTokens, res.Stats.Forwards, res.Stats.Tokens
			return nil
		})
		if err != nil {
			return nil, err
		}
		t.Tokens = lastTokens
		t.TokPerSec, t.BestPerSec = float64(lastTokens)/t.MedianSec, float64(lastTokens)/t.MinSec
		d.BenchTiming = t
		if d.Forwards > 0 {
			d.TokensPerForward = float64(lastTokens) / float64(d.Forwards)
		}
		r.Decode = d
	}
	return r, nil
}

// promptOfLength returns the last n tokens of the chat prompt (generation prompt added)
// whose user message is text repeated often enough to reach n tokens, so the prompt
// ends as a real one does, with the assistant's turn opening.
func promptOfLength(m *dllm.Model, text string, n int) ([]int32, error) {
	for reps := 1; ; reps *= 2 {
		ids, err := m.Tokenizer().EncodeChat([]dllm.Message{{Role: "user", Content: strings.TrimSpace(strings.Repeat(text+" ", reps))}}, true)
		if err != nil {
			return nil, err
		}
		if len(ids) >= n || reps > 2*n { // each repetition adds at least a token
			return ids[max(0, len(ids)-n):], nil
		}
	}
}

// bencher holds what the forward measurements share.
type bencher struct {
	ctx        context.Context
	o          BenchOptions
	logf       func(string, ...any)
	mask       int32
	stepPrompt []int32
	limits     map[int]BenchLimits // by thread count, measured once each
}

// limitsOn measures (once) the machine's limits on n threads.
func (b *bencher) limitsOn(n int) BenchLimits {
	if l, ok := b.limits[n]; ok {
		return l
	}
	b.logf("machine limits on %s (read bandwidth, FMA and int8 peaks)", threadsText(n))
	p := probe.Measure(n)
	l := higherLimits(BenchLimits{Threads: n}, p)
	b.limits[n] = l
	return l
}

// limitsAgain measures the limits on n threads once more and keeps, per figure, the
// higher of that and the earlier measurement (limitsOn): a shared machine's speed can
// change during a run (the read probe gave 29 and 59 GB/s on the same VM in runs
// minutes apart), and the higher figure never puts a forward above its roofline.
func (b *bencher) limitsAgain(n int) BenchLimits {
	l := b.limitsOn(n)
	b.logf("machine limits on %s again", threadsText(n))
	b.limits[n] = higherLimits(l, probe.Measure(n))
	return b.limits[n]
}

// higherLimits is l with each figure raised to p's where p's is higher.
func higherLimits(l BenchLimits, p probe.Limits) BenchLimits {
	l.ReadGBps = max(l.ReadGBps, p.GBps)
	l.FMAGFLOPS = max(l.FMAGFLOPS, p.GFLOPS)
	l.Int8GOPS = max(l.Int8GOPS, p.Int8GOPS)
	l.LoopQ8GOPS = max(l.LoopQ8GOPS, p.LoopQ8GOPS)
	l.LoopQ4KGOPS = max(l.LoopQ4KGOPS, p.LoopQ4KGOPS)
	return l
}

// forwardCase is one timed forward: prefix committed once, then run (a block) timed,
// with the logits of rows.
type forwardCase struct {
	name   string
	prefix []int32
	run    []int32
	rows   []int
}

// cases returns the block forwards: all rows, 1 row and, with a step prompt, the first
// step (then also the mask rows and the prompt's tail length in the block).
func (b *bencher) cases(cfg arch.Config) []forwardCase {
	B, V := b.o.BlockLength, cfg.VocabSize
	// Fixed pseudo-random token ids away from the top of the vocabulary (where the
	// special tokens sit).
	tokens := func(n, salt int) []int32 {
		t := make([]int32, n)
		for i := range t {
			t[i] = int32((i*997 + salt*131) % max(1, V-16))
		}
		return t
	}
	all := make([]int, B)
	for i := range all {
		all[i] = i
	}
	C := b.o.Context
	cs := []forwardCase{
		{fmt.Sprintf("block forward, %d tokens after %d, LM head on all rows", B, C), tokens(C, 1), tokens(B, 2), all},
		{fmt.Sprintf("block forward, %d tokens after %d, LM head on the last row", B, C), tokens(C, 1), tokens(B, 2), []int{B - 1}},
	}
	if P := len(b.stepPrompt); P > 0 && P/B*B+B <= cfg.MaxPositionEmbeddings {
		// As the decoder runs it: the prompt's whole blocks committed, the block holding
		// its tail (if any) and masks up to the block's end, logits for the masks.
		c := forwardCase{name: fmt.Sprintf("first step after a %d-token prompt", P), prefix: b.stepPrompt[:P/B*B]}
		c.run = append(slices.Clone(b.stepPrompt[P/B*B:]), make([]int32, B-P%B)...)
		for i := P % B; i < B; i++ {
			c.run[i] = b.mask
			c.rows = append(c.rows, i)
		}
		cs = append(cs, c)
	}
	return cs
}

// timeForward times c on net: the warm-up and timed runs, not recording, then as many
// recorded runs into w (when not nil), warm like them; it returns the wall time of the
// recorded run that w keeps (see recordRuns).
func (b *bencher) timeForward(net *arch.Model, c forwardCase, w *arch.Work) (BenchTiming, float64, error) {
	s, fwd, err := b.readyForward(net, c, nil)
	if err != nil {
		return BenchTiming{}, 0, err
	}
	bt, err := timeIt(b.ctx, b.o, b.o.BlockLength, fwd)
	if err != nil || w == nil {
		return bt, 0, err
	}
	recorded, err := recordRuns(b.ctx, s, w, fwd, bt.Reps)
	return bt, recorded, err
}

// readyForward returns a state on net with c's prefix committed and the forward of c's
// block on it, its logits into out (grown to c's rows when short).
func (b *bencher) readyForward(net *arch.Model, c forwardCase, out []float32) (*arch.State, func() error, error) {
	B, V := b.o.BlockLength, net.Config().VocabSize
	// A long prefix commits in runs of up to 512 tokens (as a prompt would); the
	// timed forwards are B tokens whatever MaxRun.
	s, err := net.NewState(arch.StateOptions{Capacity: len(c.prefix) + len(c.run), MaxRun: max(B, min(len(c.prefix), 512))})
	if err != nil {
		return nil, nil, err
	}
	if err := s.Forward(c.prefix, B, true, nil, nil); err != nil {
		return nil, nil, err
	}
	if len(out) < len(c.rows)*V {
		out = make([]float32, len(c.rows)*V)
	}
	return s, func() error { return s.Forward(c.run, B, false, c.rows, out) }, nil
}

// recordRuns runs fwd n times more on s recording into w, warm like the timed runs
// before it, and keeps in w the run of median wall time (the upper one of an even n),
// whose wall time it returns: per-op times of one run add up to its wall time, and the
// median run is as robust to a slow outlier as the timed median.
func recordRuns(ctx context.Context, s *arch.State, w *arch.Work, fwd func() error, n int) (float64, error) {
	runs := make([]recordedRun, 0, max(n, 1))
	for len(runs) < cap(runs) {
		r, err := recordRun(ctx, s, w, fwd)
		if err != nil {
			return 0, err
		}
		runs = append(runs, r)
	}
	return keepMedianRun(w, runs), nil
}

// recordedRun is one forward recorded into a Work: its wall time and time per kind of op.
type recordedRun struct {
	wall  time.Duration
	times [len(arch.Work{}.Time)]time.Duration
}

// recordRun runs fwd once on s recording into w.
func recordRun(ctx context.Context, s *arch.State, w *arch.Work, fwd func() error) (recordedRun, error) {
	if err := ctx.Err(); err != nil {
		return recordedRun{}, err
	}
	s.SetWork(w)
	defer s.SetWork(nil)
	start := time.Now()
	if err := fwd(); err != nil {
		return recordedRun{}, err
	}
	return recordedRun{time.Since(start), w.Time}, nil
}

// keepMedianRun leaves in w the op times of the run of median wall time among runs (the
// upper one of an even number) and returns that wall time.
func keepMedianRun(w *arch.Work, runs []recordedRun) float64 {
	slices.SortFunc(runs, func(a, b recordedRun) int { return cmp.Compare(a.wall, b.wall) })
	mid := runs[len(runs)/2]
	w.Time = mid.times
	return mid.wall.Seconds()
}

// describe fills r with the model's and the machine's description and the limits.
func (b *bencher) describe(info dllm.ModelInfo, v modelview.View, r *BenchResult) {
	cfg := v.Net.Config()
	*r = BenchResult{
		Model: info.Path, Format: info.Format, WeightType: weightType(v.Checkpoint), FileBytes: v.Checkpoint.TotalBytes(),
		Layers: cfg.NumLayers, Hidden: cfg.HiddenSize, Experts: cfg.NumExperts, Vocab: cfg.VocabSize,
		CPU: cpuModel(), Cores: runtime.NumCPU(), Threads: v.Threads, Kernels: activeKernels(),
		HugePages: pagemem.HugePages(), Go: runtime.Version(),
	}
	if st, err := os.Stat(info.Path); err == nil && st.Mode().IsRegular() {
		r.FileBytes = st.Size() // the whole GGUF, header included
	}
	r.Limits = b.limitsOn(v.Threads)
}

// forwards fills r with the model's description, the limits and the forward timings,
// under the model's internals v.
func (b *bencher) forwards(info dllm.ModelInfo, v modelview.View, r *BenchResult) error {
	o := b.o
	net := v.Net
	cfg := net.Config()
	B := o.BlockLength
	if limit := cfg.MaxPositionEmbeddings; limit > 0 && o.Context+B > limit {
		return invalid.Errorf("dllm: Bench: a %d-token context and a %d-token block exceed the model's %d positions", o.Context, B, limit)
	}
	b.describe(info, v, r)
	r.Context = o.Context

	// Block forwards: commit a prefix once, then time uncommitted B-token runs.
	cases := b.cases(cfg)
	works := make([]arch.Work, len(cases))
	timings := make([]BenchTiming, len(cases))
	recorded := make([]float64, len(cases))
	for i, c := range cases {
		b.logf("%s", c.name)
		var err error
		if timings[i], recorded[i], err = b.timeForward(net, c, &works[i]); err != nil {
			return err
		}
	}
	// Their rooflines at the limits measured before and after them.
	r.Limits = b.limitsAgain(v.Threads)
	for i, c := range cases {
		f := BenchForward{BenchTiming: timings[i], BenchWork: workFigures(&works[i], r.Limits, timings[i].MedianSec)}
		f.RecordedSec = recorded[i]
		switch i {
		case 0:
			r.BlockForward = f
		case 1:
			r.BlockForward1Row = f
		case 2:
			r.FirstStep = &BenchFirstStep{BenchForward: f, PromptTokens: len(b.stepPrompt), MaskRows: len(c.rows)}
		}
	}

	// Prefill: commit n prompt tokens into an empty cache, as the decoder does before
	// the first decoded block (block-causal, no logits).
	for _, n := range o.Prefill {
		if n <= 0 || n > cfg.MaxPositionEmbeddings {
			continue
		}
		b.logf("prefill, %d tokens", n)
		s, err := net.NewState(arch.StateOptions{Capacity: n, MaxRun: min(n, 512)})
		if err != nil {
			return err
		}
		prompt := make([]int32, n)
		for i := range prompt {
			prompt[i] = int32((i*997 + 3*131) % max(1, cfg.VocabSize-16))
		}
		t, err := timeIt(b.ctx, o, n, func() error {
			if err := s.Truncate(0); err != nil {
				return err
			}
			return s.Forward(prompt, B, true, nil, nil)
		})
		if err != nil {
			return err
		}
		r.Prefill = append(r.Prefill, t)
	}

	if len(b.stepPrompt) >= B {
		bd, err := b.blockDecodes(info, net, o.Caches, r.Limits)
		if err != nil {
			return err
		}
		r.BlockDecode = bd
	}

	if o.ThreadScan {
		scan, err := b.threadScan(net, cases, works)
		if err != nil {
			return err
		}
		r.ThreadScan = scan
	}
	return nil
}

// scanThreads are the thread counts of a scan up to n: 1, 2, 4, … below n, then n.
func scanThreads(n int) []int {
	var ts []int
	for t := 1; t < n; t *= 2 {
		ts = append(ts, t)
	}
	return append(ts, max(1, n))
}

// threadScan times the block forwards on every thread count of scanThreads(ScanMax),
// with works the forwards' recorded work (the same whatever the thread count). Every
// count's forwards are readied and warmed first, then timed in rounds, each round one
// run of every forward on every count, then recorded the same way: a shared machine
// whose speed changes during the scan (this project's 2-vCPU VM read 34 and 59 GB/s in
// runs minutes apart) then slows every count alike, and the speed-ups compare runs
// taken side by side rather than one count's runs against another's a minute later.
func (b *bencher) threadScan(net *arch.Model, cases []forwardCase, works []arch.Work) ([]BenchThreads, error) {
	type scanned struct {
		s    *arch.State
		fwd  func() error
		secs []float64
		runs []recordedRun
		w    arch.Work
	}
	counts := scanThreads(b.o.ScanMax)
	grid := make([][]scanned, len(counts))
	rows := 0
	for _, c := range cases {
		rows = max(rows, len(c.rows))
	}
	out := make([]float32, rows*net.Config().VocabSize) // one buffer: the forwards run one at a time
	for i, n := range counts {
		b.limitsOn(n)
		nt := net.WithThreads(n)
		for _, c := range cases {
			b.logf("%s: %s, warm-up", threadsText(n), c.name)
			st, fwd, err := b.readyForward(nt, c, out)
			if err != nil {
				return nil, err
			}
			if err := warmUp(b.ctx, b.o.Warmup, fwd); err != nil {
				return nil, err
			}
			grid[i] = append(grid[i], scanned{s: st, fwd: fwd})
		}
	}
	for round := range b.o.Reps {
		b.logf("thread scan: timed round %d of %d, every forward on every thread count", round+1, b.o.Reps)
		for i := range grid {
			for j := range grid[i] {
				g := &grid[i][j]
				sec, err := timeOnce(b.ctx, g.fwd)
				if err != nil {
					return nil, err
				}
				g.secs = append(g.secs, sec)
			}
		}
	}
	for round := range b.o.Reps {
		b.logf("thread scan: recorded round %d of %d, every forward on every thread count", round+1, b.o.Reps)
		for i := range grid {
			for j := range grid[i] {
				g := &grid[i][j]
				r, err := recordRun(b.ctx, g.s, &g.w, g.fwd)
				if err != nil {
					return nil, err
				}
				g.runs = append(g.runs, r)
			}
		}
	}
	var scan []BenchThreads
	for i, n := range counts {
		lim := b.limitsOn(n)
		e := BenchThreads{Threads: n, Limits: lim}
		for j := range cases {
			g := &grid[i][j]
			w := &g.w
			t := timingOf(g.secs, b.o.BlockLength)
			p := BenchScanPoint{BenchTiming: t, Speedup: 1, RecordedSec: keepMedianRun(w, g.runs)}
			for _, k := range opKinds(w) {
				p.Ops = append(p.Ops, BenchOpTime{Kind: k.String(), MeasuredSec: w.Time[k].Seconds(), Speedup: 1})
			}
			if rl := rooflineSec(&works[j], lim); rl > 0 && t.MedianSec > 0 {
				p.RooflinePct = 100 * rl / t.MedianSec
			}
			switch j {
			case 0:
				e.BlockForward = p
			case 1:
				e.BlockForward1Row = p
			case 2:
				e.FirstStep = &p
			}
		}
		scan = append(scan, e)
	}
	// Speed-ups against the first entry, 1 thread.
	for i := range scan {
		ratio := func(p, one *BenchScanPoint) {
			if p == nil || one == nil {
				return
			}
			if one.TokPerSec > 0 {
				p.Speedup = p.TokPerSec / one.TokPerSec
			}
			for j := range p.Ops {
				op := &p.Ops[j]
				k := slices.IndexFunc(one.Ops, func(o BenchOpTime) bool { return o.Kind == op.Kind })
				if k >= 0 && op.MeasuredSec > 0 {
					op.Speedup = one.Ops[k].MeasuredSec / op.MeasuredSec
				}
			}
		}
		one := scan[0].Points()
		for j, p := range scan[i].Points() {
			ratio(p, one[j])
		}
	}
	return scan, nil
}

func threadsText(n int) string {
	if n == 1 {
		return "1 thread"
	}
	return fmt.Sprintf("%d threads", n)
}

// opRoofline is the least time an op can take at the limits: max(bytes ÷ bandwidth,
// FLOPs ÷ its peak); 0 unless bandwidth and FMA peak were measured.
func opRoofline(op arch.Op, l BenchLimits) float64 {
	if l.ReadGBps <= 0 || l.FMAGFLOPS <= 0 {
		return 0
	}
	peak := l.FMAGFLOPS
	if op.Int8 && l.Int8GOPS > 0 {
		peak = l.Int8GOPS
	}
	return max(float64(op.Bytes)/(l.ReadGBps*1e9), float64(op.FLOPs)/(peak*1e9))
}

// rooflineSec sums opRoofline over the ops of w.
func rooflineSec(w *arch.Work, l BenchLimits) float64 {
	var t float64
	for _, op := range w.Ops {
		t += opRoofline(op, l)
	}
	return t
}

// workFigures describes the recorded work w of a forward whose median time was sec,
// against the limits l (see BenchWork).
func workFigures(w *arch.Work, l BenchLimits, sec float64) BenchWork {
	var f BenchWork
	f.ExpertsPerLayer, f.ExpertsMin, f.ExpertsMax = w.Experts()
	f.WeightBytes, f.CacheBytes, f.FLOPs = w.Totals()
	f.RooflineSec = rooflineSec(w, l)
	if sec > 0 {
		f.GBps = float64(f.WeightBytes+f.CacheBytes) / sec / 1e9
		f.GFLOPS = float64(f.FLOPs) / sec / 1e9
		f.RooflinePct = 100 * f.RooflineSec / sec
	}
	byKind := map[arch.OpKind]*BenchOpSummary{}
	kinds := opKinds(w)
	for _, k := range kinds {
		byKind[k] = &BenchOpSummary{Kind: k.String(), MeasuredSec: w.Time[k].Seconds()}
	}
	for _, op := range w.Ops {
		s := byKind[op.Kind]
		s.Count++
		s.Bytes += op.Bytes
		s.FLOPs += op.FLOPs
		s.RooflineSec += opRoofline(op, l)
		if op.Int8 {
			s.Int8FLOPs += op.FLOPs
			f.Int8FLOPs += op.FLOPs
		}
	}
	for _, k := range kinds {
		f.Ops = append(f.Ops, *byKind[k])
	}
	return f
}

// opKinds lists, in OpKind order, the kinds of op w recorded.
func opKinds(w *arch.Work) []arch.OpKind {
	var kinds []arch.OpKind
	for _, op := range w.Ops {
		if !slices.Contains(kinds, op.Kind) {
			kinds = append(kinds, op.Kind)
		}
	}
	slices.Sort(kinds)
	return kinds
}

// timeIt runs fn o.Warmup times, then o.Reps timed times, and summarizes the timed
// runs.
func timeIt(ctx context.Context, o BenchOptions, tokens int, fn func() error) (BenchTiming, error) {
	if err := warmUp(ctx, o.Warmup, fn); err != nil {
		return BenchTiming{}, err
	}
	secs := make([]float64, 0, o.Reps)
	for i := 0; i < o.Reps; i++ {
		sec, err := timeOnce(ctx, fn)
		if err != nil {
			return BenchTiming{}, err
		}
		secs = append(secs, sec)
	}
	return timingOf(secs, tokens), nil
}

// warmUp runs fn n times, untimed.
func warmUp(ctx context.Context, n int, fn func() error) error {
	for range n {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(); err != nil {
			return err
		}
	}
	return nil
}

// timeOnce is the seconds one run of fn takes.
func timeOnce(ctx context.Context, fn func() error) (float64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	// A clock coarser than one run reads 0 (Windows' advances every 0.5–15.6 ms), so
	// run again until it moves and take the mean: no rate may come out infinite.
	t0, runs := time.Now(), 0
	var d time.Duration
	for d <= 0 {
		if err := fn(); err != nil {
			return 0, err
		}
		runs++
		d = time.Since(t0)
	}
	return d.Seconds() / float64(runs), nil
}

// timingOf summarizes timed runs of tokens tokens each (secs, at least one; sorted in
// place).
func timingOf(secs []float64, tokens int) BenchTiming {
	slices.Sort(secs)
	med := secs[len(secs)/2]
	if len(secs)%2 == 0 {
		med = (secs[len(secs)/2-1] + secs[len(secs)/2]) / 2
	}
	t := BenchTiming{Tokens: tokens, Reps: len(secs), MinSec: secs[0], MedianSec: med, MaxSec: secs[len(secs)-1]}
	if tokens > 0 {
		t.TokPerSec, t.BestPerSec = float64(tokens)/med, float64(tokens)/secs[0]
	}
	return t
}

// weightType returns the most common type among the checkpoint's matrices.
func weightType(ck *weights.Checkpoint) string {
	count := map[string]int64{}
	for _, t := range ck.Tensors {
		if len(t.Shape) >= 2 {
			count[t.DType.String()] += int64(len(t.Data))
		}
	}
	best, n := "", int64(-1)
	for k, v := range count {
		if v > n || v == n && k < best {
			best, n = k, v
		}
	}
	return best
}

// cpuModel reads the CPU's marketing name from /proc/cpuinfo (Linux); elsewhere, or if
// absent, the architecture.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), ":")
			k = strings.TrimSpace(k)
			if ok && (k == "model name" || k == "Model" || k == "Hardware") {
				return strings.TrimSpace(v)
			}
		}
	}
	return runtime.GOOS + "/" + runtime.GOARCH
}

// activeKernels names the best enabled kernel implementation (the one whose kernels
// run, "generic" filling in what it lacks).
func activeKernels() string {
	for _, im := range kernels.Implementations() {
		if im.Available && im.Enabled {
			return im.Name
		}
	}
	return "generic"
}
