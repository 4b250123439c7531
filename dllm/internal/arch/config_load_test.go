package arch

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dllm-go/dllm/dllm/internal/weights"
)

const micro = "../../../testdata/llada2-micro/"

var microForms = []string{
	"hf", "hf-sharded",
	"gguf/micro-f32.gguf", "gguf/micro-bf16.gguf", "gguf/micro-q8_0.gguf", "gguf/micro-q4_0.gguf",
}

// microConfig is the fixture's configuration (testdata/llada2-micro/README.md).
var microConfig = Config{
	HiddenSize: 64, NumLayers: 3, NumHeads: 4, NumKVHeads: 2, HeadDim: 16, VocabSize: 1024,
	IntermediateSize: 128, MoEIntermediateSize: 32, NumExperts: 16, NumExpertsPerTok: 4,
	NumSharedExperts: 1, NumGroups: 4, TopKGroups: 2, RoutedScalingFactor: 2.5,
	FirstKDenseReplace: 1, RopeTheta: 600000, RotaryDim: 8, RMSNormEps: 1e-6,
	MaxPositionEmbeddings: 4096, TieWordEmbeddings: false, UseQKNorm: true, NormTopKProb: true,
	ScoreFunction: "sigmoid", PadTokenID: 1019, Family: "llada2",
}

func openMicro(t *testing.T, form string) *weights.Checkpoint {
	t.Helper()
	ck, err := weights.Open(micro + form)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ck.Close() })
	return ck
}

// TestLoadConfigForms: config.json and every GGUF give the same configuration.
func TestLoadConfigForms(t *testing.T) {
	for _, form := range microForms {
		c, err := LoadConfig(openMicro(t, form))
		if err != nil {
			t.Fatalf("%s: %v", form, err)
		}
		if c != microConfig {
			t.Errorf("%s:\n got %+v\nwant %+v", form, c, microConfig)
		}
	}
}

// hfConfig returns the fixture's config.json with edits applied.
func hfConfig(t *testing.T, edit func(m map[string]any)) []byte {
	t.Helper()
	return editConfig(t, micro+"hf/config.json", edit)
}

// editConfig returns the config.json at path with edits applied.
func editConfig(t *testing.T, path string, edit func(m map[string]any)) []byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	out, _ := json.Marshal(m)
	return out
}

