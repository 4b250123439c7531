package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// generationGolden is the part of a testdata/*/golden/gen_*.json file that the
// `generate --json` contract covers.
type generationGolden struct {
	Variant    string                 `json:"variant"`
	Params     map[string]any         `json:"params"`
	PromptIDs  []int32                `json:"prompt_ids"`
	OutputIDs  []int32                `json:"output_ids"`
	StopReason string                 `json:"stop_reason"`
	Stats      struct{ Forwards int } `json:"stats"`
	Trace      []map[string]any       `json:"trace"`
}

// goldenParamFlags maps the goldens' decoding parameters to the generate flags that
// set them; a null parameter means the flag's default.
var goldenParamFlags = map[string]string{
	"block_length": "--block-length", "steps": "--steps", "threshold": "--threshold",
	"editing_threshold": "--edit-threshold", "max_post_steps": "--max-post-steps",
	"gen_length": "--max-tokens", "eos_early_stop": "--eos-early-stop",
	"temperature": "--temp", "top_k": "--top-k", "top_p": "--top-p",
}

// goldenFixedParams are the parameters no flag sets, with the value the command always
// uses (nil: the model decides, as for the special token ids).
var goldenFixedParams = map[string]any{"minimal_topk": 1.0, "num_to_transfer": 1.0, "eos_id": nil, "mask_id": nil}

// args is the `dllm generate` command line with the golden's decoding options.
func (g *generationGolden) args(model string) ([]string, error) {
	ids := make([]string, len(g.PromptIDs))
	for i, id := range g.PromptIDs {
		ids[i] = strconv.Itoa(int(id))
	}
	args := []string{"generate", "-m", model, "--json", "--prompt-ids", strings.Join(ids, ","),
		"--stop-on-role-end=false"} // the reference stops at <|endoftext|> only
	for _, name := range sortedKeys(g.Params) {
		v := g.Params[name]
		if flag, ok := goldenParamFlags[name]; ok {
			if v != nil {
				args = append(args, fmt.Sprintf("%s=%v", flag, v))
			}
			continue
		}
		fixed, ok := goldenFixedParams[name]
		if !ok || (fixed != nil && v != fixed) {
			return nil, fmt.Errorf("parameter %s = %v: no flag sets it", name, v)
		}
	}
	return args, nil
}

// confidenceTolerance is the fixtures' tolerance for confidences (their README).
const confidenceTolerance = 1e-4

