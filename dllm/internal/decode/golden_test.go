package decode

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/dllm-go/dllm/dllm/internal/arch"
	"github.com/dllm-go/dllm/dllm/internal/sample"
	"github.com/dllm-go/dllm/dllm/internal/weights"
)

// genGolden is a testdata/*/golden/gen_*.json file (format in testdata/llada2-micro/README.md).
type genGolden struct {
	Name    string `json:"name"`
	Variant string `json:"variant"`
	Params  struct {
		Temperature      float64  `json:"temperature"`
		TopP             *float64 `json:"top_p"`
		TopK             *int     `json:"top_k"`
		MinimalTopK      int      `json:"minimal_topk"`
		EOSEarlyStop     bool     `json:"eos_early_stop"`
		EOSID            int32    `json:"eos_id"`
		MaskID           int32    `json:"mask_id"`
		BlockLength      int      `json:"block_length"`
		Steps            int      `json:"steps"`
		Threshold        float64  `json:"threshold"`
		EditingThreshold *float64 `json:"editing_threshold"`
		MaxPostSteps     int      `json:"max_post_steps"`
		NumToTransfer    int      `json:"num_to_transfer"`
		GenLength        int      `json:"gen_length"`
	} `json:"params"`
	PromptIDs     []int32 `json:"prompt_ids"`
	OutputIDs     []int32 `json:"output_ids"`
	StopReason    string  `json:"stop_reason"`
	BlocksDecoded []int   `json:"blocks_decoded"`
	FinalCanvas   []int32 `json:"final_canvas"`
	Stats         struct {
		Forwards           int `json:"forwards"`
		Committed          int `json:"committed"`
		MultiCommitSteps   int `json:"multi_commit_steps"`
		FallbackSteps      int `json:"fallback_steps"`
		MaxCommitInOneStep int `json:"max_commit_in_one_step"`
		Edits              int `json:"edits"`
	} `json:"stats"`
	TransferSchedule []int        `json:"transfer_schedule"`
	Trace            []goldenStep `json:"trace"`
}

type goldenStep struct {
	Block     int      `json:"block"`
	Step      int      `json:"step"`
	PostStep  *int     `json:"post_step"`
	Window    int      `json:"window"`
	Masked    int      `json:"masked"`
	Above     int      `json:"above"`
	Scheduled *int     `json:"scheduled"`
	Fallback  bool     `json:"fallback"`
	Committed []Commit `json:"committed"`
	Edited    []Edit   `json:"edited"`
}

const confTol = 1e-4 // README: confidences within 1e-4

func (g *genGolden) options() Options {
	p := g.Params
	o := Options{
		BlockLength: p.BlockLength, GenLength: p.GenLength, Threshold: p.Threshold,
		Steps: p.Steps, MinimalTopK: p.MinimalTopK, MaxPostSteps: p.MaxPostSteps,
		NumToTransfer: p.NumToTransfer, EOSEarlyStop: p.EOSEarlyStop,
		Sampling: sample.Params{Temperature: p.Temperature, TopP: 1},
		MaskID:   p.MaskID, EOSID: p.EOSID,
	}
	if p.TopP != nil {
		o.Sampling.TopP = *p.TopP
	}
	if p.TopK != nil {
		o.Sampling.TopK = *p.TopK
	}
	if g.Variant == "2.1" {
		o.Variant = V21
		o.EditThreshold = *p.EditingThreshold
	}
	return o
}

func loadGoldens(t testing.TB, fixture string) []*genGolden {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "..", "testdata", fixture, "golden", "gen_*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no generation goldens for %s (%v)", fixture, err)
	}
	var out []*genGolden
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		g := new(genGolden)
		if err := json.Unmarshal(b, g); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, g)
	}
	return out
}

var (
	modelsMu sync.Mutex
	models   = map[string]*arch.Model{}
)

// fixtureHF is the Hugging Face directory of a fixture. The tiny-chat model's files live
// in the package that embeds them as the built-in demo model.
func fixtureHF(fixture string) string {
	if fixture == "llada2-tiny-chat" {
		return filepath.Join("..", "demo", "hf")
	}
	return filepath.Join("..", "..", "..", "testdata", fixture, "hf")
}

