package decode

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

func TestMT19937(t *testing.T) {
	g := NewMT19937(5489) // std::mt19937's default seed
	if got := g.Uint32(); got != 3499211612 {
		t.Fatalf("first output %d, want 3499211612", got)
	}
	g.Skip(9998)
	if got := g.Uint32(); got != 4123659995 { // the C++ standard's check value
		t.Fatalf("10000th output %d, want 4123659995", got)
	}
	// torch.manual_seed(42); torch.rand(3); torch.rand(2, dtype=float64); torch.rand(1)
	s := NewTorchSource(42)
	f32 := make([]float32, 3)
	s.Uniform32(f32)
	f64 := make([]float64, 2)
	s.Uniform64(f64)
	last := make([]float32, 1)
	s.Uniform32(last)
	if !slices.Equal(f32, []float32{0.8822692632675171, 0.9150039553642273, 0.38286375999450684}) ||
		!slices.Equal(f64, []float64{0.6744455013246242, 0.8071630471508437}) || last[0] != 0.7936413288116455 {
		t.Fatalf("torch draws %v %v %v", f32, f64, last)
	}
	// torch keeps the low 32 bits of the seed.
	a, b := make([]float64, 1), make([]float64, 1)
	NewTorchSource(1<<40 + 7).Uniform64(a)
	NewTorchSource(7).Uniform64(b)
	if a[0] != b[0] || a[0] != 0.279380429906404 {
		t.Fatalf("seed 2^40+7 draws %v, seed 7 %v, want 0.279380429906404", a[0], b[0])
	}
	// Skip64 is the same as drawing.
	s1, s2 := NewTorchSource(3), NewTorchSource(3)
	s1.Skip64(1000)
	s2.Uniform64(make([]float64, 1000))
	s1.Uniform64(a)
	s2.Uniform64(b)
	if a[0] != b[0] {
		t.Fatal("Skip64 out of step with Uniform64")
	}
}

// TestDreamTimestepsTorch compares whole schedules with torch 2.5.1's
// torch.linspace(1, eps, n) (float32 little-endian bytes, SHA-256).
func TestDreamTimestepsTorch(t *testing.T) {
	for _, c := range []struct {
		steps int
		eps   float64
		sum   string
	}{
		{512, 1e-3, "8ac74b184b2d5865555da5c37e661f0dda60594fa7defa7d2822101ce79fc224"},
		{256, 0.01, "fbb6a8abb9d101c0d3aebd585a94c9c60c55aa62850f7f4450a1a3c296c3d1bc"},
		{1024, 1e-3, "72209eee95563331eaea1dede802cda61b4291ff198128e42d748e649a943cd1"},
		{128, 0.05, "3e29d998874ed7d04d7ff510440f4d08a2fe4f6c35b2d5b22a8110184b7a257d"},
	} {
		ts := DreamTimesteps(c.steps, c.eps)
		b := make([]byte, 4*len(ts))
		for i, v := range ts {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
		}
		h := sha256.Sum256(b)
		if got := hex.EncodeToString(h[:]); got != c.sum {
			t.Errorf("steps %d eps %g: sha256 %s, want %s", c.steps, c.eps, got, c.sum)
		}
	}
}

// TestFamilyGoldenSchedules checks the recorded timesteps of every Dream golden bit for
// bit, and LLaDA's per-block schedules against every recorded num_transfer.
func TestFamilyGoldenSchedules(t *testing.T) {
	for _, g := range loadFamGoldens(t, "dream") {
		if g.Timesteps == nil {
			continue
		}
		steps := int(g.num("steps", 0))
		if o := g.dreamOptions(); o.Cache != CacheNone { // the block sampler's, per block
			steps /= o.GenLength / o.BlockLength
		}
		ts := DreamTimesteps(steps, g.num("eps", 1e-3))
		for i, v := range g.Timesteps {
			if ts[i] != float32(v) {
				t.Errorf("%s: timestep %d = %v, want %v", g.File, i, ts[i], float32(v))
			}
		}
	}
	for _, fx := range []string{"llada", "llada-moe"} {
		for _, g := range loadFamGoldens(t, fx) {
			o := g.lladaOptions()
			if o.Threshold > 0 || o.Cache != CacheNone {
				continue // the cache goldens' schedules are checked by their runs
			}
			spb := o.Steps / (o.GenLength / o.BlockLength)
			sched := Schedule(o.BlockLength, spb)
			for _, s := range g.Trace {
				if *s.NumTransfer != sched[*s.Step] {
					t.Errorf("%s/%s block %d step %d: num_transfer %d, schedule %d", fx, g.File, *s.Block, *s.Step, *s.NumTransfer, sched[*s.Step])
				}
			}
		}
	}
}

