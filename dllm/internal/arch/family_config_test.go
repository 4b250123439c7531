package arch

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/dllm-go/dllm/dllm/internal/weights"
)

// familyConfigs are the fixtures' configurations (testdata/families/*/README.md).
var familyConfigs = map[string]Config{
	"llada": {
		HiddenSize: 64, NumLayers: 2, NumHeads: 4, NumKVHeads: 4, HeadDim: 16, VocabSize: 1024,
		IntermediateSize: 128, NumGroups: 1, TopKGroups: 1, RoutedScalingFactor: 1,
		FirstKDenseReplace: 2, RopeTheta: 500000, RotaryDim: 16, RMSNormEps: 1e-5,
		MaxPositionEmbeddings: 4096, PadTokenID: 1019, Family: "llada",
	},
	"dream": {
		HiddenSize: 64, NumLayers: 2, NumHeads: 4, NumKVHeads: 2, HeadDim: 16, VocabSize: 1024,
		IntermediateSize: 128, NumGroups: 1, TopKGroups: 1, RoutedScalingFactor: 1,
		FirstKDenseReplace: 2, RopeTheta: 1e6, RotaryDim: 16, RMSNormEps: 1e-6,
		MaxPositionEmbeddings: 4096, PadTokenID: 1018, Family: "dream", QKVBias: true, ShiftLogits: true,
	},
	"llada-moe": {
		HiddenSize: 64, NumLayers: 2, NumHeads: 4, NumKVHeads: 4, HeadDim: 16, VocabSize: 1024,
		IntermediateSize: 128, MoEIntermediateSize: 32, NumExperts: 8, NumExpertsPerTok: 2,
		NumGroups: 1, TopKGroups: 1, RoutedScalingFactor: 1, RopeTheta: 50000, RotaryDim: 16,
		RMSNormEps: 1e-5, MaxPositionEmbeddings: 8192, UseQKNorm: true, ScoreFunction: "softmax",
		PadTokenID: 1019, Family: "llada-moe",
	},
	"rnd1": {
		HiddenSize: 64, NumLayers: 2, NumHeads: 4, NumKVHeads: 2, HeadDim: 32, VocabSize: 1024,
		IntermediateSize: 128, MoEIntermediateSize: 32, NumExperts: 8, NumExpertsPerTok: 2,
		NumGroups: 1, TopKGroups: 1, RoutedScalingFactor: 1, RopeTheta: 1e6, RotaryDim: 32,
		RMSNormEps: 1e-6, MaxPositionEmbeddings: 4096, UseQKNorm: true, NormTopKProb: true,
		ScoreFunction: "softmax", PadTokenID: 1018, Family: "rnd1", ShiftLogits: true,
	},
}

func openFamily(t *testing.T, fx familyFixture, form string) *weights.Checkpoint {
	t.Helper()
	return openMicro(t, "../families/"+fx.dir+"/"+form)
}

// TestFamilyConfigForms: each family's config.json and GGUF keys map to the same
// configuration (the LLaDA GGUF also says its Q/K rows are permuted), and the HF and GGUF
// tensors to the same canonical names and shapes.
func TestFamilyConfigForms(t *testing.T) {
	for _, fx := range familyFixtures {
		want := familyConfigs[fx.family]
		var ref []weights.Tensor
		for _, form := range fx.forms() {
			ck := openFamily(t, fx, form)
			if f := FamilyOf(ck); f == nil || f.Name != fx.family {
				t.Fatalf("%s %s: FamilyOf %v", fx.family, form, f)
			}
			c, ts := configAndTensors(t, ck)
			w := want
			w.RopeInterleaved = fx.family == "llada" && ck.Format == weights.FormatGGUF
			if c != w {
				t.Errorf("%s %s:\n got %+v\nwant %+v", fx.family, form, c, w)
			}
			if ref == nil {
				ref = ts
				continue
			}
			if len(ts) != len(ref) {
				t.Fatalf("%s %s: %d canonical tensors, hf has %d", fx.family, form, len(ts), len(ref))
			}
			for i := range ts {
				if ts[i].Name != ref[i].Name || !reflect.DeepEqual(ts[i].Shape, ref[i].Shape) {
					t.Errorf("%s %s: tensor %s %v, hf has %s %v", fx.family, form, ts[i].Name, ts[i].Shape, ref[i].Name, ref[i].Shape)
				}
			}
		}
	}
}

