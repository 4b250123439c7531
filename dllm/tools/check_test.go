package tools

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dllm-go/dllm/dllm"
)

// corruptMicro copies the micro model's Hugging Face directory and stores NaN as the
// first value of the BF16 tensor name.
func corruptMicro(t testing.TB, name string) string {
	t.Helper()
	src, dir := filepath.Join(microDir, "hf"), t.TempDir()
	for _, f := range []string{"config.json", "tokenizer.json", "tokenizer_config.json", "model.safetensors"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		if f == "model.safetensors" {
			n := binary.LittleEndian.Uint64(b)
			var hdr map[string]json.RawMessage
			if err := json.Unmarshal(b[8:8+n], &hdr); err != nil {
				t.Fatal(err)
			}
			var e struct {
				DType   string   `json:"dtype"`
				Offsets [2]int64 `json:"data_offsets"`
			}
			if err := json.Unmarshal(hdr[name], &e); err != nil || e.DType != "BF16" {
				t.Fatalf("tensor %s: %s %v", name, e.DType, err)
			}
			binary.LittleEndian.PutUint16(b[8+int64(n)+e.Offsets[0]:], 0x7fc0) // bf16 NaN
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestNonFiniteThroughAPI: a NaN weight makes generation and Logits fail with a
// NonFiniteError naming the tensor and its layer, instead of printing garbage; CheckWeights
// finds the tensor ahead of time and reports a clean model as clean.
func TestNonFiniteThroughAPI(t *testing.T) {
	if bad, err := CheckWeights(filepath.Join(microDir, "hf")); err != nil || len(bad) != 0 {
		t.Fatalf("clean model: %v, %v", bad, err)
	}
	for _, c := range []struct {
		tensor string
		layer  int
	}{
		{"model.layers.1.attention.dense.weight", 1},
		{"model.layers.0.mlp.down_proj.weight", 0},
		{"model.layers.2.attention.query_key_value.weight", 2},
		{"lm_head.weight", -1},
	} {
		dir := corruptMicro(t, c.tensor)
		bad, err := CheckWeights(dir)
		if err != nil || len(bad) != 1 || bad[0] != (NonFiniteTensor{Name: c.tensor, Count: 1, First: 0}) {
			t.Fatalf("CheckWeights: %+v, %v", bad, err)
		}
		m := loadModel(t, dir)
		s := newSession(t, m)
		o := dllm.DefaultOptions()
		o.MaxTokens, o.BlockLength, o.Steps = 8, 4, 4
		check := func(what string, err error) {
			t.Helper()
			var nf *dllm.NonFiniteError
			if !errors.Is(err, dllm.ErrNonFinite) || !errors.As(err, &nf) {
				t.Fatalf("%s with NaN in %s: %v, want ErrNonFinite", what, c.tensor, err)
			}
			if nf.Tensor != c.tensor || nf.Layer != c.layer || !strings.Contains(err.Error(), c.tensor) {
				t.Fatalf("%s: located at %q layer %d, want %q layer %d (%v)", what, nf.Tensor, nf.Layer, c.tensor, c.layer, err)
			}
		}
		_, err = s.Generate(context.Background(), "Once upon a time", o)
		check("Generate", err)
		if errors.Is(err, dllm.ErrInvalid) {
			t.Fatal("a non-finite forward reads as an invalid argument")
		}
		_, err = Logits(m, []int32{1, 2, 3, 4, 5}, BlockMask(4))
		check("Logits", err)
	}
}