// Fake vocabulary of the window tests.
const (
	wV    = 32
	wEOS  = 30
	wMask = 31
)

// fakeWindow is a deterministic bidirectional "model": the logits of a position are a
// fixed function of the position and of everything unmasked in the window.
type fakeWindow struct {
	calls  int
	inputs [][]int32
	err    error
	eosAt  int // position whose prediction is wEOS (-1: none)
}

func (m *fakeWindow) Window(tokens []int32, rows []int, logits []float32) error {
	m.calls++
	m.inputs = append(m.inputs, slices.Clone(tokens))
	if m.err != nil {
		return m.err
	}
	var h int
	for i, t := range tokens {
		if t != wMask {
			h = (h*31 + int(t) + i) % 1000003
		}
	}
	for i, p := range rows {
		row := logits[i*wV : (i+1)*wV]
		for v := range row {
			row[v] = float32(3 * math.Sin(float64(p*131+v*17+h%97)))
		}
		row[wMask] = 0
		if p == m.eosAt {
			row[wEOS] = 50
		}
	}
	return nil
}

func newFakeWindow() *fakeWindow { return &fakeWindow{eosAt: -1} }

var wPrompt = []int32{1, 2, 3, 4, 5}

func lladaBase() LLaDAOptions {
	o := LLaDAOptions{Steps: 8, GenLength: 16, BlockLength: 8}
	o.MaskID = wMask
	return o
}

func dreamBase() DreamOptions {
	o := DreamOptions{Alg: DreamEntropy, Steps: 8, GenLength: 16, Eps: 1e-3, Threshold: 0.9}
	o.MaskID = wMask
	return o
}