// fixtureModel opens a fixture's model once per test binary.
func fixtureModel(t testing.TB, fixture string) *arch.Model {
	t.Helper()
	modelsMu.Lock()
	defer modelsMu.Unlock()
	if m := models[fixture]; m != nil {
		return m
	}
	ck, err := weights.Open(fixtureHF(fixture))
	if err != nil {
		t.Fatal(err)
	}
	// The checkpoint stays mapped for the life of the test binary.
	cfg, err := arch.LoadConfig(ck)
	if err != nil {
		t.Fatal(err)
	}
	tensors, err := arch.CanonicalTensors(ck)
	if err != nil {
		t.Fatal(err)
	}
	m, err := arch.Bind(cfg, tensors)
	if err != nil {
		t.Fatal(err)
	}
	models[fixture] = m
	return m
}

func newDecoder(t testing.TB, m *arch.Model) *Decoder {
	t.Helper()
	st, err := m.NewState(arch.StateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return New(st, m.Config().VocabSize, st.Capacity(), st.MaxRun())
}

// checkGolden compares a result with a golden: tokens, stop reason, blocks, final canvas,
// stats and every trace decision exactly, confidences within confTol.
func checkGolden(g *genGolden, res Result) error {
	if !slices.Equal(res.Tokens, g.OutputIDs) {
		return fmt.Errorf("tokens\n got %v\nwant %v", res.Tokens, g.OutputIDs)
	}
	if string(res.Reason) != g.StopReason {
		return fmt.Errorf("stop reason %q, want %q", res.Reason, g.StopReason)
	}
	if !slices.Equal(res.Blocks, g.BlocksDecoded) {
		return fmt.Errorf("blocks %v, want %v", res.Blocks, g.BlocksDecoded)
	}
	if !slices.Equal(res.Canvas, g.FinalCanvas) {
		return fmt.Errorf("final canvas\n got %v\nwant %v", res.Canvas, g.FinalCanvas)
	}
	if len(res.Trace) != len(g.Trace) {
		return fmt.Errorf("%d forwards, want %d", len(res.Trace), len(g.Trace))
	}
	for i, w := range g.Trace {
		s := res.Trace[i]
		at := fmt.Sprintf("trace[%d] (block %d step %d)", i, w.Block, w.Step)
		if s.Block != w.Block || s.Step != w.Step || s.Window != w.Window || s.Masked != w.Masked ||
			s.Above != w.Above || s.Fallback != w.Fallback {
			return fmt.Errorf("%s: got %+v, want %+v", at, s, w)
		}
		if w.Scheduled != nil && s.Scheduled != *w.Scheduled {
			return fmt.Errorf("%s: scheduled %d, want %d", at, s.Scheduled, *w.Scheduled)
		}
		if w.PostStep != nil && s.PostStep != *w.PostStep {
			return fmt.Errorf("%s: post_step %d, want %d", at, s.PostStep, *w.PostStep)
		}
		if len(s.Committed) != len(w.Committed) {
			return fmt.Errorf("%s: committed %v, want %v", at, s.Committed, w.Committed)
		}
		for j, c := range w.Committed {
			got := s.Committed[j]
			if got.Pos != c.Pos || got.Token != c.Token || math.Abs(float64(got.Conf-c.Conf)) > confTol {
				return fmt.Errorf("%s: committed[%d] = %v, want %v", at, j, got, c)
			}
		}
		if len(s.Edited) != len(w.Edited) {
			return fmt.Errorf("%s: edited %v, want %v", at, s.Edited, w.Edited)
		}
		for j, e := range w.Edited {
			got := s.Edited[j]
			if got.Pos != e.Pos || got.Old != e.Old || got.New != e.New || math.Abs(float64(got.Conf-e.Conf)) > confTol {
				return fmt.Errorf("%s: edited[%d] = %v, want %v", at, j, got, e)
			}
		}
	}
	st, ws := res.Stats, g.Stats
	if st.Forwards != ws.Forwards || st.Committed != ws.Committed || st.MultiCommitSteps != ws.MultiCommitSteps ||
		st.FallbackSteps != ws.FallbackSteps || st.MaxCommitInOneStep != ws.MaxCommitInOneStep || st.Edits != ws.Edits {
		return fmt.Errorf("stats %+v, want %+v", st, ws)
	}
	return nil
}

var fixtures = []string{"llada2-micro", "llada2-tiny-chat"}

// TestGoldens reproduces every generation golden, with the exact KV cache and with the
// reference's full-window recomputation, and checks that the text hook sees exactly the
// output, left to right.
func TestGoldens(t *testing.T) {
	for _, fx := range fixtures {
		m := fixtureModel(t, fx)
		for _, g := range loadGoldens(t, fx) {
			if g.Variant == "2.0" && !slices.Equal(Schedule(g.Params.BlockLength, min(g.Params.Steps, g.Params.GenLength/g.Params.MinimalTopK)), g.TransferSchedule) {
				t.Errorf("%s: schedule %v, want %v", g.Name, Schedule(g.Params.BlockLength, g.Params.Steps), g.TransferSchedule)
			}
			for _, noCache := range []bool{false, true} {
				name := fmt.Sprintf("%s/%s/cache", fx, g.Name)
				if noCache {
					name = fmt.Sprintf("%s/%s/nocache", fx, g.Name)
				}
				t.Run(name, func(t *testing.T) {
					d := newDecoder(t, m)
					o := g.options()
					o.NoCache = noCache
					var streamed []int32
					steps := 0
					o.OnCommit = func(e CommitEvent) bool {
						if e.Offset != len(streamed) {
							t.Errorf("commit at offset %d after %d tokens", e.Offset, len(streamed))
						}
						streamed = append(streamed, e.Tokens...)
						return true
					}
					o.OnStep = func(e StepEvent) bool {
						steps++
						if len(e.Canvas) != o.BlockLength || e.BlockStart != e.Block*o.BlockLength {
							t.Errorf("step event canvas %d at %d", len(e.Canvas), e.BlockStart)
						}
						return true
					}
					res, err := d.Generate(context.Background(), g.PromptIDs, o)
					if err != nil {
						t.Fatal(err)
					}
					if err := checkGolden(g, res); err != nil {
						t.Fatal(err)
					}
					if !slices.Equal(streamed, res.Tokens) {
						t.Errorf("streamed %v, result %v", streamed, res.Tokens)
					}
					if steps != len(res.Trace) {
						t.Errorf("%d step events for %d forwards", steps, len(res.Trace))
					}
					t.Logf("forwards %d, model calls %d (prefill %d tokens), %.2f tokens/forward, cached %d",
						res.Stats.Forwards, res.Stats.ModelCalls, res.Stats.PrefillTokens, res.Stats.TokensPerForward, res.Cached)
				})
			}
		}
	}
}

// Two decoders with their own states on one shared model, generating at the same time,
// give the sequential (golden) results. Run under -race.
func TestConcurrentDecoders(t *testing.T) {
	m := fixtureModel(t, "llada2-micro")
	goldens := loadGoldens(t, "llada2-micro")
	const workers = 2
	errs := make(chan error, workers*len(goldens))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := newDecoder(t, m)
			// Each worker walks the goldens in a different order, alternating cache modes.
			for i := range goldens {
				g := goldens[(i+w*len(goldens)/workers)%len(goldens)]
				o := g.options()
				o.NoCache = (i+w)%2 == 1
				res, err := d.Generate(context.Background(), g.PromptIDs, o)
				if err == nil {
					err = checkGolden(g, res)
				}
				if err != nil {
					errs <- fmt.Errorf("worker %d, %s (no cache %v): %w", w, g.Name, o.NoCache, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// The goldens stop on <|endoftext|> only. Adding <|role_end|> as a stop id changes nothing
// for outputs without it, and for the two that contain it, ends the output right after
// it, at the end of the block that produced it, with the same decisions up to there.
func TestRoleEndStopOnGoldens(t *testing.T) {
	const roleEnd = 1021 // <|role_end|> in the fixtures' tokenizer
	for _, fx := range fixtures {
		m := fixtureModel(t, fx)
		d := newDecoder(t, m)
		for _, g := range loadGoldens(t, fx) {
			o := g.options()
			o.StopIDs = []int32{g.Params.EOSID, roleEnd}
			res, err := d.Generate(context.Background(), g.PromptIDs, o)
			if err != nil {
				t.Fatal(err)
			}
			i := slices.Index(g.OutputIDs, roleEnd)
			if i < 0 {
				if err := checkGolden(g, res); err != nil {
					t.Errorf("%s/%s: %v", fx, g.Name, err)
				}
				continue
			}
			want := g.OutputIDs[:i+1]
			if !slices.Equal(res.Tokens, want) || res.Reason != StopToken {
				t.Errorf("%s/%s: tokens %v reason %s, want %v stop_token", fx, g.Name, res.Tokens, res.Reason, want)
			}
			n := len(res.Trace)
			if n == 0 || n >= len(g.Trace) || res.Trace[n-1].Block != g.Trace[n-1].Block || g.Trace[n].Block == g.Trace[n-1].Block {
				t.Errorf("%s/%s: stopped after %d forwards, not at the end of a golden block", fx, g.Name, n)
			}
			t.Logf("%s/%s: <|role_end|> at output %d, stopped after %d of %d forwards", fx, g.Name, i, n, len(g.Trace))
		}
	}
}

// The trace marshals to the goldens' JSON form, field for field.
func TestTraceJSON(t *testing.T) {
	m := fixtureModel(t, "llada2-micro")
	d := newDecoder(t, m)
	for _, name := range []string{"gen_v20_b8_s3", "gen_v21_eos_early_stop"} {
		raw, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", "llada2-micro", "golden", name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var g genGolden
		var want struct {
			Trace []map[string]any `json:"trace"`
		}
		if err := json.Unmarshal(raw, &g); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatal(err)
		}
		res, err := d.Generate(context.Background(), g.PromptIDs, g.options())
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(res.Trace)
		if err != nil {
			t.Fatal(err)
		}
		var got []map[string]any
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want.Trace) {
			t.Fatalf("%s: %d entries, want %d", name, len(got), len(want.Trace))
		}
		for i := range got {
			if err := jsonClose(got[i], want.Trace[i]); err != nil {
				t.Fatalf("%s: trace[%d]: %v\n got %s", name, i, err, b)
			}
		}
	}
}

// jsonClose compares decoded JSON values, numbers within confTol.
func jsonClose(got, want any) error {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok || len(g) != len(w) {
			return fmt.Errorf("object %v, want %v", got, want)
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				return fmt.Errorf("missing %q", k)
			}
			if err := jsonClose(gv, wv); err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Errorf("array %v, want %v", got, want)
		}
		for i := range w {
			if err := jsonClose(g[i], w[i]); err != nil {
				return fmt.Errorf("[%d]: %w", i, err)
			}
		}
	case float64:
		g, ok := got.(float64)
		if !ok || math.Abs(g-w) > confTol {
			return fmt.Errorf("%v, want %v", got, want)
		}
	default:
		if got != want {
			return fmt.Errorf("%v, want %v", got, want)
		}
	}
	return nil
}

// With sampling (T > 0, top-k, top-p, a seed) the cache and the recomputation still make
// the same decisions, and a seed reproduces its run.
func TestSamplingCacheEqualsNoCache(t *testing.T) {
	m := fixtureModel(t, "llada2-micro")
	d := newDecoder(t, m)
	g := loadGoldens(t, "llada2-micro")[0]
	for _, v := range []Variant{V20, V21} {
		for seed := uint64(1); seed <= 3; seed++ {
			o := V20Defaults(48, g.Params.MaskID, g.Params.EOSID)
			if v == V21 {
				o = V21Quality(48, g.Params.MaskID, g.Params.EOSID)
			}
			o.BlockLength, o.Steps = 16, 16
			o.Sampling = sample.Params{Temperature: 0.9, TopK: 40, TopP: 0.95}
			o.Seed = seed
			a, err := d.Generate(context.Background(), g.PromptIDs, o)
			if err != nil {
				t.Fatal(err)
			}
			o.NoCache = true
			b, err := d.Generate(context.Background(), g.PromptIDs, o)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(a.Tokens, b.Tokens) || len(a.Trace) != len(b.Trace) {
				t.Fatalf("%v seed %d: cache %v, no cache %v", v, seed, a.Tokens, b.Tokens)
			}
			c, _ := d.Generate(context.Background(), g.PromptIDs, o)
			if !slices.Equal(c.Tokens, b.Tokens) {
				t.Fatalf("%v seed %d: not reproducible", v, seed)
			}
		}
	}
}

// A second turn reusing the cached prefix of the first decodes like a fresh state.
func TestReusePrefixModel(t *testing.T) {
	m := fixtureModel(t, "llada2-tiny-chat")
	var g *genGolden
	for _, x := range loadGoldens(t, "llada2-tiny-chat") {
		if x.Name == "gen_v20_add_default" {
			g = x
		}
	}
	d := newDecoder(t, m)
	o := g.options()
	first, err := d.Generate(context.Background(), g.PromptIDs, o)
	if err != nil {
		t.Fatal(err)
	}
	// Second turn: the first prompt and answer, then another question (the turn text
	// itself does not matter to the cache, only the shared prefix).
	next := append(slices.Clone(g.PromptIDs), first.Tokens...)
	next = append(next, 1021, 1022)
	next = append(next, g.PromptIDs[12:]...)
	common := 0
	for common < first.Cached && next[common] == first.Canvas[common] {
		common++
	}
	o.ReusePrefix = common
	reused, err := d.Generate(context.Background(), next, o)
	if err != nil {
		t.Fatal(err)
	}
	o.ReusePrefix = 0
	fresh, err := newDecoder(t, m).Generate(context.Background(), next, o)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(reused.Tokens, fresh.Tokens) || reused.Reason != fresh.Reason || len(reused.Trace) != len(fresh.Trace) {
		t.Fatalf("reused %v %s, fresh %v %s", reused.Tokens, reused.Reason, fresh.Tokens, fresh.Reason)
	}
	if reused.Stats.PrefillTokens >= fresh.Stats.PrefillTokens {
		t.Fatalf("prefill %d tokens with reuse, %d fresh", reused.Stats.PrefillTokens, fresh.Stats.PrefillTokens)
	}
	t.Logf("shared %d tokens; prefill %d vs %d tokens; output %v", common, reused.Stats.PrefillTokens, fresh.Stats.PrefillTokens, reused.Tokens)
}

// BenchmarkGoldens decodes every micro golden per iteration, with and without the cache.
func BenchmarkGoldens(b *testing.B) {
	m := fixtureModel(b, "llada2-micro")
	goldens := loadGoldens(b, "llada2-micro")
	for _, noCache := range []bool{false, true} {
		name := "cache"
		if noCache {
			name = "nocache"
		}
		b.Run(name, func(b *testing.B) {
			d := newDecoder(b, m)
			tokens, calls := 0, 0
			for b.Loop() {
				for _, g := range goldens {
					o := g.options()
					o.NoCache = noCache
					res, err := d.Generate(context.Background(), g.PromptIDs, o)
					if err != nil {
						b.Fatal(err)
					}
					tokens += len(res.Tokens)
					calls += res.Stats.ModelCalls
				}
			}
			b.ReportMetric(float64(tokens)/b.Elapsed().Seconds(), "tokens/s")
			b.ReportMetric(float64(calls)/float64(b.N), "calls/op")
		})
	}
}

// TestTinyChatEval decodes the 440 questions of the tiny-chat evaluation set with the
// defaults (τ 0.95) and compares with the reference outputs. The README promises no
// margin per question, so a few near-ties may flip; the test allows 1% and logs them,
// and logs the accuracy and forward count next to the reference's.
func TestTinyChatEval(t *testing.T) {
	if testing.Short() {
		t.Skip("440 generations")
	}
	raw, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", "llada2-tiny-chat", "golden", "eval.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev struct {
		Summary map[string]map[string]struct {
			Forwards int `json:"forwards"`
		} `json:"summary"`
		Items []struct {
			Question  string  `json:"question"`
			PromptIDs []int32 `json:"prompt_ids"`
			Expected  []int32 `json:"expected_ids"`
			Output    []int32 `json:"output_ids"`
			Correct   bool    `json:"correct"`
			Forwards  int     `json:"forwards"`
		} `json:"items"`
	}
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	m := fixtureModel(t, "llada2-tiny-chat")
	d := newDecoder(t, m)
	o := V20Defaults(64, 1020, 1019)
	same, correct, wantCorrect, forwards, n := 0, 0, 0, 0, 0
	for i, it := range ev.Items {
		if raceEnabled && i%8 != 0 {
			continue // the race detector makes the full set slow; a sample suffices there
		}
		n++
		res, err := d.Generate(context.Background(), it.PromptIDs, o)
		if err != nil {
			t.Fatal(err)
		}
		forwards += res.Stats.Forwards
		if slices.Equal(res.Tokens, it.Output) && res.Stats.Forwards == it.Forwards {
			same++
		} else {
			t.Logf("%q: %v (%d forwards), reference %v (%d)", it.Question, res.Tokens, res.Stats.Forwards, it.Output, it.Forwards)
		}
		if slices.Equal(res.Tokens, it.Expected) {
			correct++
		}
		if it.Correct {
			wantCorrect++
		}
	}
	t.Logf("%d/%d identical to the reference; %d correct (reference %d); %d forwards (reference %d for all)",
		same, n, correct, wantCorrect, forwards, ev.Summary["all"]["0.95"].Forwards)
	if n-same > n/100 {
		t.Fatalf("%d of %d outputs differ from the reference", n-same, n)
	}
}
