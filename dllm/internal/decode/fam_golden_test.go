package decode

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// The goldens of the bidirectional families (testdata/families/*/README.md): one call of
// the official generate function each, with a trace of every forward.

var famFixtures = []string{"llada", "llada-moe", "dream", "rnd1"}

func famDir(fixture string) string {
	return filepath.Join("..", "..", "..", "testdata", "families", fixture)
}

type famGolden struct {
	File        string         `json:"-"`
	Fixture     string         `json:"-"`
	Family      string         `json:"family"`
	Function    string         `json:"function"`
	Params      map[string]any `json:"params"`
	GenConfig   map[string]any `json:"generation_config"` // RND1
	SuffixIDs   []int32        `json:"suffix_ids"`        // RND1 infill
	Infill      *int           `json:"infill_length"`     // RND1 infill
	Seed        *uint64        `json:"seed"`
	PromptIDs   []int32        `json:"prompt_ids"`
	OutputIDs   []int32        `json:"output_ids"`
	FinalCanvas []int32        `json:"final_canvas"`
	Forwards    int            `json:"forwards"`
	Timesteps   []float64      `json:"timesteps"`
	Trace       []famTrace     `json:"trace"`
}

type famTrace struct {
	Forward     int          `json:"forward"`
	Kind        string       `json:"kind"`
	Input       []int        `json:"input"`
	Block       *int         `json:"block"`
	Step        *int         `json:"step"`
	BatchRows   int          `json:"batch_rows"`
	Masked      []int        `json:"masked"`
	NumTransfer *int         `json:"num_transfer"`
	Candidates  [][3]float64 `json:"candidates"`
	Committed   [][]float64  `json:"committed"`
	Rand        []float64    `json:"rand"`
	Sampled     []struct {
		Rows       int       `json:"rows"`
		X0         []int     `json:"x0"`
		Confidence []float64 `json:"confidence"`
	} `json:"sampled"`
	TopK *struct {
		K          int                `json:"k"`
		Selected   []int              `json:"selected"`
		Confidence map[string]float64 `json:"confidence"`
	} `json:"topk"`
	MultinomialSelected []int `json:"multinomial_selected"`
	// RND1: the entropy schedule's torch.topk of the positions kept masked, or the
	// entropy-bounded sampler's order.
	KeepMaskedTopK *struct {
		K       int                `json:"k"`
		Kept    []int              `json:"kept"`
		Entropy map[string]float64 `json:"entropy"`
	} `json:"keep_masked_topk"`
	EBOrder *struct {
		Order      []int              `json:"order"`
		NegLogprob map[string]float64 `json:"neg_logprob"`
	} `json:"eb_order"`
}

// num is a number of the golden's params (RND1: generation_config), or def.
func (g *famGolden) num(key string, def float64) float64 {
	if v, ok := g.Params[key].(float64); ok {
		return v
	}
	if v, ok := g.GenConfig[key].(float64); ok {
		return v
	}
	return def
}

func (g *famGolden) dream() bool { return g.Family == "dream" }
func (g *famGolden) rnd1() bool  { return g.Family == "rnd1" }

// supported says whether the golden is one of the algorithms the window decoders run:
// ML-GSAI generate, Fast-dLLM's threshold generate and its prefix / dual cache
// functions, Dream's diffusion_generate (incl. confidence_threshold) and Fast-dLLM's
// block-wise cached sampler for it. All are.
func (g *famGolden) supported() bool {
	if g.rnd1() || g.dream() {
		return true
	}
	switch g.Function {
	case "generate", "generate_with_prefix_cache", "generate_with_dual_cache":
		return true
	}
	return false
}

// cache is the golden's cache mode.
func (g *famGolden) cache() CacheMode {
	if g.dream() {
		if _, block := g.Params["block_length"]; !block {
			return CacheNone
		}
		if g.Params["dual_cache"] == true {
			return CacheDual
		}
		return CachePrefix
	}
	switch g.Function {
	case "generate_with_prefix_cache":
		return CachePrefix
	case "generate_with_dual_cache":
		return CacheDual
	}
	return CacheNone
}