// TestFamilyNames: every HF tensor of a fixture maps to a canonical name and back, and
// the registry finds families by architectures first (LLaDA-MoE shares LLaDA's
// model_type), then model_type, and by GGUF architecture.
func TestFamilyNames(t *testing.T) {
	for _, fx := range familyFixtures {
		f := familyByName(fx.family)
		for _, tt := range openFamily(t, fx, "hf").Tensors {
			c := f.hf.canonical(tt.Name)
			if !strings.HasPrefix(c, "model.") && c != "lm_head.weight" || f.hf.original(c) != tt.Name {
				t.Errorf("%s: %s → %s → %s", fx.family, tt.Name, c, f.hf.original(c))
			}
		}
	}
	for _, c := range []struct {
		modelType string
		archs     []string
		want      string
	}{
		{"llada", []string{"LLaDAModelLM"}, "llada"},
		{"llada", []string{"LLaDAMoEModelLM"}, "llada-moe"},
		{"llada", nil, "llada"},
		{"Dream", nil, "dream"},
		{"x", []string{"DreamModel"}, "dream"},
		{"llada2_moe", nil, "llada2"},
		{"rnd1", nil, "rnd1"},
		{"", []string{"RND1LM"}, "rnd1"},
	} {
		if f := familyForHF(c.modelType, c.archs); f == nil || f.Name != c.want {
			t.Errorf("%q %q: %v, want %s", c.modelType, c.archs, f, c.want)
		}
	}
	if familyForHF("llama", []string{"LlamaForCausalLM"}) != nil {
		t.Error("llama accepted")
	}
	for arch, want := range map[string]string{"llada": "llada", "dream": "dream", "llada-moe": "llada-moe", "rnd1": "rnd1", "llada2": "llada2", "bailingmoe2": "llada2"} {
		if f := familyForGGUF(arch); f == nil || f.Name != want {
			t.Errorf("GGUF %s: %v", arch, f)
		}
	}
	if n := ggufDisplayName("model.layers.1.mlp.experts.3.up_proj.weight"); n != "blk.1.ffn_up_exps.weight (expert 3)" {
		t.Errorf("display name %s", n)
	}
}

