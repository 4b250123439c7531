package tools

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const familiesDir = "../../testdata/families"

// familyGolden reads a logits golden of a family fixture: tokens, argmax and raw logits.
func familyGolden(t *testing.T, dir, name string) (tokens []int32, argmax []int, logits []float32) {
	t.Helper()
	var g struct {
		Tokens []int32 `json:"tokens"`
		Argmax []int   `json:"argmax"`
	}
	js, err := os.ReadFile(filepath.Join(familiesDir, dir, "golden", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(js, &g); err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile(filepath.Join(familiesDir, dir, "golden", name+".bin"))
	if err != nil {
		t.Fatal(err)
	}
	logits = make([]float32, len(bin)/4)
	for i := range logits {
		logits[i] = math.Float32frombits(binary.LittleEndian.Uint32(bin[4*i:]))
	}
	return g.Tokens, g.Argmax, logits
}

// TestFamilyLogits: Logits (what `dllm logits` writes) on every logits golden of every
// family fixture, with the model's own mask (bidirectional), gives the raw, unshifted
// logits: within 1e-3 with every argmax equal from the bf16 HF folder and the f32 GGUF;
// from the q8_0 GGUF, top-1 agreement of at least 85 % (its bound against llama.cpp's
// own q8_0 error is checked in internal/arch).
func TestFamilyLogits(t *testing.T) {
	goldens, err := filepath.Glob(filepath.Join(familiesDir, "*", "golden", "logits_*.json"))
	if err != nil || len(goldens) < 15 {
		t.Fatalf("%d goldens, %v", len(goldens), err)
	}
	for _, c := range []struct{ dir, stem string }{{"llada", "llada-micro"}, {"dream", "dream-micro"}, {"llada-moe", "llada-moe-micro"}, {"rnd1", "rnd1-micro"}} {
		for _, form := range []string{"hf", "gguf/" + c.stem + "-f32.gguf", "gguf/" + c.stem + "-q8_0.gguf"} {
			if _, err := os.Stat(filepath.Join(familiesDir, c.dir, form)); err != nil {
				continue // only LLaDA's fixture has a q8_0 GGUF
			}
			m := loadModel(t, filepath.Join(familiesDir, c.dir, form))
			mask, err := ModelMask(m)
			if err != nil || mask != BidirectionalMask() {
				t.Fatalf("%s: ModelMask %v, %v", c.dir, mask, err)
			}
			for _, g := range goldens {
				name := strings.TrimSuffix(filepath.Base(g), ".json")
				if filepath.Base(filepath.Dir(filepath.Dir(g))) != c.dir || name == "logits_left_padded4" { // own position ids
					continue
				}
				tokens, argmax, want := familyGolden(t, c.dir, name)
				got, err := Logits(m, tokens, mask)
				if err != nil {
					t.Fatal(err)
				}
				V := m.Info().VocabSize
				worst, miss := 0.0, 0
				for r := range tokens {
					best := 0
					for j := 0; j < V; j++ {
						worst = math.Max(worst, math.Abs(float64(got[r*V+j]-want[r*V+j])))
						if got[r*V+j] > got[r*V+best] {
							best = j
						}
					}
					if best != argmax[r] {
						miss++
					}
				}
				t.Logf("%-40s %-22s max|diff| %.3g, argmax misses %d/%d", form, name, worst, miss, len(tokens))
				if strings.HasSuffix(form, "q8_0.gguf") {
					if float64(miss) > 0.15*float64(len(tokens)) {
						t.Errorf("%s %s: %d argmax misses of %d", form, name, miss, len(tokens))
					}
				} else if worst > 1e-3 || miss > 0 {
					t.Errorf("%s %s: max|diff| %g, %d argmax misses", form, name, worst, miss)
				}
			}
		}
	}
	if mask, err := ModelMask(loadModel(t, microDir+"/hf")); err != nil || mask != BlockMask(32) {
		t.Errorf("LLaDA2 ModelMask %v, %v", mask, err)
	}
}

// TestFamilyInspect: Inspect names each family, its defaults and its special tokens, the
// same from the HF folder and the GGUF.
func TestFamilyInspect(t *testing.T) {
	for _, c := range []struct {
		dir, stem, attention string
		shift                bool
		mask, eos            int
	}{
		{"llada", "llada-micro", "bidirectional", false, 1020, 1023},
		{"dream", "dream-micro", "bidirectional", true, 1022, 1018},
		{"llada-moe", "llada-moe-micro", "bidirectional", false, 1020, 1019},
		{"rnd1", "rnd1-micro", "bidirectional", true, 1023, 1020},
	} {
		for _, form := range []string{"hf", "gguf/" + c.stem + "-f32.gguf"} {
			info, err := Inspect(filepath.Join(familiesDir, c.dir, form))
			if err != nil {
				t.Fatal(err)
			}
			d := info.Defaults
			if info.Family != c.dir || d.Attention != c.attention || d.ShiftLogits != c.shift || d.Title == "" || d.EOSToken == "" {
				t.Errorf("%s %s: family %q, defaults %+v", c.dir, form, info.Family, d)
			}
			if sp := info.SpecialTokens; sp["mask_token_id"] != c.mask || sp["eos_token_id"] != c.eos {
				t.Errorf("%s %s: special tokens %v", c.dir, form, sp)
			}
		}
	}
	info, err := Inspect(microDir + "/hf")
	if err != nil || info.Family != "llada2" || info.Defaults.Attention != "block-causal" || info.Defaults.ShiftLogits {
		t.Errorf("LLaDA2: %+v, %v", info.Defaults, err)
	}
}
