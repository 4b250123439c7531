package decode

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/dllm-go/dllm/dllm/internal/sample"
)

func fakeOpts(v Variant, block, gen int) Options {
	o := V20Defaults(gen, fMask, fEOS)
	o.Variant, o.BlockLength, o.Steps = v, block, block
	if v == V21 {
		o.Threshold, o.EditThreshold = 0.7, 0.5
	}
	return o
}

// table returns a context-free prediction from a position → (token, confidence) table;
// positions not listed predict token 1 with confidence 0.1.
func table(m map[int][2]float64) predictFn {
	return func(p int, _ []int32) (int32, float64) {
		if e, ok := m[p]; ok {
			return int32(e[0]), e[1]
		}
		return 1, 0.1
	}
}

func generate(t *testing.T, f *fakeModel, prompt []int32, o Options) Result {
	t.Helper()
	res, err := New(f, fV, f.capacity, f.capacity).Generate(context.Background(), prompt, o)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func commitsOf(tr []TraceStep) [][]int {
	var out [][]int
	for _, s := range tr {
		var ps []int
		for _, c := range s.Committed {
			ps = append(ps, c.Pos)
		}
		out = append(out, ps)
	}
	return out
}

func TestSchedule(t *testing.T) {
	for _, c := range []struct {
		b, s int
		want []int
	}{
		{8, 3, []int{3, 3, 2}},
		{8, 4, []int{2, 2, 2, 2}},
		{32, 32, slices.Repeat([]int{1}, 32)},
		{5, 8, []int{1, 1, 1, 1, 1, 0, 0, 0}},
		{10, 4, []int{3, 3, 2, 2}},
	} {
		if got := Schedule(c.b, c.s); !slices.Equal(got, c.want) {
			t.Errorf("Schedule(%d, %d) = %v, want %v", c.b, c.s, got, c.want)
		}
	}
}

func TestPickTransfer(t *testing.T) {
	cand := []int{10, 11, 12, 13, 14}
	conf := []float32{0.5, 0.96, 0.2, 0.96, 0.7}
	out, order := make([]int, 5), make([]int, 5)
	// Strictly greater: 0.5 is not above 0.5.
	picked, above, fb := pickTransfer(cand, conf, 0.5, 1, out, order)
	if !slices.Equal(picked, []int{1, 3, 4}) || above != 3 || fb {
		t.Errorf("threshold: %v above %d fallback %v", picked, above, fb)
	}
	// Too few above the threshold: the top-need by confidence, ties to the lower
	// position, returned in position order.
	picked, above, fb = pickTransfer(cand, conf, 0.96, 2, out, order)
	if !slices.Equal(picked, []int{1, 3}) || above != 0 || !fb {
		t.Errorf("fallback: %v above %d fallback %v", picked, above, fb)
	}
	picked, _, _ = pickTransfer(cand, conf, 0.99, 3, out, order)
	if !slices.Equal(picked, []int{1, 3, 4}) {
		t.Errorf("fallback 3: %v", picked)
	}
	tie := []float32{0.3, 0.3, 0.3, 0.3, 0.3}
	picked, _, _ = pickTransfer(cand, tie, 0.99, 2, out, order)
	if !slices.Equal(picked, []int{0, 1}) {
		t.Errorf("ties: %v", picked)
	}
	// need larger than the candidates: all of them.
	picked, _, fb = pickTransfer(cand[:2], conf[:2], 0.99, 4, out, order)
	if !slices.Equal(picked, []int{0, 1}) || !fb {
		t.Errorf("need > candidates: %v", picked)
	}
}

// LLaDA2.0 with hand-made confidences: threshold commits, the fallback order, the prompt
// tail sharing block 0, and the trace fields.
func TestThresholdPolicy(t *testing.T) {
	f := newFake(4, table(map[int][2]float64{
		2: {5, 0.95}, 3: {6, 0.5}, // block 0 = prompt 0,1 + masks 2,3
		4: {7, 0.3}, 5: {8, 0.4}, 6: {9, 0.2}, 7: {10, 0.35},
	}))
	o := fakeOpts(V20, 4, 6)
	o.Threshold = 0.9
	res := generate(t, f, []int32{1, 2}, o)
	wantCommits := [][]int{{2}, {3}, {5}, {7}, {4}, {6}}
	if got := commitsOf(res.Trace); !reflect.DeepEqual(got, wantCommits) {
		t.Fatalf("commits %v, want %v", got, wantCommits)
	}
	if !slices.Equal(res.Tokens, []int32{5, 6, 7, 8, 9, 10}) || res.Reason != StopLength {
		t.Fatalf("tokens %v reason %s", res.Tokens, res.Reason)
	}
	s := res.Trace[1]
	if s.Block != 0 || s.Step != 1 || s.Window != 4 || s.Masked != 1 || s.Above != 0 || s.Scheduled != 1 || !s.Fallback {
		t.Fatalf("trace[1] = %+v", s)
	}
	if s := res.Trace[0]; s.Above != 1 || s.Fallback || s.Masked != 2 {
		t.Fatalf("trace[0] = %+v", s)
	}
	if !slices.Equal(res.Blocks, []int{0, 1}) {
		t.Fatalf("blocks %v", res.Blocks)
	}
	// Cache driver: block 0 has no whole prompt block to prefill; two step forwards,
	// its commit, then four steps of block 1 (the last block is not committed).
	want := []string{"false/0+4/2", "false/0+4/1", "true/0+4/0", "false/4+4/4", "false/4+4/3", "false/4+4/2", "false/4+4/1"}
	if !slices.Equal(f.runs, want) {
		t.Fatalf("runs %v, want %v", f.runs, want)
	}
	if res.Cached != 4 || res.Stats.ModelCalls != 7 || res.Stats.Forwards != 6 {
		t.Fatalf("cached %d, stats %+v", res.Cached, res.Stats)
	}
}

// steps is clamped to gen_length/minimal_topk and the schedule follows the clamp.
func TestStepsClamp(t *testing.T) {
	f := newFake(4, table(nil)) // nothing clears the threshold
	o := fakeOpts(V20, 4, 2)
	o.Steps, o.MinimalTopK = 4, 1
	res := generate(t, f, []int32{1, 2, 3, 4}, o) // block 1 only, steps = min(4, 2) → [2, 2]
	if got := commitsOf(res.Trace); !reflect.DeepEqual(got, [][]int{{4, 5}, {6, 7}}) {
		t.Fatalf("commits %v", got)
	}
	if res.Trace[0].Scheduled != 2 || len(res.Tokens) != 2 {
		t.Fatalf("trace %+v tokens %v", res.Trace[0], res.Tokens)
	}
}

// A block containing EOS ends generation after the block; the output is cut after the
// first EOS (inclusive).
func TestEOSBlock(t *testing.T) {
	f := newFake(4, table(map[int][2]float64{
		4: {3, 0.99}, 5: {fEOS, 0.99}, 6: {4, 0.99}, 7: {fEOS, 0.99},
	}))
	o := fakeOpts(V20, 4, 12)
	res := generate(t, f, []int32{1, 2, 3, 4}, o)
	if res.Reason != StopEOSBlock || !slices.Equal(res.Tokens, []int32{3, fEOS}) || !slices.Equal(res.Blocks, []int{1}) {
		t.Fatalf("reason %s tokens %v blocks %v", res.Reason, res.Tokens, res.Blocks)
	}
	if len(res.Canvas) != 8 || res.Stats.ModelCalls != 2 { // prefill + one step; no commit of the last block
		t.Fatalf("canvas %v, model calls %d", res.Canvas, res.Stats.ModelCalls)
	}
}

// 2.0 eos_early_stop is checked after a step that commits EOS: an EOS committed with
// masks before it does not stop; a later EOS commit, once the masks before the first EOS
// are filled, stops mid-block.
func TestEOSEarlyStop20(t *testing.T) {
	f := newFake(8, table(map[int][2]float64{
		8: {3, 0.97}, 9: {4, 0.5}, 10: {fEOS, 0.99}, 11: {5, 0.3}, 12: {fEOS, 0.4},
	}))
	o := fakeOpts(V20, 8, 16)
	o.EOSEarlyStop = true
	res := generate(t, f, slices.Repeat([]int32{1}, 8), o)
	// Step 0 commits 8 and 10 (EOS at 10, 9 still masked); step 1 commits 9 (no EOS, no
	// check); step 2 commits the EOS at 12 → the first EOS, 10, has no mask before it.
	if got := commitsOf(res.Trace); !reflect.DeepEqual(got, [][]int{{8, 10}, {9}, {12}}) {
		t.Fatalf("commits %v", got)
	}
	if res.Reason != StopEOSEarly || !slices.Equal(res.Tokens, []int32{3, 4, fEOS}) {
		t.Fatalf("reason %s tokens %v", res.Reason, res.Tokens)
	}
	if !res.hasMaskAfter(11, fMask) {
		t.Fatalf("expected masks left in the block: %v", res.Canvas)
	}
	// Without early stop the block is finished first.
	f = newFake(8, f.predict)
	o.EOSEarlyStop = false
	res = generate(t, f, slices.Repeat([]int32{1}, 8), o)
	if res.Reason != StopEOSBlock || len(res.Trace) != 7 || !slices.Equal(res.Tokens, []int32{3, 4, fEOS}) {
		t.Fatalf("reason %s, %d forwards, tokens %v", res.Reason, len(res.Trace), res.Tokens)
	}
}

func (r Result) hasMaskAfter(p int, mask int32) bool { return slices.Contains(r.Canvas[p:], mask) }

// <|role_end|> ends generation only when it is one of the stop ids; then the reason is
// stop_token.
func TestStopIDs(t *testing.T) {
	pred := table(map[int][2]float64{4: {3, 0.99}, 5: {fRole, 0.99}, 6: {4, 0.99}, 7: {5, 0.99}, 8: {6, 0.99}})
	o := fakeOpts(V20, 4, 8)
	res := generate(t, newFake(4, pred), []int32{1, 2, 3, 4}, o)
	if res.Reason != StopLength || len(res.Tokens) != 8 {
		t.Fatalf("EOS only: reason %s tokens %v", res.Reason, res.Tokens)
	}
	o.StopIDs = []int32{fEOS, fRole}
	res = generate(t, newFake(4, pred), []int32{1, 2, 3, 4}, o)
	if res.Reason != StopToken || !slices.Equal(res.Tokens, []int32{3, fRole}) {
		t.Fatalf("with role_end: reason %s tokens %v", res.Reason, res.Tokens)
	}
	o.EOSEarlyStop = true
	res = generate(t, newFake(4, pred), []int32{1, 2, 3, 4}, o)
	if res.Reason != StopToken || !slices.Equal(res.Tokens, []int32{3, fRole}) || len(res.Trace) != 1 {
		t.Fatalf("early: reason %s tokens %v", res.Reason, res.Tokens)
	}
}

// LLaDA2.1: a committed token is edited when the model changes its mind above the edit
// threshold; prompt positions in the block are never edited; the block ends when an
// iteration without masks changes nothing.
func TestJointThresholdEdits(t *testing.T) {
	pred := func(p int, vis []int32) (int32, float64) {
		switch {
		case p < 3: // prompt: confidently "wrong", must be ignored
			return 9, 0.99
		case vis[p] == fMask:
			return 5, 0.9
		case vis[p] == 5:
			return 7, 0.8
		}
		return vis[p], 0.99
	}
	f := newFake(4, pred)
	o := fakeOpts(V21, 4, 1)
	res := generate(t, f, []int32{1, 2, 3}, o)
	if len(res.Trace) != 3 {
		t.Fatalf("%d forwards: %+v", len(res.Trace), res.Trace)
	}
	if e := res.Trace[1].Edited; len(e) != 1 || e[0].Pos != 3 || e[0].Old != 5 || e[0].New != 7 {
		t.Fatalf("edits %+v", res.Trace[1].Edited)
	}
	if res.Trace[1].PostStep != 1 || res.Trace[2].PostStep != 2 || len(res.Trace[2].Edited) != 0 {
		t.Fatalf("post steps %+v", res.Trace)
	}
	if !slices.Equal(res.Tokens, []int32{7}) || !slices.Equal(res.Canvas[:3], []int32{1, 2, 3}) {
		t.Fatalf("tokens %v canvas %v", res.Tokens, res.Canvas)
	}
	// Logits are requested only for rows the policy reads: never prompt rows.
	for _, r := range f.runs {
		if !strings.HasSuffix(r, "/1") && !strings.HasPrefix(r, "true") {
			t.Fatalf("runs %v", f.runs)
		}
	}
	// Above the edit threshold only: at τ_edit 0.85 the 0.8 proposal is not taken.
	o.EditThreshold = 0.85
	res = generate(t, newFake(4, pred), []int32{1, 2, 3}, o)
	if !slices.Equal(res.Tokens, []int32{5}) || res.Stats.Edits != 0 || len(res.Trace) != 2 {
		t.Fatalf("τ_edit 0.85: tokens %v, %d edits, %d forwards", res.Tokens, res.Stats.Edits, len(res.Trace))
	}
}

// A model that never settles: after the masks are gone, exactly MaxPostSteps editing
// forwards run.
func TestMaxPostSteps(t *testing.T) {
	flip := func(p int, vis []int32) (int32, float64) {
		if vis[p] == 5 {
			return 7, 0.9
		}
		return 5, 0.9
	}
	for _, post := range []int{0, 1, 3} {
		o := fakeOpts(V21, 4, 4)
		o.MaxPostSteps = post
		res := generate(t, newFake(4, flip), []int32{1, 2, 3, 4}, o)
		if len(res.Trace) != 1+post {
			t.Fatalf("max_post_steps %d: %d forwards", post, len(res.Trace))
		}
		for i, s := range res.Trace {
			if s.PostStep != i || (i > 0 && len(s.Edited) != 4) {
				t.Fatalf("max_post_steps %d: trace[%d] = %+v", post, i, s)
			}
		}
	}
}

// num_to_transfer is the 2.1 fallback size.
func TestNumToTransfer(t *testing.T) {
	pred := table(map[int][2]float64{4: {3, 0.3}, 5: {4, 0.5}, 6: {5, 0.4}, 7: {6, 0.2}})
	o := fakeOpts(V21, 4, 4)
	o.NumToTransfer = 3
	res := generate(t, newFake(4, pred), []int32{1, 2, 3, 4}, o)
	if got := commitsOf(res.Trace); !reflect.DeepEqual(got[:2], [][]int{{4, 5, 6}, {7}}) || !res.Trace[0].Fallback {
		t.Fatalf("commits %v", got)
	}
}

// 2.1 eos_early_stop is checked between blocks; without it decoding runs to gen_length
// (the reference behaviour) and only the output is cut.
func TestEOSEarlyStop21(t *testing.T) {
	pred := table(map[int][2]float64{4: {3, 0.99}, 5: {fEOS, 0.99}, 6: {4, 0.99}, 7: {5, 0.99}})
	o := fakeOpts(V21, 4, 12)
	o.EOSEarlyStop = true
	res := generate(t, newFake(4, pred), []int32{1, 2, 3, 4}, o)
	if res.Reason != StopEOSEarly || !slices.Equal(res.Blocks, []int{1}) || !slices.Equal(res.Tokens, []int32{3, fEOS}) {
		t.Fatalf("reason %s blocks %v tokens %v", res.Reason, res.Blocks, res.Tokens)
	}
	o.EOSEarlyStop = false
	res = generate(t, newFake(4, pred), []int32{1, 2, 3, 4}, o)
	if res.Reason != StopLength || !slices.Equal(res.Blocks, []int{1, 2, 3}) || !slices.Equal(res.Tokens, []int32{3, fEOS}) {
		t.Fatalf("reason %s blocks %v tokens %v", res.Reason, res.Blocks, res.Tokens)
	}
}

type commitLog struct{ offsets, lens []int }

func (c *commitLog) hook(e CommitEvent) bool {
	c.offsets = append(c.offsets, e.Offset)
	c.lens = append(c.lens, len(e.Tokens))
	return true
}

// 2.0: committed tokens are final at once, but text goes out left to right: a token waits
// for every masked position before it.
func TestCommitOrder20(t *testing.T) {
	pred := table(map[int][2]float64{4: {3, 0.8}, 5: {4, 0.7}, 6: {5, 0.99}, 7: {6, 0.6}})
	o := fakeOpts(V20, 4, 4)
	o.Threshold = 0.95
	var log commitLog
	o.OnCommit = log.hook
	res := generate(t, newFake(4, pred), []int32{1, 2, 3, 4}, o)
	// Steps commit 6, 4, 5, 7 → pieces [4], [5 6], [7].
	if !slices.Equal(log.offsets, []int{0, 1, 3}) || !slices.Equal(log.lens, []int{1, 2, 1}) {
		t.Fatalf("offsets %v lens %v (trace %v)", log.offsets, log.lens, commitsOf(res.Trace))
	}
	if res.Stats.TimeToFirstToken <= 0 {
		t.Fatalf("time to first token %v", res.Stats.TimeToFirstToken)
	}
}

// 2.1: edits can rewrite any generated position of the current block, so text goes out
// one finished block at a time.
func TestCommitOrder21(t *testing.T) {
	o := fakeOpts(V21, 4, 10)
	var log commitLog
	var steps []int
	o.OnCommit = func(e CommitEvent) bool {
		steps = append(steps, len(log.offsets))
		return log.hook(e)
	}
	res := generate(t, newFake(4, randomPredict(0)), []int32{1, 2, 3, 4, 5, 6}, o)
	// Blocks 1 (positions 6, 7), 2, 3 (positions 12..15, output ends at 16).
	if !slices.Equal(log.offsets, []int{0, 2, 6}) || !slices.Equal(log.lens, []int{2, 4, 4}) {
		t.Fatalf("offsets %v lens %v, reason %s tokens %v", log.offsets, log.lens, res.Reason, res.Tokens)
	}
}

func TestCancelFromOnStep(t *testing.T) {
	for _, v := range []Variant{V20, V21} {
		f := newFake(4, randomPredict(0))
		o := fakeOpts(v, 4, 16)
		o.Threshold = 0.99 // one commit per step
		n := 0
		o.OnStep = func(StepEvent) bool { n++; return n < 3 }
		res, err := New(f, fV, f.capacity, f.capacity).Generate(context.Background(), []int32{1, 2, 3, 4}, o)
		if !errors.Is(err, ErrStopped) || res.Reason != StopCancelled {
			t.Fatalf("%v: err %v reason %s", v, err, res.Reason)
		}
		if len(res.Trace) != 3 || f.calls != 1+3 { // prefill + three steps, nothing after
			t.Fatalf("%v: %d forwards, %d model calls", v, len(res.Trace), f.calls)
		}
		// The partial result: for 2.0 every committed token of the contiguous prefix is
		// final; for 2.1 nothing of the unfinished block is.
		want := res.Canvas[4:]
		if i := slices.Index(want, fMask); i >= 0 {
			want = want[:i]
		}
		if v == V21 {
			want = nil
		}
		if !slices.Equal(res.Tokens, want) {
			t.Fatalf("%v: partial tokens %v canvas %v", v, res.Tokens, res.Canvas)
		}
	}
}

func TestCancelFromOnCommit(t *testing.T) {
	f := newFake(4, randomPredict(0))
	o := fakeOpts(V21, 4, 16)
	o.OnCommit = func(CommitEvent) bool { return false }
	res, err := New(f, fV, f.capacity, f.capacity).Generate(context.Background(), []int32{1, 2, 3, 4}, o)
	if !errors.Is(err, ErrStopped) || res.Reason != StopCancelled || !slices.Equal(res.Blocks, []int{1}) {
		t.Fatalf("err %v reason %s blocks %v", err, res.Reason, res.Blocks)
	}
	if len(res.Tokens) != 4 || !slices.Equal(res.Tokens, res.Canvas[4:8]) {
		t.Fatalf("partial result %v / %v", res.Tokens, res.Canvas)
	}
}

func TestCancelFromContext(t *testing.T) {
	// Cancelled during a forward: that forward completes, no other starts.
	for _, at := range []int{1, 2, 5} {
		ctx, cancel := context.WithCancel(context.Background())
		f := newFake(4, randomPredict(0))
		f.beforeRun = func(calls int) {
			if calls == at {
				cancel()
			}
		}
		o := fakeOpts(V20, 4, 16)
		o.Threshold = 0.99
		res, err := New(f, fV, f.capacity, f.capacity).Generate(ctx, []int32{1, 2, 3, 4}, o)
		if !errors.Is(err, context.Canceled) || errors.Is(err, ErrStopped) || res.Reason != StopCancelled {
			t.Fatalf("at %d: err %v reason %s", at, err, res.Reason)
		}
		if f.calls != at {
			t.Fatalf("cancelled in call %d, %d calls made", at, f.calls)
		}
		cancel()
	}
	// Already done: no forward at all.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f := newFake(4, randomPredict(0))
	_, err := New(f, fV, f.capacity, f.capacity).Generate(ctx, []int32{1, 2}, fakeOpts(V21, 4, 8))
	if !errors.Is(err, context.Canceled) || f.calls != 0 {
		t.Fatalf("err %v, %d calls", err, f.calls)
	}
}

func TestForwardError(t *testing.T) {
	f := newFake(4, randomPredict(0))
	boom := errors.New("boom")
	f.err = func(n int) error {
		if n == 3 {
			return boom
		}
		return nil
	}
	_, err := New(f, fV, f.capacity, f.capacity).Generate(context.Background(), []int32{1, 2, 3, 4, 5}, fakeOpts(V20, 4, 16))
	if !errors.Is(err, boom) {
		t.Fatalf("err %v", err)
	}
}

func TestBadInputs(t *testing.T) {
	prompt := []int32{1, 2, 3}
	cases := []struct {
		name   string
		edit   func(o *Options)
		prompt []int32
		want   string
	}{
		{"empty prompt", nil, []int32{}, "empty prompt"},
		{"zero gen length", func(o *Options) { o.GenLength = 0 }, nil, "generation length"},
		{"negative gen length", func(o *Options) { o.GenLength = -5 }, nil, "generation length"},
		{"beyond context", func(o *Options) { o.GenLength = 100 }, nil, "exceeds the context of 64"},
		{"rounded beyond context", func(o *Options) { o.GenLength = 62; o.BlockLength = 8 }, nil, "= 72 positions"},
		{"threshold > 1", func(o *Options) { o.Threshold = 1.5 }, nil, "threshold 1.5 outside [0, 1]"},
		{"threshold < 0", func(o *Options) { o.Threshold = -0.1 }, nil, "threshold -0.1"},
		{"threshold NaN", func(o *Options) { o.Threshold = math.NaN() }, nil, "threshold NaN"},
		{"edit threshold", func(o *Options) { o.Variant = V21; o.EditThreshold = 2 }, nil, "edit threshold 2"},
		{"edit threshold < 0", func(o *Options) { o.Variant = V21; o.EditThreshold = -1 }, nil, "edit threshold -1"},
		{"block 0", func(o *Options) { o.BlockLength = 0 }, nil, "block length 0"},
		{"block < 0", func(o *Options) { o.BlockLength = -32 }, nil, "block length -32"},
		{"steps 0", func(o *Options) { o.Steps = 0 }, nil, "steps 0"},
		{"steps < 0", func(o *Options) { o.Steps = -1 }, nil, "steps -1"},
		{"minimal_topk", func(o *Options) { o.MinimalTopK = 0 }, nil, "minimal_topk 0"},
		{"minimal_topk > gen", func(o *Options) { o.MinimalTopK = 9 }, nil, "leaves no step"},
		{"temperature < 0", func(o *Options) { o.Sampling.Temperature = -1 }, nil, "temperature -1"},
		{"top-p 0", func(o *Options) { o.Sampling.TopP = 0 }, nil, "top-p 0"},
		{"top-p > 1", func(o *Options) { o.Sampling.TopP = 1.2 }, nil, "top-p 1.2"},
		{"top-k < 0", func(o *Options) { o.Sampling.TopK = -3 }, nil, "top-k -3"},
		{"max post steps", func(o *Options) { o.Variant = V21; o.MaxPostSteps = -1 }, nil, "max post steps"},
		{"num_to_transfer", func(o *Options) { o.Variant = V21; o.NumToTransfer = 0 }, nil, "num_to_transfer 0"},
		{"variant", func(o *Options) { o.Variant = 7 }, nil, "unknown variant"},
		{"mask id", func(o *Options) { o.MaskID = fV }, nil, "mask id 16"},
		{"eos id", func(o *Options) { o.EOSID = -1 }, nil, "eos id -1"},
		{"eos is mask", func(o *Options) { o.EOSID = fMask }, nil, "eos id and mask id"},
		{"stop id", func(o *Options) { o.StopIDs = []int32{fEOS, 99} }, nil, "stop id 99"},
		{"stop id mask", func(o *Options) { o.StopIDs = []int32{fMask} }, nil, "is the mask token"},
		{"prompt token", nil, []int32{1, 77}, "prompt token 77 at position 1"},
		{"mask in the prompt's last block", nil, []int32{1, 2, 3, 4, 5, fMask}, "position 5 is the mask token"},
		{"mask in a whole prompt block", nil, []int32{fMask, 2, 3, 4, 5, 6}, "position 0 is the mask token"},
		{"mask in the prompt, 2.1", func(o *Options) { o.Variant = V21 }, []int32{1, fMask, 3}, "position 1 is the mask token"},
		{"reuse prefix", func(o *Options) { o.ReusePrefix = 4 }, nil, "reuse prefix 4"},
		// Sizes whose sum would overflow, and a block longer than one forward holds.
		{"max gen length", func(o *Options) { o.GenLength = math.MaxInt }, nil, "generation length 9223372036854775807 exceeds"},
		{"max gen length, 2.1", func(o *Options) { o.Variant = V21; o.GenLength = math.MaxInt - 2 }, nil, "exceeds the context"},
		{"max block", func(o *Options) { o.BlockLength = math.MaxInt }, nil, "block length 9223372036854775807 exceeds 32"},
		{"block beyond a forward", func(o *Options) { o.BlockLength = 33 }, nil, "block length 33 exceeds 32"},
		{"max both", func(o *Options) { o.BlockLength, o.GenLength = math.MaxInt, math.MaxInt }, nil, "exceeds"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := fakeOpts(V20, 4, 8)
			if c.edit != nil {
				c.edit(&o)
			}
			p := prompt
			if c.prompt != nil {
				p = c.prompt
			}
			f := newFake(max(o.BlockLength, 1), randomPredict(0))
			res, err := New(f, fV, 64, 32).Generate(context.Background(), p, o)
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want ErrInvalid mentioning %q", err, c.want)
			}
			if f.calls != 0 || res.Tokens != nil {
				t.Fatalf("a bad request ran the model")
			}
		})
	}
	// The edges are valid.
	o := fakeOpts(V20, 4, 61)
	o.Threshold = 1
	if _, err := New(newFake(4, randomPredict(0)), fV, 64, 64).Generate(context.Background(), prompt, o); err != nil {
		t.Fatalf("exactly at capacity, τ = 1: %v", err)
	}
}

