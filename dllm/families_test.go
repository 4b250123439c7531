package dllm_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dllm-go/dllm/dllm"
)

const familiesDir = "../testdata/families"

// familyForms lists every checkpoint of the family fixtures with the ids their READMEs
// give: mask, end of text (config.json's eos_token_id; LLaDA's tokenizer calls its end
// of turn <|eot_id|> eos_token) and end of turn.
var familyForms = []struct {
	family, path       string
	mask, eos, roleEnd int32
}{
	{"llada", "llada/hf", 1020, 1019, 1023},
	{"llada", "llada/gguf/llada-micro-f32.gguf", 1020, 1019, 1023},
	{"llada", "llada/gguf/llada-micro-q8_0.gguf", 1020, 1019, 1023},
	{"dream", "dream/hf", 1022, 1018, 1020},
	{"dream", "dream/gguf/dream-micro-f32.gguf", 1022, 1018, 1020},
	{"llada-moe", "llada-moe/hf", 1020, 1019, 1021},
	{"llada-moe", "llada-moe/gguf/llada-moe-micro-f32.gguf", 1020, 1019, 1021},
	{"rnd1", "rnd1/hf", 1023, 1020, 1020},
	{"rnd1", "rnd1/gguf/rnd1-micro-f32.gguf", 1023, 1020, 1020},
}