func TestWindowOptionsInvalid(t *testing.T) {
	d := NewWindow(newFakeWindow(), wV, 64)
	ctx := context.Background()
	for name, f := range map[string]func(o *LLaDAOptions){
		"steps 0":             func(o *LLaDAOptions) { o.Steps = 0 },
		"gen not blocks":      func(o *LLaDAOptions) { o.GenLength = 12 },
		"steps not by blocks": func(o *LLaDAOptions) { o.Steps = 7 },
		"block 0":             func(o *LLaDAOptions) { o.BlockLength = 0 },
		"gen 0":               func(o *LLaDAOptions) { o.GenLength = 0 },
		"temp NaN":            func(o *LLaDAOptions) { o.Temperature = math.NaN() },
		"temp -1":             func(o *LLaDAOptions) { o.Temperature = -1 },
		"cfg inf":             func(o *LLaDAOptions) { o.CFGScale = math.Inf(1) },
		"threshold 2":         func(o *LLaDAOptions) { o.Threshold = 2 },
		"remasking":           func(o *LLaDAOptions) { o.Remasking = 9 },
		"mask out of vocab":   func(o *LLaDAOptions) { o.MaskID = wV },
		"stop is mask":        func(o *LLaDAOptions) { o.StopIDs = []int32{wMask} },
		"too long":            func(o *LLaDAOptions) { o.GenLength, o.Steps = 64, 64 },
		"cache 9":             func(o *LLaDAOptions) { o.Cache = 9 },
		"cache with cfg":      func(o *LLaDAOptions) { o.Cache, o.CFGScale = CacheDual, 1 },
		"cache, no model":     func(o *LLaDAOptions) { o.Cache = CachePrefix }, // fakeWindow has no WindowCached
	} {
		o := lladaBase()
		f(&o)
		if _, err := d.GenerateLLaDA(ctx, wPrompt, o); !errors.Is(err, ErrInvalid) {
			t.Errorf("llada %s: err = %v, want ErrInvalid", name, err)
		}
	}
	for name, p := range map[string][]int32{"empty": nil, "mask": {1, wMask}, "out of vocab": {1, wV}, "negative": {-1}} {
		if _, err := d.GenerateLLaDA(ctx, p, lladaBase()); !errors.Is(err, ErrInvalid) {
			t.Errorf("llada prompt %s: err = %v, want ErrInvalid", name, err)
		}
	}
	for name, f := range map[string]func(o *DreamOptions){
		"alg":                   func(o *DreamOptions) { o.Alg = 9 },
		"steps 0":               func(o *DreamOptions) { o.Steps = 0 },
		"eps 0":                 func(o *DreamOptions) { o.Eps = 0 },
		"eps 1":                 func(o *DreamOptions) { o.Eps = 1 },
		"top-p 2":               func(o *DreamOptions) { o.TopP = 2 },
		"top-k -1":              func(o *DreamOptions) { o.TopK = -1 },
		"alg_temp origin":       func(o *DreamOptions) { o.Alg, o.AlgTemp = DreamOrigin, 0.5 },
		"alg_temp NaN":          func(o *DreamOptions) { o.AlgTemp = math.NaN() },
		"threshold divisible":   func(o *DreamOptions) { o.Alg, o.Steps = DreamConfidenceThreshold, 5 },
		"threshold -1":          func(o *DreamOptions) { o.Threshold = -1 },
		"gen beyond capacity":   func(o *DreamOptions) { o.GenLength = 60 },
		"stop id out of vocab":  func(o *DreamOptions) { o.StopIDs = []int32{99} },
		"cache 9":               func(o *DreamOptions) { o.Cache = 9 },
		"block, gen not blocks": func(o *DreamOptions) { o.BlockLength = 5 },
		"block -1":              func(o *DreamOptions) { o.Cache, o.BlockLength = CachePrefix, -1 },
		"gen not blocks":        func(o *DreamOptions) { o.Cache, o.BlockLength = CacheDual, 5 },
		"steps not by blocks":   func(o *DreamOptions) { o.Cache, o.BlockLength, o.Steps = CacheDual, 4, 6 },
		"cache, no model":       func(o *DreamOptions) { o.Cache, o.BlockLength = CacheDual, 8 },
	} {
		o := dreamBase()
		f(&o)
		if _, err := d.GenerateDream(ctx, wPrompt, o); !errors.Is(err, ErrInvalid) {
			t.Errorf("dream %s: err = %v, want ErrInvalid", name, err)
		}
	}
	if _, err := ParseDreamAlg("nope"); !errors.Is(err, ErrInvalid) {
		t.Errorf("ParseDreamAlg: %v", err)
	}
	for _, c := range []CacheMode{CacheNone, CachePrefix, CacheDual} {
		if got, err := ParseCacheMode(c.String()); err != nil || got != c {
			t.Errorf("ParseCacheMode(%q) = %v, %v", c.String(), got, err)
		}
	}
	if got, err := ParseCacheMode("none"); err != nil || got != CacheNone {
		t.Errorf("ParseCacheMode(none) = %v, %v", got, err)
	}
	if _, err := ParseCacheMode("full"); !errors.Is(err, ErrInvalid) {
		t.Errorf("ParseCacheMode(full): %v", err)
	}
}