// randomOptions draws a configuration over both variants, odd block/step combinations,
// sampling, early stop and stop ids.
func randomOptions(r *rand.Rand) (Options, []int32) {
	v := Variant(r.IntN(2))
	b := []int{1, 2, 4, 8}[r.IntN(4)]
	o := fakeOpts(v, b, 1+r.IntN(24))
	o.Steps = 1 + r.IntN(10)
	o.Threshold = []float64{0, 0.5, 0.7, 0.9, 1}[r.IntN(5)]
	o.EditThreshold = []float64{0, 0.5, 0.9}[r.IntN(3)]
	o.MaxPostSteps = r.IntN(4)
	o.NumToTransfer = 1 + r.IntN(3)
	o.EOSEarlyStop = r.IntN(2) == 0
	if r.IntN(2) == 0 {
		o.StopIDs = []int32{fEOS, fRole}
	}
	if r.IntN(3) == 0 {
		o.Sampling = sample.Params{Temperature: 0.8, TopK: r.IntN(6), TopP: []float64{1, 0.9}[r.IntN(2)]}
		o.Seed = r.Uint64()
	}
	prompt := make([]int32, 1+r.IntN(20))
	for i := range prompt {
		prompt[i] = int32(r.IntN(12))
	}
	return o, prompt
}