// TestLoadFamilies: Load accepts every family's HF folder and GGUFs and reports the
// family and its special tokens.
func TestLoadFamilies(t *testing.T) {
	for _, c := range familyForms {
		t.Run(c.path, func(t *testing.T) {
			m, err := dllm.Load(filepath.Join(familiesDir, c.path), dllm.LoadOptions{Threads: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			info := m.Info()
			if info.Architecture != c.family || info.MaskID != c.mask || info.EOSID != c.eos || info.RoleEndID != c.roleEnd {
				t.Errorf("info %+v, want family %s, mask %d, eos %d, role end %d", info, c.family, c.mask, c.eos, c.roleEnd)
			}
			if info.VocabSize != 1024 || info.Layers != 2 || info.HiddenSize != 64 {
				t.Errorf("info %+v", info)
			}
		})
	}
}

// familyGoldens are the family goldens whose options GenerateOptions expresses, with
// those options: each must be reproduced token for token through Session.GenerateIDs.
var familyGoldens = []struct {
	model, golden string
	opts          dllm.GenerateOptions
}{
	{"llada/hf", "gen_lowconf_b8_s16", dllm.GenerateOptions{MaxTokens: 32, Steps: 16, BlockLength: 8}},
	{"llada/hf", "gen_lowconf_single_block", dllm.GenerateOptions{MaxTokens: 16, Steps: 8, BlockLength: 16}},
	{"llada/hf", "gen_cfg1_greedy", dllm.GenerateOptions{MaxTokens: 16, Steps: 8, BlockLength: 8, CFGScale: 1}},
	{"llada/hf", "gen_cfg05_gumbel_t08_seed4", dllm.GenerateOptions{MaxTokens: 16, Steps: 8, BlockLength: 8, CFGScale: 0.5, Temperature: 0.8, Seed: 4}},
	{"llada/hf", "gen_gumbel_t1_random_seed3", dllm.GenerateOptions{MaxTokens: 16, Steps: 8, BlockLength: 8, Algorithm: "random", Temperature: 1, Seed: 3}},
	{"llada/hf", "gen_random_remask_seed1", dllm.GenerateOptions{MaxTokens: 16, Steps: 8, BlockLength: 8, Algorithm: "random", Seed: 1}},
	{"llada/hf", "fast_threshold09_nocache", dllm.GenerateOptions{MaxTokens: 32, Steps: 32, BlockLength: 8, Threshold: 0.9}},
	{"llada/hf", "fast_prefix_cache_threshold09", dllm.GenerateOptions{MaxTokens: 32, Steps: 32, BlockLength: 8, Threshold: 0.9, Cache: "prefix"}},
	{"llada/hf", "fast_dual_cache_steps", dllm.GenerateOptions{MaxTokens: 32, Steps: 16, BlockLength: 8, Cache: "dual"}},
	{"llada/hf", "llamacpp_block8_s16_topk1", dllm.GenerateOptions{MaxTokens: 33, Steps: 16, BlockLength: 8, Algorithm: "llama.cpp", TopK: 1, Seed: 1}},
	{"llada/gguf/llada-micro-f32.gguf", "gen_lowconf_b8_s16", dllm.GenerateOptions{MaxTokens: 32, Steps: 16, BlockLength: 8}},
	{"llada-moe/hf", "gen_lowconf_b8_s16", dllm.GenerateOptions{MaxTokens: 32, Steps: 16, BlockLength: 8}},
	{"llada-moe/hf", "gen_gumbel_t07_seed2", dllm.GenerateOptions{MaxTokens: 16, Steps: 8, BlockLength: 8, Temperature: 0.7, Seed: 2}},
	{"llada-moe/hf", "fast_threshold07_nocache", dllm.GenerateOptions{MaxTokens: 32, Steps: 32, BlockLength: 8, Threshold: 0.7}},
	{"llada-moe/hf", "llamacpp_block8_s14_topk1", dllm.GenerateOptions{MaxTokens: 32, Steps: 14, BlockLength: 8, Algorithm: "llama.cpp:confidence", TopK: 1, Seed: 1}},
	{"dream/hf", "gen_entropy_greedy", dllm.GenerateOptions{MaxTokens: 24, Steps: 12}},
	{"dream/hf", "gen_entropy_greedy_eps01", dllm.GenerateOptions{MaxTokens: 16, Steps: 8, Eps: 0.1}},
	{"dream/hf", "gen_maskgit_plus_greedy", dllm.GenerateOptions{MaxTokens: 24, Steps: 12, Algorithm: "maskgit_plus"}},
	{"dream/hf", "gen_topk_margin_greedy", dllm.GenerateOptions{MaxTokens: 24, Steps: 12, Algorithm: "topk_margin"}},
	{"dream/hf", "gen_origin_greedy_seed1", dllm.GenerateOptions{MaxTokens: 16, Steps: 8, Algorithm: "origin", Seed: 1}},
	{"dream/hf", "fast_confidence_threshold09_nocache", dllm.GenerateOptions{MaxTokens: 24, Steps: 12, Threshold: 0.9}},
	// Dream's official sampler filters to its config's top_k 50 even when greedy, and the
	// entropies are those of the filtered distribution; this golden has a decision that
	// depends on it.
	{"dream/hf", "fast_prefix_cache_entropy_steps", dllm.GenerateOptions{MaxTokens: 32, Steps: 16, BlockLength: 8, TopK: 50, Cache: "prefix"}},
	{"dream/hf", "fast_dual_cache_threshold09", dllm.GenerateOptions{MaxTokens: 32, Steps: 32, BlockLength: 8, Threshold: 0.9, TopK: 50, Cache: "dual"}},
	{"dream/hf", "llamacpp_eps_alg1_entropy_topk1", dllm.GenerateOptions{MaxTokens: 24, Steps: 12, Algorithm: "llama.cpp:entropy", TopK: 1, Seed: 1}},
	{"dream/hf", "llamacpp_eps_alg0_origin_topk1_seed4", dllm.GenerateOptions{MaxTokens: 24, Steps: 12, Algorithm: "llama.cpp:origin", Eps: 0.001, TopK: 1, Seed: 4}},
	{"dream/hf", "llamacpp_block8_alg4_topk1", dllm.GenerateOptions{MaxTokens: 30, Steps: 30, BlockLength: 8, Algorithm: "llama.cpp", TopK: 1, Seed: 1}},
	{"dream/gguf/dream-micro-f32.gguf", "gen_entropy_greedy", dllm.GenerateOptions{MaxTokens: 24, Steps: 12}},
	{"rnd1/hf", "gen_greedy_t1", dllm.GenerateOptions{MaxTokens: 24, Steps: 12, Temperature: 1, TopK: 1}},
	{"rnd1/hf", "gen_greedy_t05", dllm.GenerateOptions{MaxTokens: 24, Steps: 12, Temperature: 0.5, TopK: 1}},
	{"rnd1/hf", "gen_greedy_t1_eb_gamma05", dllm.GenerateOptions{MaxTokens: 24, Steps: 12, Temperature: 1, TopK: 1, Algorithm: "entropy_bounded", EBGamma: 0.5}},
	{"rnd1/hf", "llamacpp_eps_alg4_confidence_topk1", dllm.GenerateOptions{MaxTokens: 12, Steps: 12, Algorithm: "llama.cpp:confidence", TopK: 1, Seed: 1}},
	{"rnd1/gguf/rnd1-micro-f32.gguf", "gen_greedy_t2", dllm.GenerateOptions{MaxTokens: 16, Steps: 8, Temperature: 2, TopK: 1}},
}

// familyGolden is what a generation golden holds of interest here.
type familyGolden struct {
	PromptIDs []int32 `json:"prompt_ids"`
	OutputIDs []int32 `json:"output_ids"`
}

func readFamilyGolden(t *testing.T, model, name string) familyGolden {
	t.Helper()
	fixture, _, _ := strings.Cut(model, "/")
	b, err := os.ReadFile(filepath.Join(familiesDir, fixture, "golden", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var g familyGolden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	return g
}

// cutAtStop is the golden's output as Result.Tokens gives it: up to and including the
// first stop token (the official code keeps the whole canvas).
func cutAtStop(out []int32, stops ...int32) []int32 {
	for i, t := range out {
		if slices.Contains(stops, t) {
			return out[:i+1]
		}
	}
	return out
}

// TestFamilyGoldensThroughAPI: Session.GenerateIDs reproduces the official code's
// output token for token for every family, algorithm and option GenerateOptions
// expresses, and OnStep / OnText see the same tokens.
func TestFamilyGoldensThroughAPI(t *testing.T) {
	models := map[string]*dllm.Model{}
	defer func() {
		for _, m := range models {
			m.Close()
		}
	}()
	for _, c := range familyGoldens {
		t.Run(c.model+"/"+c.golden, func(t *testing.T) {
			m := models[c.model]
			if m == nil {
				var err error
				if m, err = dllm.Load(filepath.Join(familiesDir, c.model), dllm.LoadOptions{Threads: 1}); err != nil {
					t.Fatal(err)
				}
				models[c.model] = m
			}
			g := readFamilyGolden(t, c.model, c.golden)
			s, err := m.NewSession()
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			info := m.Info()
			want := cutAtStop(g.OutputIDs, info.EOSID, info.RoleEndID, 1018 /* RND1's pad */)
			if info.Architecture != "rnd1" {
				want = cutAtStop(g.OutputIDs, info.EOSID, info.RoleEndID)
			}
			var text strings.Builder
			var last []int32
			o := c.opts
			o.OnStep = func(ev dllm.StepEvent) bool {
				if ev.Start != len(g.PromptIDs) || ev.Prompt != len(g.PromptIDs) || len(ev.Canvas) != len(g.OutputIDs) {
					t.Errorf("step %d: start %d prompt %d canvas %d, want %d %d %d", ev.Step, ev.Start, ev.Prompt, len(ev.Canvas),
						len(g.PromptIDs), len(g.PromptIDs), len(g.OutputIDs))
				}
				for _, cm := range ev.Committed {
					if cm.Token != ev.Canvas[cm.Pos-ev.Start] || math.IsNaN(cm.Confidence) {
						t.Errorf("step %d: commit %+v, canvas holds %d", ev.Step, cm, ev.Canvas[cm.Pos-ev.Start])
					}
				}
				last = ev.Canvas
				return true
			}
			o.OnText = func(d string) bool { text.WriteString(d); return true }
			res, err := s.GenerateIDs(context.Background(), g.PromptIDs, o)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.Tokens, want) {
				t.Fatalf("tokens\n got %v\nwant %v", res.Tokens, want)
			}
			if !slices.Equal(last, g.OutputIDs) {
				t.Errorf("last step's canvas %v, want the golden's output %v", last, g.OutputIDs)
			}
			if text.String() != res.Text {
				t.Errorf("OnText gave %q, Text is %q", text.String(), res.Text)
			}
			if res.Stats.Tokens != len(want) || res.Stats.PromptTokens != len(g.PromptIDs) || res.Stats.Forwards == 0 ||
				res.Stats.CachedTokens != 0 || len(s.CachedTokens()) != 0 {
				t.Errorf("stats %+v, cached %v", res.Stats, s.CachedTokens())
			}
		})
	}
}

// TestFamilyOptionErrors: an option the family does not use is ErrInvalid naming it;
// so are LLaDA2's own options on the other families and theirs on LLaDA2.
func TestFamilyOptionErrors(t *testing.T) {
	cases := []struct {
		model string
		opts  dllm.GenerateOptions
		want  string
	}{
		{"llada/hf", dllm.GenerateOptions{Eps: 0.1}, "Eps is not an option of LLaDA"},
		{"llada/hf", dllm.GenerateOptions{TopK: 5}, "TopK is not an option of LLaDA"},
		{"llada/hf", dllm.GenerateOptions{Algorithm: "entropy"}, `Algorithm "entropy" is not one of LLaDA's`},
		{"llada/hf", dllm.GenerateOptions{Edit: true}, "Edit is LLaDA2.1 token editing"},
		{"llada/hf", dllm.GenerateOptions{MaxTokens: 16, Steps: 3, BlockLength: 8}, "steps 3 is not a multiple of the number of blocks 2"},
		{"dream/hf", dllm.GenerateOptions{BlockLength: 8}, "BlockLength is an option of Dream's cached decoding"},
		{"dream/hf", dllm.GenerateOptions{Cache: "triple"}, `Cache must be "" (exact), "prefix", "dual", "block", "block:N", "window:W" or "window:W:N", got "triple"`},
		{"llada/hf", dllm.GenerateOptions{Cache: "prefix", CFGScale: 1}, "has no classifier-free guidance"},
		{"rnd1/hf", dllm.GenerateOptions{Cache: "dual"}, "Cache is not an option of RND1"},
		{"dream/hf", dllm.GenerateOptions{Algorithm: "llama.cpp", Cache: "prefix"}, `Cache is not an option of Dream decoding with Algorithm "llama.cpp"`},
		{dllm.DemoModel, dllm.GenerateOptions{Cache: "prefix"}, "Cache is not an option of LLaDA2"},
		{"dream/hf", dllm.GenerateOptions{Cache: "block"}, `Cache "block" is LLaDA2's in-block cache, not an option of Dream decoding`},
		{"rnd1/hf", dllm.GenerateOptions{Cache: "block:2"}, `Cache "block:2" is LLaDA2's in-block cache, not an option of RND1 decoding`},
		{dllm.DemoModel, dllm.GenerateOptions{Cache: "block:0"}, `Cache must be "block:N", "window:W" or "window:W:N" with N and W whole numbers in [1,65536], got "block:0"`},
		{dllm.DemoModel, dllm.GenerateOptions{Cache: "window:4:0"}, `Cache must be "block:N", "window:W" or "window:W:N"`},
		{dllm.DemoModel, dllm.GenerateOptions{Cache: "window:"}, `got "window:"`},
		{"dream/hf", dllm.GenerateOptions{Cache: "window:8"}, `Cache "window:8" is LLaDA2's in-block cache, not an option of Dream decoding`},
		{dllm.DemoModel, dllm.GenerateOptions{Cache: "block:x"}, `Cache must be "block:N"`},
		{dllm.DemoModel, dllm.GenerateOptions{Cache: "window:8", Edit: true}, "the block cache decodes LLaDA2.0 only"},
		{dllm.DemoModel, dllm.GenerateOptions{Cache: "block", Edit: true}, "the block cache decodes LLaDA2.0 only"},
		{dllm.DemoModel, dllm.GenerateOptions{Cache: "block", NoCache: true}, "the block cache and NoCache"},
		{"dream/hf", dllm.GenerateOptions{CFGScale: 1}, "CFGScale is not an option of Dream"},
		{"dream/hf", dllm.GenerateOptions{Algorithm: "origin", AlgTemp: 0.5}, "alg_temp applies to"},
		{"dream/hf", dllm.GenerateOptions{Algorithm: "entropy", Threshold: 0.9}, "Threshold is an option of Dream's confidence_threshold"},
		{"rnd1/hf", dllm.GenerateOptions{Eps: 0.1}, "Eps is not an option of RND1"},
		{"rnd1/hf", dllm.GenerateOptions{TopK: 5}, "top-k 5 is not supported for RND1"},
		{"rnd1/hf", dllm.GenerateOptions{Algorithm: "entropy", EBGamma: 1}, "EBGamma is an option of RND1's entropy_bounded"},
		{"rnd1/hf", dllm.GenerateOptions{Algorithm: "llama.cpp", AlgTemp: 1}, `AlgTemp is not an option of RND1 decoding with Algorithm "llama.cpp"`},
		{"rnd1/hf", dllm.GenerateOptions{Algorithm: "llama.cpp", BlockLength: 8, Eps: 0.1}, "Eps is the timestep schedule's"},
		{dllm.DemoModel, dllm.GenerateOptions{Algorithm: "entropy"}, "Algorithm is not an option of LLaDA2"},
		{dllm.DemoModel, dllm.GenerateOptions{CFGScale: 1}, "CFGScale is not an option of LLaDA2"},
	}
	for _, c := range cases {
		path := c.model
		if path != dllm.DemoModel {
			path = filepath.Join(familiesDir, path)
		}
		m, err := dllm.Load(path, dllm.LoadOptions{Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		s, err := m.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.GenerateIDs(context.Background(), []int32{300, 301, 302}, c.opts)
		if !errors.Is(err, dllm.ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %+v: %v, want ErrInvalid with %q", c.model, c.opts, err, c.want)
		}
		s.Close()
		m.Close()
	}
}

// TestFamilyChat: Chat on a family renders its template, stops at its end of turn and
// records the turn; Generate and GenerateChat run too.
func TestFamilyChat(t *testing.T) {
	m, err := dllm.Load(filepath.Join(familiesDir, "dream/hf"), dllm.LoadOptions{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s, err := m.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	o := dllm.GenerateOptions{MaxTokens: 8, Steps: 4}
	if _, err := s.Chat(ctx, "Hi", o); err != nil {
		t.Fatal(err)
	}
	if h := s.History(); len(h) != 2 || h[0].Content != "Hi" {
		t.Errorf("history %+v", h)
	}
	if _, err := s.GenerateChat(ctx, []dllm.Message{{Role: "user", Content: "Hi"}}, o); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Generate(ctx, "Hello", o); err != nil {
		t.Fatal(err)
	}
}