// TestFamilyHostileConfigs: a missing, zero, negative or unsupported field of each
// family's config.json is an error naming it (after ParseHFConfig and Validate, as
// LoadConfig runs them), never a panic or a silently different model.
func TestFamilyHostileConfigs(t *testing.T) {
	del := func(k string) func(m map[string]any) { return func(m map[string]any) { delete(m, k) } }
	set := func(k string, v any) func(m map[string]any) { return func(m map[string]any) { m[k] = v } }
	cases := map[string][]struct {
		edit func(m map[string]any)
		want string
	}{
		"llada": {
			{del("d_model"), "hidden_size = 0"},
			{set("n_layers", 0), "num_hidden_layers = 0"},
			{set("n_heads", -4), "num_attention_heads"},
			{set("n_kv_heads", 3), "not a multiple of num_key_value_heads"},
			{del("mlp_hidden_size"), ""}, // falls back to mlp_ratio·d_model
			{func(m map[string]any) { delete(m, "mlp_hidden_size"); delete(m, "mlp_ratio") }, "mlp_ratio"},
			{set("mlp_hidden_size", 0), "intermediate_size 0"},
			{del("max_sequence_length"), "max_position_embeddings = 0"},
			{set("max_sequence_length", 1<<40), "max_position_embeddings"},
			{del("rms_norm_eps"), "rms_norm_eps"},
			{set("rope_theta", -1), "rope_theta"},
			{set("embedding_size", 1<<30), "vocab_size"},
			{set("block_type", "sequential"), "block_type"},
			{set("layer_norm_type", "default"), "layer_norm_type"},
			{set("activation_type", "gelu"), "activation_type"},
			{set("rope", false), "rope false is not supported"},
			{del("block_type"), "missing block_type"},
			{set("include_bias", true), "include_bias"},
			{set("attention_layer_norm", true), "attention_layer_norm"},
			{set("clip_qkv", 8), "clip_qkv"},
			{set("pad_token_id", 5000), "pad_token_id"},
			{set("d_model", "64"), "config.json"},
		},
		"dream": {
			{del("hidden_size"), "hidden_size = 0"},
			{set("num_key_value_heads", 0), "num_key_value_heads = 0"},
			{set("intermediate_size", 0), "intermediate_size 0"},
			{del("max_position_embeddings"), "max_position_embeddings = 0"},
			{set("hidden_act", "gelu"), "hidden_act"},
			{set("use_sliding_window", true), "use_sliding_window"},
			{set("rope_scaling", map[string]any{"type": "yarn"}), "rope_scaling"},
			{set("vocab_size", 0), "vocab_size = 0"},
		},
		"llada-moe": {
			{del("num_experts"), "num_experts 0"},
			{set("num_experts_per_tok", 9), "num_experts_per_tok 9"},
			{del("expert_intermediate_size"), "moe_intermediate_size 0"},
			{set("moe_layer_freq", []int{1}), "moe_layer_freq"},
			{set("moe_layer_freq", []int{1, 0}), "moe_layer_freq"},
			{set("moe_layer_freq", []int{0, 1}), ""}, // a leading dense layer
			{set("moe_router_score_function", "sigmoid"), "score_function"},
			{set("moe_router_enable_expert_bias", true), "expert_bias"},
			{set("shared_expert_intermediate_size", 64), "shared_expert_intermediate_size 64"},
			{set("attention_bias", true), "attention_bias"},
			{set("router_num_group", 2), "router_num_group"},
			{func(m map[string]any) { m["num_hidden_layers"] = 1 << 25; delete(m, "moe_layer_freq") }, "num_hidden_layers"},
			{set("partial_rotary_factor", 0.3), "partial_rotary_factor"},
		},
		"rnd1": {
			{set("head_dim", 0), "head_dim = 0"},
			{set("head_dim", 31), "rotary_dim 31"},
			{set("decoder_sparse_step", 2), "decoder_sparse_step"},
			{set("mlp_only_layers", []int{0}), "mlp_only_layers"},
			{set("attention_bias", true), "attention_bias"},
			{set("use_sliding_window", true), "use_sliding_window"},
			{del("moe_intermediate_size"), "moe_intermediate_size 0"},
			{set("num_experts_per_tok", 0), "num_experts_per_tok 0"},
			{set("num_key_value_heads", 3), "not a multiple"},
			{set("max_position_embeddings", -1), "max_position_embeddings"},
		},
	}
	for family, cs := range cases {
		for _, c := range cs {
			raw := editConfig(t, filepath.Join(familiesDir, family, "hf", "config.json"), c.edit)
			cfg, err := ParseHFConfig(raw)
			if err == nil {
				err = cfg.Validate()
			}
			switch {
			case c.want == "" && err != nil:
				t.Errorf("%s: %s: %v", family, raw, err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("%s: error %v, want %q", family, err, c.want)
			}
		}
	}
}

// TestFamilyHostileGGUF: a GGUF missing a key its family needs, or stating a value that
// cannot run, is an error naming the key and the file.
func TestFamilyHostileGGUF(t *testing.T) {
	cases := []struct {
		src, key string
		v        any // nil: drop the key
		want     string
	}{
		{"llada/gguf/llada-micro-f32.gguf", "llada.block_count", nil, "missing key llada.block_count"},
		{"llada/gguf/llada-micro-f32.gguf", "llada.feed_forward_length", nil, "intermediate_size 0"},
		{"llada/gguf/llada-micro-f32.gguf", "llada.rope.dimension_count", uint32(8), "permuted"},
		{"llada/gguf/llada-micro-f32.gguf", "llada.attention.head_count", uint32(0), "num_attention_heads = 0"},
		{"dream/gguf/dream-micro-f32.gguf", "dream.attention.head_count_kv", uint32(3), "num_key_value_heads"},
		{"dream/gguf/dream-micro-f32.gguf", "dream.context_length", nil, "missing key dream.context_length"},
		{"dream/gguf/dream-micro-f32.gguf", "diffusion.shift_logits", "yes", "diffusion.shift_logits"},
		{"llada-moe/gguf/llada-moe-micro-f32.gguf", "llada-moe.expert_used_count", uint32(0), "num_experts_per_tok 0"},
		{"llada-moe/gguf/llada-moe-micro-f32.gguf", "llada-moe.expert_count", nil, "num_experts 0"},
		{"llada-moe/gguf/llada-moe-micro-f32.gguf", "llada-moe.expert_gating_func", uint32(2), "score_function"},
		{"llada-moe/gguf/llada-moe-micro-f32.gguf", "llada-moe.attention.layer_norm_rms_epsilon", nil, "missing key"},
		{"rnd1/gguf/rnd1-micro-f32.gguf", "rnd1.attention.key_length", uint32(16), "differs from key_length 16"},
		{"rnd1/gguf/rnd1-micro-f32.gguf", "rnd1.attention.value_length", uint32(16), "value_length 16 differs"},
		{"rnd1/gguf/rnd1-micro-f32.gguf", "rnd1.expert_count", uint32(1 << 30), "num_experts"},
	}
	for _, c := range cases {
		p := rewriteGGUF(t, "../families/"+c.src, func(kvs []weights.KV) []weights.KV {
			if c.v == nil {
				return dropKV(kvs, c.key)
			}
			return setKV(kvs, c.key, weights.MustValue(c.v))
		})
		ck, err := weights.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		_, err = LoadConfig(ck)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s %s=%v: %v, want %q naming the file", c.src, c.key, c.v, err, c.want)
		}
		if err == nil {
			if _, err := Load(ck, LoadOptions{}); err == nil {
				t.Errorf("%s %s=%v: loads", c.src, c.key, c.v)
			}
		}
		ck.Close()
	}
}