func TestParseHFConfig(t *testing.T) {
	// Derived fields when config.json leaves them out.
	c, err := ParseHFConfig(hfConfig(t, func(m map[string]any) {
		delete(m, "head_dim")
		delete(m, "rotary_dim")
		delete(m, "num_key_value_heads")
		m["model_type"] = "something"
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.HeadDim != 16 || c.RotaryDim != 8 || c.NumKVHeads != 4 {
		t.Errorf("derived head_dim %d rotary_dim %d kv heads %d", c.HeadDim, c.RotaryDim, c.NumKVHeads)
	}
	c, err = ParseHFConfig(hfConfig(t, func(m map[string]any) {
		delete(m, "partial_rotary_factor")
		delete(m, "rotary_dim")
	}))
	if err != nil || c.RotaryDim != 16 {
		t.Errorf("no rotary fields: rotary_dim %d, %v", c.RotaryDim, err)
	}

	bad := []struct {
		name string
		edit func(m map[string]any)
		want string
	}{
		{"other architecture", func(m map[string]any) {
			m["model_type"] = "bailing_moe_v2"
			m["architectures"] = []string{"BailingMoeV2ForCausalLM"}
		}, `"bailing_moe_v2"`},
		{"rotary mismatch", func(m map[string]any) { m["rotary_dim"] = 6 }, "rotary_dim 6 disagrees"},
		{"fractional rotary", func(m map[string]any) { m["partial_rotary_factor"] = 0.3 }, "partial_rotary_factor"},
		{"gelu", func(m map[string]any) { m["hidden_act"] = "gelu" }, "hidden_act"},
		{"qkv bias", func(m map[string]any) { m["use_qkv_bias"] = true }, "use_qkv_bias"},
		{"rope scaling", func(m map[string]any) { m["rope_scaling"] = map[string]any{"type": "yarn"} }, "rope_scaling"},
		{"not json", nil, "config.json"},
	}
	for _, b := range bad {
		var raw []byte
		if b.edit != nil {
			raw = hfConfig(t, b.edit)
		} else {
			raw = []byte("{")
		}
		_, err := ParseHFConfig(raw)
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s: error %v, want %q", b.name, err, b.want)
		}
	}
}

func TestValidate(t *testing.T) {
	if err := microConfig.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := []struct {
		name string
		edit func(c *Config)
		want string
	}{
		{"zero hidden", func(c *Config) { c.HiddenSize = 0 }, "hidden_size"},
		{"negative layers", func(c *Config) { c.NumLayers = -1 }, "num_hidden_layers"},
		{"zero vocab", func(c *Config) { c.VocabSize = 0 }, "vocab_size"},
		{"heads not divisible", func(c *Config) { c.NumKVHeads = 3 }, "not a multiple of num_key_value_heads"},
		{"odd rotary", func(c *Config) { c.RotaryDim = 7 }, "rotary_dim 7"},
		{"rotary > head_dim", func(c *Config) { c.RotaryDim = 32 }, "rotary_dim 32"},
		{"zero rotary", func(c *Config) { c.RotaryDim = 0 }, "rotary_dim 0"},
		{"theta", func(c *Config) { c.RopeTheta = 0 }, "rope_theta"},
		{"eps", func(c *Config) { c.RMSNormEps = 0 }, "rms_norm_eps"},
		{"dense > layers", func(c *Config) { c.FirstKDenseReplace = 4 }, "first_k_dense_replace"},
		{"dense width", func(c *Config) { c.IntermediateSize = 0 }, "intermediate_size"},
		{"no experts", func(c *Config) { c.NumExperts = 0 }, "num_experts"},
		{"expert width", func(c *Config) { c.MoEIntermediateSize = 0 }, "moe_intermediate_size"},
		{"top-k > experts", func(c *Config) { c.NumExpertsPerTok = 17 }, "num_experts_per_tok"},
		{"experts not divisible", func(c *Config) { c.NumGroups = 3 }, "n_group 3"},
		{"topk_group > n_group", func(c *Config) { c.TopKGroups = 5 }, "topk_group 5"},
		{"groups too few", func(c *Config) { c.TopKGroups, c.NumExpertsPerTok = 1, 5 }, "topk_group 1 × 4"},
		{"softmax", func(c *Config) { c.ScoreFunction = "softmax" }, `score_function "softmax"`},
		{"scaling", func(c *Config) { c.RoutedScalingFactor = 0 }, "routed_scaling_factor"},
		{"shared", func(c *Config) { c.NumSharedExperts = -1 }, "num_shared_experts"},
		{"context 2^31", func(c *Config) { c.MaxPositionEmbeddings = 1 << 31 }, "max_position_embeddings = 2147483648 is beyond the limit"},
		{"rope table", func(c *Config) { c.MaxPositionEmbeddings, c.HeadDim, c.RotaryDim = MaxContext, 1024, 1024 }, "needs RoPE tables of 16384 MiB"},
		{"layers 2^31", func(c *Config) { c.NumLayers = 1 << 31 }, "num_hidden_layers = 2147483648 is beyond the limit"},
		{"experts 2^40", func(c *Config) { c.NumExperts = 1 << 40 }, "num_experts = 1099511627776 is beyond the limit"},
	}
	for _, b := range bad {
		c := microConfig
		b.edit(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s: %v, want %q", b.name, err, b.want)
		}
	}
	// All-dense models need no router fields.
	c := microConfig
	c.FirstKDenseReplace, c.NumExperts, c.ScoreFunction = c.NumLayers, 0, ""
	if err := c.Validate(); err != nil {
		t.Errorf("all-dense: %v", err)
	}
}

// rewriteGGUF copies a GGUF with its metadata edited (tensors unchanged) into a temp file.
func rewriteGGUF(t *testing.T, src string, edit func(kvs []weights.KV) []weights.KV) string {
	t.Helper()
	ck := openMicro(t, src)
	kvs := edit(append([]weights.KV(nil), ck.Meta.KVs()...))
	var infos []weights.TensorInfo
	for _, tt := range ck.GGUF.Tensors {
		infos = append(infos, weights.TensorInfo{Name: tt.Name, DType: tt.DType, Shape: tt.Shape})
	}
	var buf bytes.Buffer
	w, err := weights.NewGGUFWriter(&buf, kvs, infos)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range ck.GGUF.Tensors {
		if err := w.WriteTensor(tt.Name, tt.Data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Finish(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "edited.gguf")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func setKV(kvs []weights.KV, key string, v weights.Value) []weights.KV {
	for i := range kvs {
		if kvs[i].Key == key {
			kvs[i].Value = v
			return kvs
		}
	}
	return append(kvs, weights.KV{Key: key, Value: v})
}

func dropKV(kvs []weights.KV, key string) []weights.KV {
	out := kvs[:0]
	for _, kv := range kvs {
		if kv.Key != key {
			out = append(out, kv)
		}
	}
	return out
}

func TestLoadConfigGGUFKeys(t *testing.T) {
	load := func(edit func(kvs []weights.KV) []weights.KV) (Config, error) {
		p := rewriteGGUF(t, "gguf/micro-f32.gguf", edit)
		ck, err := weights.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer ck.Close()
		return LoadConfig(ck)
	}
	// The alias architecture with its keys renamed loads the same config.
	c, err := load(func(kvs []weights.KV) []weights.KV {
		for i := range kvs {
			if rest, ok := strings.CutPrefix(kvs[i].Key, "llada2."); ok {
				kvs[i].Key = "bailingmoe2." + rest
			}
		}
		return setKV(kvs, "general.architecture", weights.MustValue("bailingmoe2"))
	})
	if err != nil || c != microConfig {
		t.Errorf("bailingmoe2: %v\n%+v", err, c)
	}
	// Per-layer arrays with one value are accepted.
	c, err = load(func(kvs []weights.KV) []weights.KV {
		return setKV(kvs, "llada2.feed_forward_length", weights.MustValue([]uint32{128, 128, 128}))
	})
	if err != nil || c.IntermediateSize != 128 {
		t.Errorf("per-layer array: %v", err)
	}
	bad := []struct {
		name string
		edit func(kvs []weights.KV) []weights.KV
		want string
	}{
		{"other architecture", func(kvs []weights.KV) []weights.KV {
			return setKV(kvs, "general.architecture", weights.MustValue("llama"))
		}, `unsupported architecture "llama"`},
		{"no architecture", func(kvs []weights.KV) []weights.KV { return dropKV(kvs, "general.architecture") }, `unsupported architecture ""`},
		{"missing block_count", func(kvs []weights.KV) []weights.KV { return dropKV(kvs, "llada2.block_count") }, "missing key llada2.block_count"},
		{"missing eps", func(kvs []weights.KV) []weights.KV {
			return dropKV(kvs, "llada2.attention.layer_norm_rms_epsilon")
		}, "layer_norm_rms_epsilon"},
		{"softmax gating", func(kvs []weights.KV) []weights.KV {
			return setKV(kvs, "llada2.expert_gating_func", weights.MustValue(uint32(1)))
		}, `score_function "softmax"`},
		{"string count", func(kvs []weights.KV) []weights.KV {
			return setKV(kvs, "llada2.expert_count", weights.MustValue("16"))
		}, "llada2.expert_count"},
		{"negative count", func(kvs []weights.KV) []weights.KV {
			return setKV(kvs, "llada2.expert_count", weights.MustValue(int32(-16)))
		}, "llada2.expert_count"},
		{"uneven per-layer", func(kvs []weights.KV) []weights.KV {
			return setKV(kvs, "llada2.feed_forward_length", weights.MustValue([]uint32{128, 64}))
		}, "feed_forward_length"},
		{"value length", func(kvs []weights.KV) []weights.KV {
			return setKV(kvs, "llada2.attention.value_length", weights.MustValue(uint32(8)))
		}, "value_length"},
		{"rope scaling", func(kvs []weights.KV) []weights.KV {
			return setKV(kvs, "llada2.rope.scaling.type", weights.MustValue("yarn"))
		}, "rope.scaling.type"},
		{"kv heads", func(kvs []weights.KV) []weights.KV {
			return setKV(kvs, "llada2.attention.head_count_kv", weights.MustValue(uint32(3)))
		}, "num_key_value_heads 3"},
	}
	for _, b := range bad {
		_, err := load(b.edit)
		if err == nil || !strings.Contains(err.Error(), b.want) || !strings.Contains(err.Error(), "edited.gguf") {
			t.Errorf("%s: %v, want %q", b.name, err, b.want)
		}
	}
}
