package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/dllm-go/dllm/dllm/tools"
)

// TestInspectForms: `dllm inspect --json` lists the same canonical tensors and config for
// every form of the micro fixture, and the human table names them too.
func TestInspectForms(t *testing.T) {
	type report struct {
		Format        string         `json:"format"`
		Architecture  string         `json:"architecture"`
		Config        map[string]any `json:"config"`
		SpecialTokens map[string]int `json:"special_tokens"`
		Tensors       []struct {
			Name  string `json:"name"`
			DType string `json:"dtype"`
			Shape []int  `json:"shape"`
		} `json:"tensors"`
		Bytes int64 `json:"bytes"`
	}
	const micro = "../../testdata/llada2-micro/"
	var ref *report
	for _, form := range []string{"hf", "hf-sharded", "gguf/micro-f32.gguf", "gguf/micro-bf16.gguf", "gguf/micro-q8_0.gguf", "gguf/micro-q4_0.gguf"} {
		var out bytes.Buffer
		if err := runInspect([]string{"-m", micro + form, "--json"}, outTo(&out)); err != nil {
			t.Fatalf("%s: %v", form, err)
		}
		var r report
		if err := json.Unmarshal(out.Bytes(), &r); err != nil {
			t.Fatalf("%s: %v", form, err)
		}
		if len(r.Tensors) != 130 || r.Bytes <= 0 || r.Config["hidden_size"] != 64.0 {
			t.Errorf("%s: %d tensors, %d bytes, config %v", form, len(r.Tensors), r.Bytes, r.Config)
		}
		if form != "hf-sharded" && (r.SpecialTokens["<|mask|>"] != 1020 || r.SpecialTokens["mask_token_id"] != 1020 || r.SpecialTokens["eos_token_id"] != 1019) {
			t.Errorf("%s: special tokens %v", form, r.SpecialTokens)
		}
		if ref == nil {
			ref = &r
			continue
		}
		if !reflect.DeepEqual(r.Config, ref.Config) {
			t.Errorf("%s: config differs from hf", form)
		}
		for i := range r.Tensors {
			if r.Tensors[i].Name != ref.Tensors[i].Name || !reflect.DeepEqual(r.Tensors[i].Shape, ref.Tensors[i].Shape) {
				t.Errorf("%s: tensor %d is %s %v, hf has %s %v", form, i, r.Tensors[i].Name, r.Tensors[i].Shape, ref.Tensors[i].Name, ref.Tensors[i].Shape)
				break
			}
		}
	}

	var out bytes.Buffer
	if err := runInspect([]string{"-m", micro + "gguf/micro-q4_0.gguf"}, outTo(&out)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"format        gguf", "model.layers.2.mlp.experts.15.down_proj.weight", "q4_0", "[64, 32]", "<|mask|>"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("human output lacks %q", want)
		}
	}
	if err := runInspect([]string{"-m", micro + "golden"}, outTo(&out)); err == nil {
		t.Error("inspect of a directory without a checkpoint succeeded")
	}
	if err := runInspect(nil, outTo(&out)); err == nil {
		t.Error("inspect without -m succeeded")
	}
}

// TestInspectCheck: --check reads every weight: a clean model passes, with the result in
// both outputs; a NaN stored in one tensor is an error naming it.
func TestInspectCheck(t *testing.T) {
	src := filepath.Join(microDir, "hf")
	var out bytes.Buffer
	if err := runInspect([]string{"-m", src, "--check"}, outTo(&out)); err != nil || !strings.Contains(out.String(), "all 130 tensors finite") {
		t.Fatalf("clean model: %v\n%s", err, out.String())
	}
	out.Reset()
	var r struct {
		NonFinite []any `json:"non_finite"`
		Tensors   []any `json:"tensors"`
	}
	if err := runInspect([]string{"-m", src, "--check", "--json"}, outTo(&out)); err != nil || json.Unmarshal(out.Bytes(), &r) != nil || r.NonFinite == nil || len(r.NonFinite) != 0 || len(r.Tensors) != 130 {
		t.Fatalf("clean model, JSON: %v\n%s", err, out.String())
	}

	// The table of a model with bad tensors (CheckWeights itself is tested in package tools).
	out.Reset()
	bad := []tools.NonFiniteTensor{{Name: "lm_head.weight", Count: 3, First: 17}}
	if err := printCheck(&out, 130, bad); err != nil || !strings.Contains(out.String(), "lm_head.weight  3       17") {
		t.Fatalf("table of non-finite tensors: %v\n%s", err, out.String())
	}
}