// TestLLaDACFG: guidance runs a second forward per step with the prompt masked, and
// changes the logits the decision is made on.
func TestLLaDACFG(t *testing.T) {
	m0, m1 := newFakeWindow(), newFakeWindow()
	o := lladaBase()
	r0, err := NewWindow(m0, wV, 64).GenerateLLaDA(context.Background(), wPrompt, o)
	if err != nil {
		t.Fatal(err)
	}
	o.CFGScale = 1.5
	r1, err := NewWindow(m1, wV, 64).GenerateLLaDA(context.Background(), wPrompt, o)
	if err != nil {
		t.Fatal(err)
	}
	if m0.calls != 8 || r0.Stats.ModelCalls != 8 || r0.Stats.Forwards != 8 {
		t.Errorf("cfg 0: %d calls, stats %+v", m0.calls, r0.Stats)
	}
	if m1.calls != 16 || r1.Stats.ModelCalls != 16 || r1.Stats.Forwards != 8 || r1.Trace[0].Calls != 2 {
		t.Errorf("cfg 1.5: %d calls, stats %+v", m1.calls, r1.Stats)
	}
	for i := 0; i < len(m1.inputs); i += 2 {
		cond, un := m1.inputs[i], m1.inputs[i+1]
		for p := range cond {
			want := cond[p]
			if p < len(wPrompt) {
				want = wMask
			}
			if un[p] != want {
				t.Fatalf("unconditional input %d = %v (conditional %v)", i/2, un, cond)
			}
		}
	}
	if slices.Equal(r0.Tokens, r1.Tokens) {
		t.Errorf("guidance changed nothing: %v", r0.Tokens)
	}
}

// TestLLaDAStepsBeyondMasks: with more steps per block than masks, the schedule ends in
// zeros; those steps skip the forward but keep the random stream in step, so a seeded
// run equals the one with exactly one step per mask.
func TestLLaDAStepsBeyondMasks(t *testing.T) {
	o := lladaBase()
	o.Temperature, o.Remasking, o.Seed = 0.9, RandomRemasking, 11
	o.Steps = 32 // 16 per block of 8
	m := newFakeWindow()
	r, err := NewWindow(m, wV, 64).GenerateLLaDA(context.Background(), wPrompt, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Trace) != 32 || r.Stats.Forwards != 16 || m.calls != 16 {
		t.Fatalf("%d steps, %d forwards, %d calls", len(r.Trace), r.Stats.Forwards, m.calls)
	}
	for _, s := range r.Trace {
		if (s.NumTransfer == 0) != (s.Calls == 0) || (s.Step >= 8) != (s.NumTransfer == 0) {
			t.Fatalf("step %+v", s)
		}
	}
	// The same draws by hand: 8 real steps per block, then 8 no-ops whose draws a second
	// run without the no-ops must skip to land on the same stream. Replaying the stream
	// through a Source that counts the draws shows every step drew the same amount.
	cs := &countingSource{Source: NewTorchSource(11)}
	o.Source = cs
	if _, err := NewWindow(newFakeWindow(), wV, 64).GenerateLLaDA(context.Background(), wPrompt, o); err != nil {
		t.Fatal(err)
	}
	L := len(wPrompt) + o.GenLength
	if cs.f64 != 32*L*wV || cs.f32 != 32*L {
		t.Fatalf("drew %d float64 and %d float32, want %d and %d", cs.f64, cs.f32, 32*L*wV, 32*L)
	}
}

type countingSource struct {
	Source
	f64, f32 int
}

func (c *countingSource) Uniform64(u []float64) { c.f64 += len(u); c.Source.Uniform64(u) }
func (c *countingSource) Skip64(n int)          { c.f64 += n; c.Source.Skip64(n) }
func (c *countingSource) Uniform32(u []float32) { c.f32 += len(u); c.Source.Uniform32(u) }