func loadFamGoldens(t testing.TB, fixture string) []*famGolden {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(famDir(fixture), "golden", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var out []*famGolden
	for _, f := range files {
		base := filepath.Base(f)
		if !strings.HasPrefix(base, "gen_") && !strings.HasPrefix(base, "fast_") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		g := &famGolden{File: base, Fixture: fixture}
		if err := json.Unmarshal(b, g); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if g.supported() {
			out = append(out, g)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no generation goldens in %s", famDir(fixture))
	}
	return out
}

func (g *famGolden) seed() uint64 {
	if g.Seed != nil {
		return *g.Seed
	}
	return 0
}

func (g *famGolden) lladaOptions() LLaDAOptions {
	o := LLaDAOptions{
		Steps:       int(g.num("steps", 0)),
		GenLength:   int(g.num("gen_length", 0)),
		BlockLength: int(g.num("block_length", 0)),
		Temperature: g.num("temperature", 0),
		CFGScale:    g.num("cfg_scale", 0),
		Threshold:   g.num("threshold", 0),
		Cache:       g.cache(),
	}
	if g.Params["remasking"] == "random" {
		o.Remasking = RandomRemasking
	}
	o.MaskID = int32(g.num("mask_id", -1))
	o.Seed = g.seed()
	return o
}

// dreamReplay lists the recorded outcomes of torch.multinomial in call order.
func (g *famGolden) dreamReplay() (tokens, picks []int) {
	for _, s := range g.Trace {
		for _, c := range s.Sampled {
			tokens = append(tokens, c.X0...)
		}
		picks = append(picks, s.MultinomialSelected...)
	}
	return tokens, picks
}

func (g *famGolden) dreamOptions() DreamOptions {
	alg, _ := ParseDreamAlg(g.Params["alg"].(string))
	o := DreamOptions{
		Alg:         alg,
		Steps:       int(g.num("steps", 0)),
		GenLength:   int(g.num("max_new_tokens", 0)),
		Eps:         g.num("eps", 1e-3),
		Temperature: g.num("temperature", 0),
		TopP:        g.num("top_p", 0),
		// Not given, top_k is 50: diffusion_generate builds its config from the model
		// config, whose (transformers 4.46) defaults include top_k 50 and top_p 1.0.
		TopK:      int(g.num("top_k", 50)),
		AlgTemp:   g.num("alg_temp", 0),
		Threshold: g.num("threshold", 0.9), // diffusion_generate's kwargs default
		Cache:     g.cache(),
	}
	if o.Cache != CacheNone {
		o.BlockLength = int(g.num("block_length", 0))
	}
	o.MaskID = int32(g.num("mask_token_id", -1))
	o.Seed = g.seed()
	if o.Temperature > 0 || o.AlgTemp > 0 {
		tokens, picks := g.dreamReplay()
		o.Source = NewReplaySource(g.seed(), tokens, picks)
	}
	return o
}

// run decodes the golden's prompt with its options on m.
func (g *famGolden) run(m WindowModel, vocab int, onStep func(WindowStepEvent) bool) (WindowResult, error) {
	d := NewWindow(m, vocab, len(g.FinalCanvas))
	if g.rnd1() {
		o := g.rnd1Options()
		o.OnStep = onStep
		return d.GenerateRND1(context.Background(), g.PromptIDs, o)
	}
	if g.dream() {
		o := g.dreamOptions()
		o.OnStep = onStep
		return d.GenerateDream(context.Background(), g.PromptIDs, o)
	}
	o := g.lladaOptions()
	o.OnStep = onStep
	return d.GenerateLLaDA(context.Background(), g.PromptIDs, o)
}

// committedOf returns a golden step's commits as (pos, token) in the golden's order.
func (s *famTrace) committedOf() [][2]int {
	out := make([][2]int, len(s.Committed))
	for i, c := range s.Committed {
		out[i] = [2]int{int(c[0]), int(c[1])}
	}
	return out
}

// compareStep checks one step against the golden's record: the eligible positions, the
// schedule, the commits (LLaDA: in top-k order; Dream: by position, as recorded) and
// the confidences within tol (LLaDA candidates; Dream sampled rows).
func compareStep(g *famGolden, s WindowStep, w *famTrace, tol float64) error {
	if g.rnd1() {
		return compareRND1Step(s, w, tol)
	}
	if !slices.Equal(s.Masked, w.Masked) {
		return fmt.Errorf("masked %v, want %v", s.Masked, w.Masked)
	}
	if g.cache() != CacheNone {
		if s.Kind != w.Kind || !slices.Equal(s.Input[:], w.Input) {
			return fmt.Errorf("forward %s over %v, want %s over %v", s.Kind, s.Input, w.Kind, w.Input)
		}
	}
	if w.NumTransfer != nil && s.NumTransfer != *w.NumTransfer {
		return fmt.Errorf("num_transfer %d, want %d", s.NumTransfer, *w.NumTransfer)
	}
	if w.TopK != nil && s.NumTransfer != w.TopK.K {
		return fmt.Errorf("top-k k %d, want %d", s.NumTransfer, w.TopK.K)
	}
	got := make([][2]int, len(s.Committed))
	for i, c := range s.Committed {
		got[i] = [2]int{c.Pos, int(c.Token)}
	}
	want := w.committedOf()
	if g.dream() {
		byPos := func(a, b [2]int) int { return a[0] - b[0] }
		slices.SortFunc(got, byPos)
		slices.SortFunc(want, byPos)
	}
	if !slices.Equal(got, want) {
		return fmt.Errorf("committed %v, want %v", got, want)
	}
	if w.TopK != nil && w.MultinomialSelected == nil {
		order := make([]int, len(s.Committed))
		for i, c := range s.Committed {
			order[i] = c.Pos
		}
		// confidence_threshold records the whole top-k, refused positions included.
		if len(order) > len(w.TopK.Selected) || !slices.Equal(order, w.TopK.Selected[:len(order)]) {
			return fmt.Errorf("top-k order %v, want %v", order, w.TopK.Selected)
		}
	}
	if w.Rand != nil {
		if len(s.Rand) != len(w.Rand) {
			return fmt.Errorf("%d uniforms, want %d", len(s.Rand), len(w.Rand))
		}
		for i, u := range w.Rand {
			if math.Abs(float64(s.Rand[i])-u) > 1e-7*u+1e-12 {
				return fmt.Errorf("uniform %d: %v, want %v", i, s.Rand[i], u)
			}
		}
	}
	if s.Calls == 0 {
		return nil // a no-op step whose forward was skipped: nothing was predicted
	}
	if w.Candidates != nil {
		if len(s.Candidates) != len(w.Candidates) {
			return fmt.Errorf("%d candidates, want %d", len(s.Candidates), len(w.Candidates))
		}
		for i, c := range w.Candidates {
			h := s.Candidates[i]
			if h.Pos != int(c[0]) || int(h.Token) != int(c[1]) || math.Abs(float64(h.Conf)-c[2]) > tol {
				return fmt.Errorf("candidate %d: got %v, want %v", i, h, c)
			}
		}
	}
	if len(w.Sampled) == 1 && g.cache() != CacheNone {
		// The block sampler samples every canvas row in a block's full forward and every
		// masked row of the input after; the decoder computes the rows it uses.
		// (The full forward's record is cut short; its one commit is checked above.)
		if w.Kind == "full" {
			return nil
		}
		ws, pos := w.Sampled[0], blockSampled(g, w)
		if len(pos) != ws.Rows {
			return fmt.Errorf("golden: %d sampled rows for %d positions", ws.Rows, len(pos))
		}
		for _, h := range s.Candidates {
			i := slices.Index(pos, h.Pos)
			if i < 0 || int(h.Token) != ws.X0[i] || math.Abs(float64(h.Conf)-ws.Confidence[i]) > tol {
				return fmt.Errorf("sampled position %d: got [%d %g], want %v", h.Pos, h.Token, h.Conf, ws)
			}
		}
	} else if len(w.Sampled) == 1 {
		ws := w.Sampled[0]
		if len(s.Candidates) != ws.Rows {
			return fmt.Errorf("%d sampled rows, want %d", len(s.Candidates), ws.Rows)
		}
		for i, h := range s.Candidates {
			if int(h.Token) != ws.X0[i] || math.Abs(float64(h.Conf)-ws.Confidence[i]) > tol {
				return fmt.Errorf("sampled row %d: got [%d %d %g], want x0 %d conf %g", i, h.Pos, h.Token, h.Conf, ws.X0[i], ws.Confidence[i])
			}
		}
	}
	return nil
}

// checkFamGolden compares a whole run with a golden: the final canvas and output, and
// every recorded step. Steps the decoder did not run are those after the canvas was
// complete, which the golden shows with nothing masked.
func checkFamGolden(g *famGolden, res WindowResult, tol float64) error {
	if !slices.Equal(res.Canvas, g.FinalCanvas) {
		return fmt.Errorf("final canvas\n got %v\nwant %v", res.Canvas, g.FinalCanvas)
	}
	if !slices.Equal(res.Tokens, g.OutputIDs) {
		return fmt.Errorf("tokens\n got %v\nwant %v", res.Tokens, g.OutputIDs)
	}
	if len(res.Trace) > len(g.Trace) {
		return fmt.Errorf("%d steps, want %d", len(res.Trace), len(g.Trace))
	}
	for i := range g.Trace {
		w := &g.Trace[i]
		if i >= len(res.Trace) {
			if len(w.Masked) != 0 {
				return fmt.Errorf("stopped after %d steps, golden forward %d still has masks", len(res.Trace), i)
			}
			continue
		}
		if err := compareStep(g, res.Trace[i], w, tol); err != nil {
			return fmt.Errorf("step %d: %w", i, err)
		}
	}
	return nil
}

// openWindowModel opens a model file or directory of a family fixture as a WindowModel
// and returns it with its vocabulary size: testdata/families/<fixture>/hf for the
// goldens of the official code, the GGUF a llama.cpp golden names (its -m) for those.
// It is nil until a model implementation registers itself from a test file of this
// package (package decode, so that it can set the variable), e.g.
//
//	// window_model_test.go
//	func init() {
//		openWindowModel = func(path string) (WindowModel, int, error) {
//			m, err := family.Open(path) // the implementation's loader
//			if err != nil {
//				return nil, 0, err
//			}
//			return m, m.VocabSize(), nil
//		}
//	}
//
// It may return a nil model for a path it does not handle; those goldens then skip.
var openWindowModel func(path string) (WindowModel, int, error)

var (
	windowModelsMu sync.Mutex
	windowModels   = map[string]windowModelEntry{}
)

type windowModelEntry struct {
	m     WindowModel
	vocab int
}

// windowModel opens path once per test binary, or skips the test.
func windowModel(t *testing.T, path string) (WindowModel, int) {
	t.Helper()
	if openWindowModel == nil {
		t.Skip("no WindowModel implementation registered (openWindowModel)")
	}
	windowModelsMu.Lock()
	defer windowModelsMu.Unlock()
	e, ok := windowModels[path]
	if !ok {
		m, vocab, err := openWindowModel(path)
		if err != nil {
			t.Fatalf("opening %s: %v", path, err)
		}
		e = windowModelEntry{m, vocab}
		windowModels[path] = e
	}
	if e.m == nil {
		t.Skipf("no WindowModel implementation for %s", path)
	}
	return e.m, e.vocab
}

// TestFamilyGoldensModel runs every supported golden of the official code end to end
// on the real model: tokens and decisions exactly, confidences within 1e-4.
func TestFamilyGoldensModel(t *testing.T) {
	for _, fx := range famFixtures {
		for _, g := range loadFamGoldens(t, fx) {
			t.Run(fx+"/"+strings.TrimSuffix(g.File, ".json"), func(t *testing.T) {
				m, vocab := windowModel(t, filepath.Join(famDir(fx), "hf"))
				res, err := g.run(m, vocab, nil)
				if err != nil {
					t.Fatal(err)
				}
				if err := checkFamGolden(g, res, 1e-4); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

// blockSampled are the positions of a Dream block-sampler golden's cached step whose
// rows sample_tokens got, in order: the input's masked positions (confidence_threshold)
// or the block's (other algs).
func blockSampled(g *famGolden, w *famTrace) []int {
	hi := w.Input[1]
	if g.Params["alg"] != "confidence_threshold" {
		hi = w.Input[0] + int(g.num("block_length", 0))
	}
	return slices.DeleteFunc(slices.Clone(w.Masked), func(p int) bool { return p < w.Input[0] || p >= hi })
}