// TestGenerateJSONMatchesGoldens runs `dllm generate --json` with the options of every
// generation golden of both fixtures (LLaDA2.0 and LLaDA2.1) and compares it with the
// golden file: the same tokens, stop reason and forwards, and trace entries with exactly
// the golden's keys and values (confidences within 1e-4).
func TestGenerateJSONMatchesGoldens(t *testing.T) {
	fixtures := map[string]string{ // golden folder → the model it was made with
		"../../testdata/llada2-micro/golden":     "../../testdata/llada2-micro/hf",
		"../../testdata/llada2-tiny-chat/golden": "demo",
	}
	variants := map[string]int{}
	for dir, model := range fixtures {
		files, err := filepath.Glob(filepath.Join(dir, "gen_*.json"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no goldens (%v)", dir, err)
		}
		for _, file := range files {
			t.Run(filepath.Base(filepath.Dir(dir))+"/"+filepath.Base(file), func(t *testing.T) {
				raw, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				var g generationGolden
				if err := json.Unmarshal(raw, &g); err != nil {
					t.Fatal(err)
				}
				variants[g.Variant]++
				args, err := g.args(model)
				if err != nil {
					t.Fatal(err)
				}
				code, out, errOut := dllmCmd(t, "", args...)
				if code != 0 {
					t.Fatalf("exit %d: %s", code, errOut)
				}
				if err := compareWithGolden([]byte(out), &g); err != nil {
					t.Error(err)
				}
			})
		}
	}
	if variants["2.0"] == 0 || variants["2.1"] == 0 {
		t.Errorf("goldens per variant %v: want both 2.0 and 2.1", variants)
	}
}

// compareWithGolden checks one `generate --json` output against a golden.
func compareWithGolden(out []byte, g *generationGolden) error {
	var got struct {
		Tokens     []int32          `json:"tokens"`
		StopReason string           `json:"stop_reason"`
		Trace      []map[string]any `json:"trace"`
		Stats      struct {
			Forwards int `json:"forwards"`
		} `json:"stats"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		return fmt.Errorf("%v in %s", err, out)
	}
	if !slices.Equal(got.Tokens, g.OutputIDs) {
		return fmt.Errorf("tokens %v, want %v", got.Tokens, g.OutputIDs)
	}
	if got.StopReason != g.StopReason {
		return fmt.Errorf("stop_reason %q, want %q", got.StopReason, g.StopReason)
	}
	if got.Stats.Forwards != g.Stats.Forwards || len(got.Trace) != len(g.Trace) {
		return fmt.Errorf("%d forwards and %d trace entries, want %d and %d", got.Stats.Forwards, len(got.Trace), g.Stats.Forwards, len(g.Trace))
	}
	for i, want := range g.Trace {
		if err := compareTraceEntry(got.Trace[i], want); err != nil {
			return fmt.Errorf("trace[%d]: %v", i, err)
		}
	}
	return nil
}

// compareTraceEntry wants the same keys and values; in the committed and edited lists
// the last number of each entry is a confidence, compared within the tolerance.
func compareTraceEntry(got, want map[string]any) error {
	if gk, wk := sortedKeys(got), sortedKeys(want); !slices.Equal(gk, wk) {
		return fmt.Errorf("keys %v, want %v", gk, wk)
	}
	for k, w := range want {
		g := got[k]
		if k != "committed" && k != "edited" {
			if !reflect.DeepEqual(g, w) {
				return fmt.Errorf("%s = %v, want %v", k, g, w)
			}
			continue
		}
		gl, _ := g.([]any)
		wl, _ := w.([]any)
		if len(gl) != len(wl) {
			return fmt.Errorf("%s = %v, want %v", k, g, w)
		}
		for j := range wl {
			ge, _ := gl[j].([]any)
			we, _ := wl[j].([]any)
			n := len(we)
			if len(ge) != n || n == 0 || !reflect.DeepEqual(ge[:n-1], we[:n-1]) {
				return fmt.Errorf("%s[%d] = %v, want %v", k, j, gl[j], wl[j])
			}
			gc, gok := ge[n-1].(float64)
			wc, wok := we[n-1].(float64)
			if !gok || !wok || math.Abs(gc-wc) > confidenceTolerance {
				return fmt.Errorf("%s[%d] confidence %v, want %v", k, j, gc, wc)
			}
		}
	}
	return nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// familyGoldenRuns are family goldens with the generate flags that express their
// options (testdata/families/<fixture>/golden/<name>.json).
var familyGoldenRuns = []struct {
	model, golden string
	flags         []string
}{
	{"llada/hf", "gen_lowconf_b8_s16", []string{"-n", "32", "--steps", "16", "--block-length", "8"}},
	{"llada/hf", "gen_cfg1_greedy", []string{"-n", "16", "--steps", "8", "--block-length", "8", "--cfg-scale", "1"}},
	{"llada/hf", "gen_gumbel_t1_random_seed3", []string{"-n", "16", "--steps", "8", "--block-length", "8", "--algorithm", "random", "--temp", "1", "--seed", "3"}},
	{"llada/hf", "fast_threshold09_nocache", []string{"-n", "32", "--steps", "32", "--block-length", "8", "--threshold", "0.9"}},
	{"llada/hf", "fast_dual_cache_threshold09", []string{"-n", "32", "--steps", "32", "--block-length", "8", "--threshold", "0.9", "--cache", "dual"}},
	{"llada/gguf/llada-micro-q8_0.gguf", "llamacpp_block8_s16_topk1_q8_0", []string{"-n", "33", "--steps", "16", "--block-length", "8", "--algorithm", "llama.cpp:confidence", "--top-k", "1", "--seed", "1"}},
	{"llada-moe/hf", "gen_random_remask_seed1", []string{"-n", "16", "--steps", "8", "--block-length", "8", "--algorithm", "random", "--seed", "1"}},
	{"dream/hf", "gen_entropy_greedy_eps01", []string{"-n", "16", "--steps", "8", "--eps", "0.1"}},
	{"dream/hf", "gen_topk_margin_greedy", []string{"-n", "24", "--steps", "12", "--algorithm", "topk_margin"}},
	{"dream/hf", "fast_confidence_threshold09_nocache", []string{"-n", "24", "--steps", "12", "--algorithm", "confidence_threshold"}},
	{"dream/gguf/dream-micro-f32.gguf", "llamacpp_eps_alg3_random_topk1_seed5", []string{"-n", "24", "--steps", "12", "--algorithm", "llama.cpp:random", "--top-k", "1", "--seed", "5"}},
	{"rnd1/hf", "gen_greedy_t1_eb_gamma05", []string{"-n", "24", "--steps", "12", "--temp", "1", "--top-k", "1", "--eb-gamma", "0.5"}},
	{"rnd1/hf", "gen_greedy_t05", []string{"-n", "24", "--steps", "12", "--temp", "0.5", "--top-k", "1"}},
}

// TestGenerateFamilyGoldens: `dllm generate -m <family fixture> --prompt-ids … --json`
// reproduces the official code's output for each family (the output cut after the
// first end of text or turn, and RND1's pad, as Result.Tokens is), with a trace entry
// per step the golden records.
func TestGenerateFamilyGoldens(t *testing.T) {
	stops := map[string][]int32{"llada": {1019, 1023}, "llada-moe": {1019, 1021}, "dream": {1018, 1020}, "rnd1": {1020, 1018}}
	for _, c := range familyGoldenRuns {
		t.Run(c.model+"/"+c.golden, func(t *testing.T) {
			fixture, _, _ := strings.Cut(c.model, "/")
			dir := filepath.Join("../../testdata/families", fixture)
			raw, err := os.ReadFile(filepath.Join(dir, "golden", c.golden+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var g struct {
				PromptIDs []int32 `json:"prompt_ids"`
				OutputIDs []int32 `json:"output_ids"`
			}
			if err := json.Unmarshal(raw, &g); err != nil {
				t.Fatal(err)
			}
			ids := make([]string, len(g.PromptIDs))
			for i, id := range g.PromptIDs {
				ids[i] = strconv.Itoa(int(id))
			}
			args := append([]string{"generate", "-m", filepath.Join(dir, strings.TrimPrefix(c.model, fixture+"/")),
				"--json", "--threads", "1", "--prompt-ids", strings.Join(ids, ",")}, c.flags...)
			code, out, errOut := dllmCmd(t, "", args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			var got struct {
				Tokens []int32           `json:"tokens"`
				Trace  []json.RawMessage `json:"trace"`
				Stats  struct {
					Forwards int `json:"forwards"`
				} `json:"stats"`
			}
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("%v in %s", err, out)
			}
			want := g.OutputIDs
			for i, tok := range want {
				if slices.Contains(stops[fixture], tok) {
					want = want[:i+1]
					break
				}
			}
			if !slices.Equal(got.Tokens, want) {
				t.Errorf("tokens\n got %v\nwant %v", got.Tokens, want)
			}
			if len(got.Trace) == 0 || got.Stats.Forwards == 0 || got.Stats.Forwards > len(got.Trace) {
				t.Errorf("%d trace entries, %d forwards", len(got.Trace), got.Stats.Forwards)
			}
		})
	}
}