// TestWindowEarlyStopAndCommits: EOSEarlyStop saves forwards without changing the
// tokens; OnCommit pieces concatenate to Result.Tokens.
func TestWindowEarlyStopAndCommits(t *testing.T) {
	for _, fam := range []string{"llada", "dream"} {
		run := func(early bool) (WindowResult, []int32, int) {
			m := newFakeWindow()
			m.eosAt = len(wPrompt) + 3
			var got []int32
			onCommit := func(ev CommitEvent) bool {
				if ev.Offset != len(got) {
					t.Fatalf("%s: commit at %d after %d tokens", fam, ev.Offset, len(got))
				}
				got = append(got, ev.Tokens...)
				return true
			}
			d := NewWindow(m, wV, 64)
			var r WindowResult
			var err error
			if fam == "llada" {
				o := lladaBase()
				o.StopIDs, o.EOSEarlyStop, o.OnCommit = []int32{wEOS}, early, onCommit
				r, err = d.GenerateLLaDA(context.Background(), wPrompt, o)
			} else {
				o := dreamBase()
				o.StopIDs, o.EOSEarlyStop, o.OnCommit = []int32{wEOS}, early, onCommit
				r, err = d.GenerateDream(context.Background(), wPrompt, o)
			}
			if err != nil {
				t.Fatal(err)
			}
			return r, got, m.calls
		}
		full, fullCommits, fullCalls := run(false)
		early, earlyCommits, earlyCalls := run(true)
		if len(full.Tokens) != 4 || full.Tokens[3] != wEOS || full.Reason != StopEOSBlock {
			t.Fatalf("%s: tokens %v reason %v", fam, full.Tokens, full.Reason)
		}
		if !slices.Equal(full.Tokens, early.Tokens) || early.Reason != StopEOSBlock {
			t.Fatalf("%s: early stop tokens %v (%v), full %v", fam, early.Tokens, early.Reason, full.Tokens)
		}
		if earlyCalls >= fullCalls {
			t.Errorf("%s: early stop took %d forwards, full run %d", fam, earlyCalls, fullCalls)
		}
		if !slices.Equal(fullCommits, full.Tokens) || !slices.Equal(earlyCommits, early.Tokens) {
			t.Errorf("%s: commits %v / %v, tokens %v", fam, fullCommits, earlyCommits, full.Tokens)
		}
	}
}

// TestDreamOriginDoneEarly: origin may reveal everything before the last step; the
// loop then ends (the remaining steps draw nothing) and the canvas is complete.
func TestDreamOriginDoneEarly(t *testing.T) {
	o := dreamBase()
	o.Alg, o.Steps = DreamOrigin, 8
	var m *fakeWindow
	var r WindowResult
	for o.Seed = 1; o.Seed < 50; o.Seed++ {
		m = newFakeWindow()
		var err error
		if r, err = NewWindow(m, wV, 64).GenerateDream(context.Background(), wPrompt, o); err != nil {
			t.Fatal(err)
		}
		if len(r.Trace) < o.Steps {
			break
		}
	}
	if len(r.Trace) >= o.Steps || slices.Contains(r.Canvas, wMask) || len(r.Tokens) != 16 {
		t.Fatalf("%d steps, canvas %v", len(r.Trace), r.Canvas)
	}
	for _, s := range r.Trace {
		if (len(s.Committed) == 0) != (s.Calls == 0) {
			t.Fatalf("step %d: %d commits, %d calls", s.Step, len(s.Committed), s.Calls)
		}
	}
	if r.Stats.Forwards != m.calls || r.Stats.Committed != 16 {
		t.Errorf("stats %+v, %d calls", r.Stats, m.calls)
	}
}

