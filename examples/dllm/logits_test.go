package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const microDir = "../../testdata/llada2-micro"

// TestLogitsCommand runs `dllm logits` on the fixtures and compares the file with the
// goldens: LLaDA2 in block mode and causal mode, and one golden of every other family
// with the mask left to its default (bidirectional), raw logits unshifted.
func TestLogitsCommand(t *testing.T) {
	for _, name := range []string{"logits_medium_block8", "logits_medium24_causal"} {
		checkLogitsCommand(t, filepath.Join(microDir, "gguf", "micro-f32.gguf"), filepath.Join(microDir, "golden", name), true)
	}
	const families = "../../testdata/families"
	for _, c := range []struct{ model, golden string }{
		{"llada/hf", "llada/golden/logits_mask_first6"},
		{"dream/gguf/dream-micro-f32.gguf", "dream/golden/logits_scattered"},
		{"llada-moe/gguf/llada-moe-micro-f32.gguf", "llada-moe/golden/logits_scattered48"},
		{"rnd1/hf", "rnd1/golden/logits_scattered"},
	} {
		checkLogitsCommand(t, filepath.Join(families, c.model), filepath.Join(families, c.golden), false)
	}
	for _, bad := range [][]string{
		{"-m", filepath.Join(microDir, "hf"), "--tokens", "1,2", "--mask", "block:x", "--out", "/dev/null"},
		{"-m", filepath.Join(microDir, "hf"), "--tokens", "1,99999", "--mask", "causal", "--out", "/dev/null"},
		{"--tokens", "1,2", "--out", "/dev/null"},
	} {
		if err := runLogits(bad, outTo(io.Discard)); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}

// checkLogitsCommand runs `dllm logits` on model with the golden's tokens (and its mask
// when withMask) and compares the output file with golden.bin within 1e-3.
func checkLogitsCommand(t *testing.T, model, golden string, withMask bool) {
	t.Helper()
	var g struct {
		Tokens []int32 `json:"tokens"`
		Mask   string  `json:"mask"`
	}
	sidecar, err := os.ReadFile(golden + ".json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(sidecar, &g); err != nil {
		t.Fatal(err)
	}
	want := readFloats(t, golden+".bin")
	ids := make([]string, len(g.Tokens))
	for i, x := range g.Tokens {
		ids[i] = fmt.Sprint(x)
	}
	out := filepath.Join(t.TempDir(), "l.bin")
	args := []string{"-m", model, "--tokens", strings.Join(ids, ","), "--out", out}
	if withMask {
		args = append(args, "--mask", g.Mask)
	}
	if err := runLogits(args, outTo(io.Discard)); err != nil {
		t.Fatal(err)
	}
	got := readFloats(t, out)
	if len(got) != len(want) {
		t.Fatalf("%s: %d floats, want %d", golden, len(got), len(want))
	}
	worst := 0.0
	for i := range got {
		worst = math.Max(worst, math.Abs(float64(got[i]-want[i])))
	}
	if worst > 1e-3 {
		t.Errorf("%s: max |diff| %g > 1e-3", golden, worst)
	}
}

func readFloats(t *testing.T, path string) []float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

// TestMkModelCommand writes a tiny model in both formats and runs a forward on each.
func TestMkModelCommand(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"-o", filepath.Join(dir, "t.gguf"), "--preset", "tiny", "--layers", "2", "--type", "q8_0", "--arch", "bailingmoe2"},
		{"-o", filepath.Join(dir, "t-hf"), "--preset", "tiny", "--layers", "2", "--type", "bf16"},
	} {
		if err := runMkModel(args, outTo(io.Discard)); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, "l.bin")
		if err := runLogits([]string{"-m", args[1], "--tokens", "1,2,3", "--mask", "block:2", "--out", out}, outTo(io.Discard)); err != nil {
			t.Fatalf("%s: %v", args[1], err)
		}
	}
	if err := runMkModel([]string{"-o", filepath.Join(dir, "x"), "--type", "q8_0"}, outTo(io.Discard)); err == nil {
		t.Error("q8_0 safetensors accepted")
	}
	if err := runMkModel([]string{"-o", filepath.Join(dir, "x.gguf"), "--preset", "huge"}, outTo(io.Discard)); err == nil {
		t.Error("unknown preset accepted")
	}
}