// TestFamilyBindErrors: a missing or misshapen tensor of a family is named as the file
// names it (the HF name, or the GGUF name), not by the canonical name.
func TestFamilyBindErrors(t *testing.T) {
	for _, c := range []struct {
		fx        familyFixture
		form      string
		drop      string // canonical name to drop
		want      string
		reshape   string // canonical name given a wrong shape
		wantShape string
	}{
		{familyFixtures[1], "hf", "model.layers.0.attention.q_proj.bias", "missing tensor model.layers.0.self_attn.q_proj.bias",
			"model.layers.1.attention.dense.weight", "model.layers.1.self_attn.o_proj.weight"},
		{familyFixtures[1], "gguf/dream-micro-f32.gguf", "model.layers.0.attention.q_proj.bias", "missing tensor blk.0.attn_q.bias",
			"model.layers.1.attention.dense.weight", "blk.1.attn_output.weight"},
		{familyFixtures[0], "hf", "model.layers.1.mlp.gate_proj.weight", "missing tensor model.transformer.blocks.1.ff_proj.weight",
			"lm_head.weight", "model.transformer.ff_out.weight"},
		{familyFixtures[2], "gguf/llada-moe-micro-f32.gguf", "model.layers.1.mlp.experts.7.up_proj.weight", "blk.1.ffn_up_exps.weight (expert 7)",
			"model.layers.0.attention.key_layernorm.weight", "blk.0.attn_k_norm.weight"},
	} {
		ck := openFamily(t, c.fx, c.form)
		cfg, ts := configAndTensors(t, ck)
		var kept []weights.Tensor
		for _, tt := range ts {
			switch tt.Name {
			case c.drop:
				continue
			case c.reshape:
				tt.Shape = []int{tt.Shape[0] + 1}
			}
			kept = append(kept, tt)
		}
		_, err := bind(cfg, kept, displayNames(cfg, ck), LoadOptions{})
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.wantShape) {
			t.Errorf("%s %s: %v, want %q and %q", c.fx.family, c.form, err, c.want, c.wantShape)
		}
	}
}

// TestValidateFamilies: each fixture's configuration is valid, and the combinations no
// converter writes are refused.
func TestValidateFamilies(t *testing.T) {
	for name, c := range familyConfigs {
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	for name, c := range map[string]struct {
		edit func(c *Config)
		want string
	}{
		"permuted rows with QK-norm":  {func(c *Config) { c.RopeInterleaved, c.UseQKNorm = true, true }, "query/key norms"},
		"permuted rows, partial RoPE": {func(c *Config) { c.RopeInterleaved, c.RotaryDim = true, 8 }, "permuted"},
		"unknown family":              {func(c *Config) { c.Family = "llama" }, `unknown model family "llama"`},
	} {
		cfg := familyConfigs["llada"]
		c.edit(&cfg)
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
}