// TestDreamAlgs runs every alg with sampling options on the fake model: complete canvas,
// transfer counts as the schedule says, and reproducible with a seed.
func TestDreamAlgs(t *testing.T) {
	for alg := DreamOrigin; alg <= DreamConfidenceThreshold; alg++ {
		for _, samp := range []struct {
			temp, topP, algTemp float64
			topK                int
		}{{0, 0, 0, 0}, {0.7, 0.9, 0, 5}, {1, 0, 0.3, 0}} {
			o := dreamBase()
			o.Alg, o.Temperature, o.TopP, o.TopK, o.Seed = alg, samp.temp, samp.topP, samp.topK, 5
			if alg != DreamOrigin && alg != DreamConfidenceThreshold {
				o.AlgTemp = samp.algTemp
			}
			run := func() WindowResult {
				r, err := NewWindow(newFakeWindow(), wV, 64).GenerateDream(context.Background(), wPrompt, o)
				if err != nil {
					t.Fatalf("%v %+v: %v", alg, samp, err)
				}
				return r
			}
			a, b := run(), run()
			if slices.Contains(a.Canvas, wMask) || !slices.Equal(a.Canvas, b.Canvas) {
				t.Fatalf("%v %+v: canvas %v / %v", alg, samp, a.Canvas, b.Canvas)
			}
			if alg == DreamOrigin || alg == DreamConfidenceThreshold {
				continue
			}
			ts := DreamTimesteps(o.Steps, o.Eps)
			for i, s := range a.Trace {
				if want := DreamTransferCount(len(s.Masked), ts[i], ts[i+1], i == o.Steps-1); s.NumTransfer != want || len(s.Committed) != want {
					t.Fatalf("%v step %d: k %d, %d commits, want %d", alg, i, s.NumTransfer, len(s.Committed), want)
				}
			}
		}
	}
}

