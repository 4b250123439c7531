package decode

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

type llamaGolden struct {
	File         string   `json:"-"`
	Command      []string `json:"command"`
	PromptIDs    []int32  `json:"prompt_ids"`
	OutputIDs    []int32  `json:"output_ids"`
	NUbatch      int      `json:"n_ubatch"`
	StepCanvases []struct {
		Step   string  `json:"step"`
		Canvas []int32 `json:"canvas"`
	} `json:"step_canvases"`
}

func (g *llamaGolden) flag(name, def string) string {
	if i := slices.Index(g.Command, name); i >= 0 {
		return g.Command[i+1]
	}
	return def
}

// options builds LlamaCppOptions from the command line (llama.cpp's defaults: top-k 40,
// top-p 0.95, temperature 0.8 unless given).
func (g *llamaGolden) options(mask int32) LlamaCppOptions {
	atoi := func(s string) int { n, _ := strconv.Atoi(s); return n }
	atof := func(s string) float64 { f, _ := strconv.ParseFloat(s, 64); return f }
	o := LlamaCppOptions{
		Alg:         LlamaCppAlg(atoi(g.flag("--diffusion-algorithm", "4"))),
		Steps:       atoi(g.flag("--diffusion-steps", "0")),
		GenLength:   g.NUbatch - len(g.PromptIDs),
		BlockLength: atoi(g.flag("--diffusion-block-length", "0")),
		Eps:         float32(atof(g.flag("--diffusion-eps", "0"))),
		Temperature: atof(g.flag("--temp", "0.8")),
		TopK:        atoi(g.flag("--top-k", "40")),
		TopP:        atof(g.flag("--top-p", "0.95")),
	}
	o.Seed = uint64(atoi(g.flag("--seed", "0")))
	if o.BlockLength > 0 {
		o.Schedule = LlamaCppBlock
	}
	o.MaskID = mask
	return o
}

// tokenModel predicts, at every position, the token the golden ended with there.
type tokenModel struct{ final []int32 }

func (m tokenModel) Window(tokens []int32, rows []int, logits []float32) error {
	V := len(logits) / max(len(rows), 1)
	for i, p := range rows {
		row := logits[i*V : (i+1)*V]
		clear(row)
		row[m.final[p]] = 1
	}
	return nil
}

// llamaCppFixtures are the fixtures with llama-diffusion-cli goldens, and
// llamaCppMasks their mask ids (RND1's is the first id past its vocabulary, as in the
// real model).
var (
	llamaCppFixtures = famFixtures
	llamaCppMasks    = map[string]int32{"llada": 1020, "llada-moe": 1020, "dream": 1022, "rnd1": 1023}
)

// greedyLlamaCppGoldens reads every llama-diffusion-cli golden run greedily (top-k 1;
// llama.cpp's sampler RNG is not reproduced) and returns them with their fixture.
func greedyLlamaCppGoldens(t *testing.T) (fixtures []string, goldens []*llamaGolden) {
	t.Helper()
	for _, fx := range llamaCppFixtures {
		files, _ := filepath.Glob(filepath.Join(famDir(fx), "golden", "llamacpp_*.json"))
		for _, f := range files {
			g := &llamaGolden{File: filepath.Base(f)}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, g); err != nil {
				t.Fatal(err)
			}
			if g.Command != nil && g.flag("--top-k", "40") == "1" {
				fixtures, goldens = append(fixtures, fx), append(goldens, g)
			}
		}
	}
	if len(goldens) < 10 {
		t.Fatalf("%d greedy llama.cpp goldens, want at least 10", len(goldens))
	}
	return fixtures, goldens
}

// TestLlamaCppGoldens replays llama-diffusion-cli's greedy runs (top-k 1): with the
// final tokens as predictions, every step's canvas — which positions each step reveals,
// under both schedules and all five algorithms, std::mt19937 draws included — must
// equal the recorded one.
func TestLlamaCppGoldens(t *testing.T) {
	fixtures, goldens := greedyLlamaCppGoldens(t)
	for i, g := range goldens {
		fx := fixtures[i]
		t.Run(fx+"/"+strings.TrimSuffix(g.File, ".json"), func(t *testing.T) {
			final := append(slices.Clone(g.PromptIDs), g.OutputIDs...)
			res, err := NewWindow(tokenModel{final}, 1024, len(final)).GenerateLlamaCpp(context.Background(), g.PromptIDs, g.options(llamaCppMasks[fx]))
			if err != nil {
				t.Fatal(err)
			}
			if err := checkLlamaGolden(g, res, llamaCppMasks[fx]); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestLlamaCppGoldensModel runs llama.cpp's greedy goldens on the real model, loaded
// from the GGUF the golden's command names, q8_0 included (both engines quantize the
// activations of q8_0 matrices to 8-bit blocks).
func TestLlamaCppGoldensModel(t *testing.T) {
	fixtures, goldens := greedyLlamaCppGoldens(t)
	for i, g := range goldens {
		fx := fixtures[i]
		t.Run(fx+"/"+strings.TrimSuffix(g.File, ".json"), func(t *testing.T) {
			m, vocab := windowModel(t, filepath.Join(famDir(fx), g.flag("-m", "")))
			final := len(g.PromptIDs) + len(g.OutputIDs)
			res, err := NewWindow(m, vocab, final).GenerateLlamaCpp(context.Background(), g.PromptIDs, g.options(llamaCppMasks[fx]))
			if err != nil {
				t.Fatal(err)
			}
			if err := checkLlamaGolden(g, res, llamaCppMasks[fx]); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func checkLlamaGolden(g *llamaGolden, res WindowResult, mask int32) error {
	if len(res.Trace) != len(g.StepCanvases) {
		return fmt.Errorf("%d steps, want %d", len(res.Trace), len(g.StepCanvases))
	}
	x := append(slices.Clone(g.PromptIDs), make([]int32, len(res.Canvas)-len(g.PromptIDs))...)
	for p := len(g.PromptIDs); p < len(x); p++ {
		x[p] = mask
	}
	for i, s := range res.Trace {
		if !slices.Equal(x, g.StepCanvases[i].Canvas) {
			return fmt.Errorf("canvas before step %d (%s)\n got %v\nwant %v", i, g.StepCanvases[i].Step, x, g.StepCanvases[i].Canvas)
		}
		for _, c := range s.Committed {
			x[c.Pos] = c.Token
		}
	}
	if !slices.Equal(res.Canvas[len(g.PromptIDs):], g.OutputIDs) {
		return fmt.Errorf("output %v, want %v", res.Canvas[len(g.PromptIDs):], g.OutputIDs)
	}
	return nil
}