// The cache driver and the full-window recomputation make the same decisions on a model
// whose prediction depends on everything visible, for every kind of configuration.
func TestCacheEqualsNoCache(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for i := 0; i < 400; i++ {
		o, prompt := randomOptions(r)
		pred := randomPredict([]float64{0, 0.02, 0.1}[i%3])
		fc, fn := newFake(o.BlockLength, pred), newFake(o.BlockLength, pred)
		a := generate(t, fc, prompt, o)
		o.NoCache = true
		b := generate(t, fn, prompt, o)
		if err := sameResult(a, b); err != nil {
			t.Fatalf("case %d (%+v, prompt %v): %v", i, o, prompt, err)
		}
		if a.Cached != fc.Len() || b.Cached != 0 {
			t.Fatalf("case %d: cached %d / state %d", i, a.Cached, fc.Len())
		}
		// Every cached run is one block at a block boundary (prefill aside).
		for _, run := range fc.runs[min(1, len(fc.runs)):] {
			var commit bool
			var start, n, rows int
			fmt.Sscanf(strings.ReplaceAll(strings.ReplaceAll(run, "/", " "), "+", " "), "%t %d %d %d", &commit, &start, &n, &rows)
			if (n != o.BlockLength || start%o.BlockLength != 0) && !(start == 0 && commit) {
				t.Fatalf("case %d: run %s", i, run)
			}
		}
	}
}

