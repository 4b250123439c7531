package arch

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dllm-go/dllm/dllm/internal/weights"
)

const microDir = "../../../testdata/llada2-micro"

// golden is one logits golden of the micro fixture.
type golden struct {
	Name   string
	Tokens []int32 `json:"tokens"`
	Mask   string  `json:"mask"`
	Shape  []int   `json:"shape"`
	Argmax []int   `json:"argmax"`
	Logits []float32
}

func loadGolden(t testing.TB, name string) golden {
	t.Helper()
	return loadGoldenAt(t, microDir, name)
}

// loadGoldenAt reads the logits golden name of the fixture in dir.
func loadGoldenAt(t testing.TB, dir, name string) golden {
	t.Helper()
	var g golden
	js, err := os.ReadFile(filepath.Join(dir, "golden", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(js, &g); err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile(filepath.Join(dir, "golden", name+".bin"))
	if err != nil {
		t.Fatal(err)
	}
	g.Name = name
	g.Logits = make([]float32, len(bin)/4)
	for i := range g.Logits {
		g.Logits[i] = math.Float32frombits(binary.LittleEndian.Uint32(bin[4*i:]))
	}
	if len(g.Logits) != g.Shape[0]*g.Shape[1] || len(g.Tokens) != g.Shape[0] {
		t.Fatalf("%s: inconsistent golden shape %v", name, g.Shape)
	}
	return g
}

// parseMask turns a golden's mask string into a Forward block size.
func parseMask(t testing.TB, mask string, n int) int {
	t.Helper()
	switch {
	case mask == "causal":
		return 1
	case mask == "bidir":
		return 0
	case strings.HasPrefix(mask, "block:"):
		b, err := strconv.Atoi(strings.TrimPrefix(mask, "block:"))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	t.Fatalf("unknown mask %q", mask)
	return 0
}

// openModel opens and binds a checkpoint of the micro fixture; the checkpoint is closed
// when the test ends.
func openModel(t testing.TB, path string) *Model {
	t.Helper()
	ck, err := weights.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ck.Close() })
	cfg, ts := configAndTensors(t, ck)
	m, err := Bind(cfg, ts)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// configAndTensors reads a checkpoint's configuration and canonical tensors.
func configAndTensors(t testing.TB, ck *weights.Checkpoint) (Config, []weights.Tensor) {
	t.Helper()
	cfg, err := LoadConfig(ck)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := CanonicalTensors(ck)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, ts
}

// runAll computes the logits of every row of tokens in one run on a fresh state.
func runAll(t testing.TB, m *Model, tokens []int32, block int) []float32 {
	t.Helper()
	s, err := m.NewState(StateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	V := m.Config().VocabSize
	rows := make([]int, len(tokens))
	for i := range rows {
		rows[i] = i
	}
	out := make([]float32, len(tokens)*V)
	if err := s.Forward(tokens, block, true, rows, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// compare returns the max abs difference and the number of rows whose argmax differs
// from the golden's.
func compare(g golden, got []float32) (maxDiff float64, argmaxMiss int) {
	V := g.Shape[1]
	for r := 0; r < g.Shape[0]; r++ {
		best := 0
		for j := 0; j < V; j++ {
			d := math.Abs(float64(got[r*V+j] - g.Logits[r*V+j]))
			if d > maxDiff || math.IsNaN(d) {
				maxDiff = d
			}
			if got[r*V+j] > got[r*V+best] {
				best = j
			}
		}
		if best != g.Argmax[r] {
			argmaxMiss++
		}
	}
	return maxDiff, argmaxMiss
}

var exactGoldens = []string{
	"logits_short_block32", "logits_medium_block32", "logits_medium_block8",
	"logits_medium24_causal", "logits_long_block32",
}

// TestGoldenLogits checks every f32/bf16 checkpoint of the fixture against the float64
// reference: max abs diff ≤ 1e-3 and identical argmax on every row (fixture README,
// Tolerances).
func TestGoldenLogits(t *testing.T) {
	for _, ckpt := range []string{"hf", "hf-sharded", "gguf/micro-f32.gguf", "gguf/micro-bf16.gguf"} {
		m := openModel(t, filepath.Join(microDir, ckpt))
		for _, name := range exactGoldens {
			g := loadGolden(t, name)
			got := runAll(t, m, g.Tokens, parseMask(t, g.Mask, len(g.Tokens)))
			d, miss := compare(g, got)
			t.Logf("%-22s %-24s max|diff| %.3g  argmax misses %d/%d", ckpt, name, d, miss, g.Shape[0])
			if d > 1e-3 || miss != 0 {
				t.Errorf("%s on %s: max|diff| %g, %d argmax misses", name, ckpt, d, miss)
			}
		}
	}
}

// TestGoldenQuantized checks the q8_0/q4_0 goldens. Their references use dequantized
// weights with float activations; our kernels quantize activations to Q8_0 like ggml, so
// the fixture README's tolerance for that case applies: max |diff| ≤ 0.5 and top-1
// agreement ≥ 90 %.
func TestGoldenQuantized(t *testing.T) {
	for _, q := range []string{"q8_0", "q4_0"} {
		m := openModel(t, filepath.Join(microDir, "gguf", "micro-"+q+".gguf"))
		g := loadGolden(t, "logits_short_block32_"+q)
		got := runAll(t, m, g.Tokens, parseMask(t, g.Mask, len(g.Tokens)))
		d, miss := compare(g, got)
		agree := 1 - float64(miss)/float64(g.Shape[0])
		t.Logf("%-6s max|diff| %.3g  top-1 agreement %.0f%%", q, d, 100*agree)
		if d > 0.5 || agree < 0.9 {
			t.Errorf("%s: max|diff| %g, top-1 agreement %.2f", q, d, agree)
		}
	}
}