// TestWindowFailures: model errors, cancellation, callbacks and an exhausted replay.
func TestWindowFailures(t *testing.T) {
	boom := errors.New("boom")
	m := newFakeWindow()
	m.err = boom
	if _, err := NewWindow(m, wV, 64).GenerateLLaDA(context.Background(), wPrompt, lladaBase()); !errors.Is(err, boom) {
		t.Errorf("model error: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r, err := NewWindow(newFakeWindow(), wV, 64).GenerateDream(ctx, wPrompt, dreamBase())
	if !errors.Is(err, context.Canceled) || r.Reason != StopCancelled {
		t.Errorf("cancelled: %v %v", err, r.Reason)
	}
	o := lladaBase()
	n := 0
	o.OnStep = func(WindowStepEvent) bool { n++; return n < 3 }
	r, err = NewWindow(newFakeWindow(), wV, 64).GenerateLLaDA(context.Background(), wPrompt, o)
	if !errors.Is(err, ErrStopped) || r.Reason != StopCancelled || len(r.Trace) != 3 || r.Stats.Committed != 6 {
		t.Errorf("stopped: %v %v %d steps, tokens %v", err, r.Reason, len(r.Trace), r.Tokens)
	}
	od := dreamBase()
	od.Temperature = 1
	od.Source = NewReplaySource(0, []int{1, 2, 3}, nil)
	if _, err := NewWindow(newFakeWindow(), wV, 64).GenerateDream(context.Background(), wPrompt, od); err == nil || !strings.Contains(err.Error(), "replay") {
		t.Errorf("exhausted replay: %v", err)
	}
}

// TestDreamTopP compares the heap-ranked filter with top_p_logits done by a full sort.
func TestDreamTopP(t *testing.T) {
	const removed = -math.MaxFloat64
	rng := NewTorchSource(9)
	for trial := range 200 {
		V := 1 + trial%40
		z := make([]float64, V)
		u := make([]float64, V)
		rng.Uniform64(u)
		for i := range z {
			z[i] = math.Round(8*u[i]) / 2 // ties on purpose
		}
		topP := []float64{0.05, 0.3, 0.5, 0.9, 0.99}[trial%5]
		want := slices.Clone(z)
		idx := make([]int, V)
		for i := range idx {
			idx[i] = i
		}
		slices.SortStableFunc(idx, func(a, b int) int { return -cmpF(z[a], z[b]) })
		m := z[idx[0]]
		var sum float64
		for _, v := range z {
			sum += math.Exp(v - m)
		}
		var cum float64
		for j, i := range idx {
			if j > 0 && cum > topP {
				want[i] = removed
			}
			cum += math.Exp(z[i]-m) / sum
		}
		got := slices.Clone(z)
		(&dreamSampler{topP: topP}).topPFilter(got, removed)
		if !slices.Equal(got, want) {
			t.Fatalf("V %d top-p %v: z %v\n got %v\nwant %v", V, topP, z, got, want)
		}
	}
}

func cmpF(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func llamaBase() LlamaCppOptions {
	o := LlamaCppOptions{Schedule: LlamaCppBlock, Alg: LlamaCppConfidence, Steps: 6, GenLength: 19, BlockLength: 8, TopK: 1, TopP: 0.95}
	o.MaskID, o.Seed = wMask, 1
	return o
}

func TestLlamaCppOptions(t *testing.T) {
	d := NewWindow(newFakeWindow(), wV, 64)
	for name, f := range map[string]func(o *LlamaCppOptions){
		"schedule":          func(o *LlamaCppOptions) { o.Schedule = 5 },
		"alg":               func(o *LlamaCppOptions) { o.Alg = 5 },
		"steps":             func(o *LlamaCppOptions) { o.Steps = 0 },
		"canvas not blocks": func(o *LlamaCppOptions) { o.GenLength = 20 },
		"steps not blocks":  func(o *LlamaCppOptions) { o.Steps = 4 },
		"block 0":           func(o *LlamaCppOptions) { o.BlockLength = 0 },
		"eps":               func(o *LlamaCppOptions) { o.Schedule, o.Eps = LlamaCppTimestep, 0 },
		"temp":              func(o *LlamaCppOptions) { o.Temperature = -1 },
		"top-k":             func(o *LlamaCppOptions) { o.TopK = -1 },
		"top-p":             func(o *LlamaCppOptions) { o.TopP = math.NaN() },
	} {
		o := llamaBase()
		f(&o)
		if _, err := d.GenerateLlamaCpp(context.Background(), wPrompt, o); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	// Every algorithm under both schedules, greedy and sampled, fills the canvas; the
	// block schedule steps through the nominal blocks past the canvas too.
	for alg := LlamaCppOrigin; alg <= LlamaCppConfidence; alg++ {
		for _, sched := range []LlamaCppSchedule{LlamaCppBlock, LlamaCppTimestep} {
			for _, topK := range []int{1, 0, 5} {
				o := llamaBase()
				o.Alg, o.Schedule, o.TopK, o.Temperature = alg, sched, topK, 0.7
				if sched == LlamaCppTimestep {
					o.Eps = 1e-3
				}
				r, err := d.GenerateLlamaCpp(context.Background(), wPrompt, o)
				if err != nil {
					t.Fatalf("alg %d schedule %d top-k %d: %v", alg, sched, topK, err)
				}
				if slices.Contains(r.Canvas, wMask) && alg != LlamaCppOrigin {
					t.Errorf("alg %d schedule %d top-k %d: canvas %v", alg, sched, topK, r.Canvas)
				}
				// 24 positions / 8 = 3 nominal blocks of 2 steps; the blocks start after
				// the prompt: 5-12, 13-20, 21-23.
				if len(r.Trace) != 6 || r.Trace[5].Block != 2 && sched == LlamaCppBlock {
					t.Errorf("alg %d schedule %d: %d steps", alg, sched, len(r.Trace))
				}
			}
		}
	}
}

func TestWindowStepJSON(t *testing.T) {
	s := WindowStep{Block: 1, Step: 2, Calls: 2, Masked: []int{7, 9}, NumTransfer: 1,
		Candidates: []Commit{{7, 5, 0.25}, {9, 6, 0.5}}, Committed: []Commit{{9, 6, 0.5}}}
	b, err := s.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"block":1,"step":2,"batch_rows":2,"masked":[7,9],"num_transfer":1,"candidates":[[7,5,0.25],[9,6,0.5]],"committed":[[9,6,0.5]]}`
	if string(b) != want {
		t.Fatalf("%s\nwant %s", b, want)
	}
	b, _ = WindowStep{NumTransfer: -1, Rand: []float32{0.5}}.MarshalJSON()
	if want := `{"block":0,"step":0,"batch_rows":0,"masked":[],"candidates":[],"committed":[],"rand":[0.5]}`; string(b) != want {
		t.Fatalf("%s\nwant %s", b, want)
	}
}
