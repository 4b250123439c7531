package llada2

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLogitsCommand runs `dllm logits` on the fixture and compares the file with the
// goldens, in block mode (block-by-block commits) and causal mode.
func TestLogitsCommand(t *testing.T) {
	for _, name := range []string{"logits_medium_block8", "logits_medium24_causal"} {
		g := loadGolden(t, name)
		ids := make([]string, len(g.Tokens))
		for i, x := range g.Tokens {
			ids[i] = fmt.Sprint(x)
		}
		out := filepath.Join(t.TempDir(), "l.bin")
		args := []string{"-m", filepath.Join(microDir, "gguf", "micro-f32.gguf"), "--tokens", strings.Join(ids, ","), "--mask", g.Mask, "--out", out}
		if err := LogitsCommand(args, io.Discard); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]float32, len(b)/4)
		for i := range got {
			got[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
		if len(got) != len(g.Logits) {
			t.Fatalf("%s: %d floats, want %d", name, len(got), len(g.Logits))
		}
		if d, miss := compare(g, got); d > 1e-3 || miss != 0 {
			t.Errorf("%s: max|diff| %g, %d argmax misses", name, d, miss)
		}
	}
	for _, bad := range [][]string{
		{"-m", filepath.Join(microDir, "hf"), "--tokens", "1,2", "--mask", "block:x", "--out", "/dev/null"},
		{"-m", filepath.Join(microDir, "hf"), "--tokens", "1,99999", "--mask", "causal", "--out", "/dev/null"},
		{"--tokens", "1,2", "--out", "/dev/null"},
	} {
		if err := LogitsCommand(bad, io.Discard); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}

// TestMkModelCommand writes a tiny model in both formats and runs it.
func TestMkModelCommand(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"-o", filepath.Join(dir, "t.gguf"), "--preset", "tiny", "--layers", "2", "--type", "q8_0", "--arch", "bailingmoe2"},
		{"-o", filepath.Join(dir, "t-hf"), "--preset", "tiny", "--layers", "2", "--type", "bf16"},
	} {
		if err := MkModelCommand(args, io.Discard); err != nil {
			t.Fatal(err)
		}
		m := openModel(t, args[1])
		if m.Config().NumLayers != 2 || m.Config().HiddenSize != 256 {
			t.Errorf("%s: config %+v", args[1], m.Config())
		}
		if _, err := m.Logits([]int32{1, 2, 3, 4095}, 2); err != nil {
			t.Error(err)
		}
	}
	if err := MkModelCommand([]string{"-o", filepath.Join(dir, "x"), "--type", "q8_0"}, io.Discard); err == nil {
		t.Error("q8_0 safetensors accepted")
	}
	if err := MkModelCommand([]string{"-o", filepath.Join(dir, "x.gguf"), "--preset", "huge"}, io.Discard); err == nil {
		t.Error("unknown preset accepted")
	}
}