func sameResult(a, b Result) error {
	switch {
	case !slices.Equal(a.Tokens, b.Tokens):
		return fmt.Errorf("tokens %v vs %v", a.Tokens, b.Tokens)
	case a.Reason != b.Reason:
		return fmt.Errorf("reason %s vs %s", a.Reason, b.Reason)
	case !slices.Equal(a.Canvas, b.Canvas):
		return fmt.Errorf("canvas %v vs %v", a.Canvas, b.Canvas)
	case !slices.Equal(a.Blocks, b.Blocks):
		return fmt.Errorf("blocks %v vs %v", a.Blocks, b.Blocks)
	case !reflect.DeepEqual(a.Trace, b.Trace):
		return fmt.Errorf("traces differ:\n%+v\n%+v", a.Trace, b.Trace)
	}
	return nil
}

// A later turn that shares whole blocks with the cached canvas reuses them and decodes
// exactly as from scratch.
func TestReusePrefix(t *testing.T) {
	pred := randomPredict(0.05)
	o := fakeOpts(V20, 4, 12)
	f := newFake(4, pred)
	d := New(f, fV, f.capacity, f.capacity)
	first, err := d.Generate(context.Background(), []int32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, o)
	if err != nil {
		t.Fatal(err)
	}
	// Next turn: the first turn's canvas up to its cached length, then new tokens.
	next := append(slices.Clone(first.Canvas[:first.Cached]), 3, 1, 4, 1, 5)
	for i := range next {
		next[i] %= 12
	}
	common := 0
	for common < first.Cached && common < len(next) && next[common] == first.Canvas[common] {
		common++
	}
	o.ReusePrefix = common
	callsBefore := f.calls
	reused, err := d.Generate(context.Background(), next, o)
	if err != nil {
		t.Fatal(err)
	}
	o.ReusePrefix = 0
	fresh := generate(t, newFake(4, pred), next, o)
	if err := sameResult(reused, fresh); err != nil {
		t.Fatal(err)
	}
	if reused.Stats.PrefillTokens >= fresh.Stats.PrefillTokens || f.calls-callsBefore != reused.Stats.ModelCalls {
		t.Fatalf("prefill %d (fresh %d), %d calls", reused.Stats.PrefillTokens, fresh.Stats.PrefillTokens, f.calls-callsBefore)
	}
	// A reuse claim longer than the state holds is capped, not trusted.
	o.ReusePrefix = len(next)
	f2 := newFake(4, pred)
	again := generate(t, f2, next, o)
	if err := sameResult(again, fresh); err != nil {
		t.Fatal(err)
	}
}

