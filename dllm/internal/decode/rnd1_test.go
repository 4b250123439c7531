package decode

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"
)

const wPad = 29

func rnd1Base() RND1Options {
	o := RND1Options{Steps: 8, GenLength: 16, Temperature: 1, Greedy: true, EOSID: wEOS, PadID: wPad}
	o.MaskID = wMask
	return o
}

func TestRND1OptionsInvalid(t *testing.T) {
	d := NewWindow(newFakeWindow(), wV, 64)
	for name, f := range map[string]func(o *RND1Options){
		"steps 0":              func(o *RND1Options) { o.Steps = 0 },
		"steps -1":             func(o *RND1Options) { o.Steps = -1 },
		"gen 0":                func(o *RND1Options) { o.GenLength = 0 },
		"gen 1: end slot only": func(o *RND1Options) { o.GenLength = 1 },
		"no room for suffix":   func(o *RND1Options) { o.GenLength, o.Suffix = 4, []int32{7, 8, 9} },
		"temp NaN":             func(o *RND1Options) { o.Temperature = math.NaN() },
		"temp -1":              func(o *RND1Options) { o.Temperature = -1 },
		"temp inf":             func(o *RND1Options) { o.Temperature = math.Inf(1) },
		"top-k -1":             func(o *RND1Options) { o.TopK = -1 },
		"top-k 5 (NaN)":        func(o *RND1Options) { o.TopK = 5 },
		"top-p 0.9 (NaN)":      func(o *RND1Options) { o.TopP = 0.9 },
		"top-p 2":              func(o *RND1Options) { o.TopP = 2 },
		"top-p NaN":            func(o *RND1Options) { o.TopP = math.NaN() },
		"eb NaN":               func(o *RND1Options) { o.EntropyBounded, o.EBGamma = true, math.NaN() },
		"eb -1":                func(o *RND1Options) { o.EntropyBounded, o.EBGamma = true, -1 },
		"eb inf":               func(o *RND1Options) { o.EntropyBounded, o.EBGamma = true, math.Inf(1) },
		"eb without sampler":   func(o *RND1Options) { o.EBGamma = 0.5 },
		"pad is mask":          func(o *RND1Options) { o.PadID = wMask },
		"eos is mask":          func(o *RND1Options) { o.EOSID = wMask },
		"pad out of vocab":     func(o *RND1Options) { o.PadID = wV },
		"eos negative":         func(o *RND1Options) { o.EOSID = -1 },
		"suffix mask":          func(o *RND1Options) { o.Suffix = []int32{7, wMask} },
		"suffix out of vocab":  func(o *RND1Options) { o.Suffix = []int32{wV} },
		"mask out of vocab":    func(o *RND1Options) { o.MaskID = wV },
		"too long":             func(o *RND1Options) { o.GenLength = 60 },
		"stop is mask":         func(o *RND1Options) { o.StopIDs = []int32{wMask} },
	} {
		o := rnd1Base()
		f(&o)
		if _, err := d.GenerateRND1(context.Background(), wPrompt, o); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	for name, p := range map[string][]int32{"empty": nil, "mask": {1, wMask}, "out of vocab": {1, wV}} {
		if _, err := d.GenerateRND1(context.Background(), p, rnd1Base()); !errors.Is(err, ErrInvalid) {
			t.Errorf("prompt %s: err = %v, want ErrInvalid", name, err)
		}
	}
	// Filters that filter nothing are the official code's no-ops.
	for _, f := range []func(o *RND1Options){
		func(o *RND1Options) { o.TopK = wV },
		func(o *RND1Options) { o.TopK = 1 << 30 },
		func(o *RND1Options) { o.TopP = 1 },
	} {
		o := rnd1Base()
		f(&o)
		if _, err := d.GenerateRND1(context.Background(), wPrompt, o); err != nil {
			t.Errorf("no-op filter %+v: %v", o, err)
		}
	}
}

// TestRND1Canvas: prompt, masks, suffix, the end slot (pad or eos); only the masks are
// written, each exactly once, in at most Steps forwards.
func TestRND1Canvas(t *testing.T) {
	suffix := []int32{7, 8, 9}
	for _, eos := range []bool{false, true} {
		m := newFakeWindow()
		o := rnd1Base()
		o.Suffix, o.AddEOSAtEnd = suffix, eos
		r, err := NewWindow(m, wV, 64).GenerateRND1(context.Background(), wPrompt, o)
		if err != nil {
			t.Fatal(err)
		}
		lp, L := len(wPrompt), len(wPrompt)+o.GenLength
		first := m.inputs[0]
		if len(first) != L || !slices.Equal(first[:lp], wPrompt) || !slices.Equal(first[L-4:L-1], suffix) {
			t.Fatalf("first canvas %v", first)
		}
		end := int32(wPad)
		if eos {
			end = wEOS
		}
		if first[L-1] != end || r.Canvas[L-1] != end {
			t.Fatalf("end slot %d / %d, want %d", first[L-1], r.Canvas[L-1], end)
		}
		seen := map[int]bool{}
		for _, s := range r.Trace {
			for _, c := range s.Committed {
				if c.Pos < lp || c.Pos >= L-4 || seen[c.Pos] {
					t.Fatalf("committed %+v", c)
				}
				seen[c.Pos] = true
			}
			if len(s.Entropy) != len(s.Candidates) || len(s.Candidates) != len(s.Masked) {
				t.Fatalf("step %+v", s)
			}
		}
		if len(seen) != o.GenLength-4 || slices.Contains(r.Canvas, wMask) {
			t.Fatalf("%d revealed, canvas %v", len(seen), r.Canvas)
		}
		if m.calls > o.Steps || r.Stats.Forwards != m.calls || len(r.Trace) != m.calls {
			t.Fatalf("%d calls, %d steps, stats %+v", m.calls, len(r.Trace), r.Stats)
		}
		if !slices.Equal(r.Tokens, r.Canvas[lp:]) || r.Reason != StopLength {
			t.Fatalf("tokens %v reason %v", r.Tokens, r.Reason)
		}
	}
}

func TestRND1Keep(t *testing.T) {
	for _, c := range []struct{ total, step, steps, want int }{
		{23, 11, 12, 21}, {23, 1, 12, 1}, {11, 7, 8, 9}, {15, 7, 8, 13}, {3, 1, 8, 0},
		{10, 7, 10, 7}, {10, 3, 10, 3}, {100, 29, 100, 29}, {1, 255, 256, 0},
		// float32 as torch: (torch.tensor([[22]]) * (13/22)).long() is 12 (torch 2.8);
		// the float64 product rounds to 13.
		{22, 13, 22, 12}, {22, 26, 44, 12},
	} {
		if got := RND1Keep(c.total, c.step, c.steps); got != c.want {
			t.Errorf("RND1Keep(%d, %d, %d) = %d, want %d", c.total, c.step, c.steps, got, c.want)
		}
	}
	for total := 1; total <= 300; total++ {
		for steps := 1; steps <= 64; steps++ {
			for step := 1; step < steps; step++ {
				k := RND1Keep(total, step, steps)
				if k < 0 || k > total {
					t.Fatalf("RND1Keep(%d, %d, %d) = %d", total, step, steps, k)
				}
			}
		}
	}
}

// TestRND1StepsBeyondMasks: with more steps than masks, steps that reveal nothing reuse
// the last forward (no model call); greedy, the result is the same as with one step
// per mask; sampled, every step still draws its tokens.
func TestRND1StepsBeyondMasks(t *testing.T) {
	o := rnd1Base()
	o.GenLength = 6 // 5 masks
	o.Steps = 40
	m := newFakeWindow()
	r, err := NewWindow(m, wV, 64).GenerateRND1(context.Background(), wPrompt, o)
	if err != nil {
		t.Fatal(err)
	}
	if m.calls > 5 || r.Stats.Forwards != m.calls || len(r.Trace) <= m.calls {
		t.Fatalf("%d calls, %d steps, stats %+v", m.calls, len(r.Trace), r.Stats)
	}
	for i, s := range r.Trace {
		if (s.Calls == 0) != (i > 0 && len(r.Trace[i-1].Committed) == 0) {
			t.Fatalf("step %d: %+v after %+v", i, s, r.Trace[i-1])
		}
	}
	o.Greedy = false
	cs := &catCounter{Source: NewTorchSource(3)}
	o.Source = cs
	r, err = NewWindow(newFakeWindow(), wV, 64).GenerateRND1(context.Background(), wPrompt, o)
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, s := range r.Trace {
		want += len(s.Masked)
	}
	if cs.n != want {
		t.Fatalf("%d draws, want %d (one per position left per step)", cs.n, want)
	}
}

type catCounter struct {
	Source
	n int
}

func (c *catCounter) Categorical(p []float64, row int) int {
	c.n++
	return c.Source.Categorical(p, row)
}

// TestRND1ZeroTemperature: temperature 0 is clamped to 1e-8, every entropy is 0, and the
// ties reveal the earlier positions first: left to right.
func TestRND1ZeroTemperature(t *testing.T) {
	o := rnd1Base()
	o.Temperature = 0
	r, err := NewWindow(newFakeWindow(), wV, 64).GenerateRND1(context.Background(), wPrompt, o)
	if err != nil {
		t.Fatal(err)
	}
	next := len(wPrompt)
	for _, s := range r.Trace {
		for i, e := range s.Entropy {
			if e != 0 || s.Candidates[i].Conf != 0 {
				t.Fatalf("entropy %v log p %v at temperature 0", e, s.Candidates[i].Conf)
			}
		}
		for _, c := range s.Committed {
			if c.Pos != next {
				t.Fatalf("revealed %d, want %d (left to right)", c.Pos, next)
			}
			next++
		}
	}
}

// TestRND1EntropyBounded: gamma 0 reveals one position per step (at least one always),
// a huge gamma everything at once.
func TestRND1EntropyBounded(t *testing.T) {
	o := rnd1Base()
	o.EntropyBounded = true
	o.Steps = 32
	r, err := NewWindow(newFakeWindow(), wV, 64).GenerateRND1(context.Background(), wPrompt, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Trace) != o.GenLength-1 {
		t.Fatalf("%d steps, want %d", len(r.Trace), o.GenLength-1)
	}
	for _, s := range r.Trace {
		if len(s.Committed) != 1 || s.NumTransfer != -1 && len(s.Masked) > 1 {
			t.Fatalf("step %+v", s)
		}
		// the revealed one has the highest log-probability
		for _, c := range s.Candidates {
			if c.Conf > s.Committed[0].Conf {
				t.Fatalf("revealed %+v before %+v", s.Committed[0], c)
			}
		}
	}
	o.EBGamma = 1e6
	r, err = NewWindow(newFakeWindow(), wV, 64).GenerateRND1(context.Background(), wPrompt, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Trace) != 1 || len(r.Trace[0].Committed) != o.GenLength-1 {
		t.Fatalf("gamma 1e6: %d steps", len(r.Trace))
	}
}

// maskPredictor predicts the mask id at one position and wEOS at another.
type maskPredictor struct {
	fakeWindow
	maskAt int
}

func (m *maskPredictor) Window(tokens []int32, rows []int, logits []float32) error {
	if err := m.fakeWindow.Window(tokens, rows, logits); err != nil {
		return err
	}
	for i, p := range rows {
		if p == m.maskAt {
			logits[i*wV+wMask] = 60
		}
	}
	return nil
}

// TestRND1PredictsMask: a position whose token is the mask id keeps it and counts as
// decoded (the official code's maskable bookkeeping); the output runs past it.
func TestRND1PredictsMask(t *testing.T) {
	m := &maskPredictor{fakeWindow: *newFakeWindow(), maskAt: len(wPrompt) + 2}
	r, err := NewWindow(m, wV, 64).GenerateRND1(context.Background(), wPrompt, rnd1Base())
	if err != nil {
		t.Fatal(err)
	}
	if r.Canvas[m.maskAt] != wMask || len(r.Tokens) != 16 || r.Tokens[2] != wMask {
		t.Fatalf("canvas %v tokens %v", r.Canvas, r.Tokens)
	}
	n := 0
	for _, s := range r.Trace {
		n += len(s.Committed)
	}
	if n != 15 {
		t.Fatalf("%d revealed, want 15", n)
	}
}

// badLogits writes v everywhere, or with one only at entry 3 of every row (1 elsewhere).
type badLogits struct {
	v   float32
	one bool
}

func (b badLogits) Window(tokens []int32, rows []int, logits []float32) error {
	for i := range logits {
		logits[i] = b.v
		if b.one && i%wV != 3 {
			logits[i] = 1
		}
	}
	return nil
}

func TestRND1Errors(t *testing.T) {
	for _, b := range []badLogits{{v: float32(math.NaN())}, {v: float32(math.Inf(1))}, {v: float32(math.Inf(-1))},
		{v: float32(math.NaN()), one: true}, {v: float32(math.Inf(1)), one: true}} {
		if _, err := NewWindow(b, wV, 64).GenerateRND1(context.Background(), wPrompt, rnd1Base()); err == nil {
			t.Errorf("logits %+v: no error", b)
		}
	}
	// One −inf logit is a token of probability 0: finite scores (where the official
	// code's entropy would be NaN).
	r, err := NewWindow(badLogits{v: float32(math.Inf(-1)), one: true}, wV, 64).GenerateRND1(context.Background(), wPrompt, rnd1Base())
	if err != nil || math.IsNaN(float64(r.Trace[0].Entropy[0])) {
		t.Errorf("one -inf logit: %v", err)
	}
	m := newFakeWindow()
	m.err = errors.New("boom")
	if _, err := NewWindow(m, wV, 64).GenerateRND1(context.Background(), wPrompt, rnd1Base()); !errors.Is(err, m.err) {
		t.Errorf("model error: %v", err)
	}
	// A replay that runs out.
	o := rnd1Base()
	o.Greedy = false
	o.Source = NewReplaySource(0, []int{1, 2}, nil)
	if _, err := NewWindow(newFakeWindow(), wV, 64).GenerateRND1(context.Background(), wPrompt, o); err == nil {
		t.Error("exhausted replay: no error")
	}
	// Cancellation through OnStep and the context.
	o = rnd1Base()
	o.OnStep = func(WindowStepEvent) bool { return false }
	r, err = NewWindow(newFakeWindow(), wV, 64).GenerateRND1(context.Background(), wPrompt, o)
	if !errors.Is(err, ErrStopped) || r.Reason != StopCancelled || len(r.Trace) != 1 {
		t.Errorf("OnStep false: %v %v %d steps", err, r.Reason, len(r.Trace))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := NewWindow(newFakeWindow(), wV, 64).GenerateRND1(ctx, wPrompt, rnd1Base()); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}

// TestRND1EarlyStop: EOSEarlyStop saves forwards without changing the tokens, and the
// OnCommit pieces add up to them.
func TestRND1EarlyStop(t *testing.T) {
	run := func(early bool) (WindowResult, []int32, int) {
		m := newFakeWindow()
		m.eosAt = len(wPrompt) + 1
		var got []int32
		o := rnd1Base()
		o.StopIDs, o.EOSEarlyStop = []int32{wEOS}, early
		o.OnCommit = func(ev CommitEvent) bool {
			if ev.Offset != len(got) {
				t.Fatalf("commit at %d after %d", ev.Offset, len(got))
			}
			got = append(got, ev.Tokens...)
			return true
		}
		r, err := NewWindow(m, wV, 64).GenerateRND1(context.Background(), wPrompt, o)
		if err != nil {
			t.Fatal(err)
		}
		return r, got, m.calls
	}
	r0, c0, n0 := run(false)
	r1, c1, n1 := run(true)
	if !slices.Equal(r0.Tokens, r1.Tokens) || !slices.Equal(c0, r0.Tokens) || !slices.Equal(c1, r1.Tokens) {
		t.Fatalf("tokens %v / %v, commits %v / %v", r0.Tokens, r1.Tokens, c0, c1)
	}
	if r0.Reason != StopEOSBlock || r1.Reason != StopEOSBlock || r0.Tokens[len(r0.Tokens)-1] != wEOS {
		t.Fatalf("reasons %v %v tokens %v", r0.Reason, r1.Reason, r0.Tokens)
	}
	if n1 > n0 {
		t.Fatalf("early stop ran %d forwards, %d without", n1, n0)
	}
}