// Steady-state decoding allocates only the trace (one entry and its commit list per step).
func TestAllocations(t *testing.T) {
	f := newFake(8, func(p int, _ []int32) (int32, float64) { return int32(p % 12), 0.5 })
	f.quiet = true
	d := New(f, fV, f.capacity, f.capacity)
	o := fakeOpts(V20, 8, 64)
	o.Threshold = 0.99
	prompt := []int32{1, 2, 3, 4, 5, 6, 7, 8}
	res, err := d.Generate(context.Background(), prompt, o)
	if err != nil {
		t.Fatal(err)
	}
	// With no forwards the per-step figure below is meaningless (and passes).
	if res.Stats.Forwards == 0 {
		t.Fatal("no forwards")
	}
	allocs := testing.AllocsPerRun(3, func() {
		if _, err := d.Generate(context.Background(), prompt, o); err != nil {
			t.Fatal(err)
		}
	})
	// Per generation: sampler, run state, result copies, trace growth (~log2 of its
	// length); per step: the commit list.
	perStep := (allocs - 25) / float64(res.Stats.Forwards)
	if perStep > 1.05 {
		t.Fatalf("%.0f allocations for %d forwards (%.2f per step)", allocs, res.Stats.Forwards, perStep)
	}
	t.Logf("%.0f allocations for %d forwards", allocs, res.Stats.Forwards)
}
