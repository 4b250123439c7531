package arch

import (
	"encoding/json"
	"fmt"

	"github.com/dllm-go/dllm/dllm/internal/weights"
)

// lladaFamily is LLaDA (LLaDA-8B, LLaDA-1.5): an OLMo-style Llama block (MHA, full NeoX
// RoPE, SwiGLU, RMSNorm, no bias), fully bidirectional, logits unshifted.
var lladaFamily = &Family{
	Name:              "llada",
	Title:             "LLaDA",
	Models:            "LLaDA-8B-Base, LLaDA-8B-Instruct, LLaDA-1.5",
	HFArchitectures:   []string{"LLaDAModelLM"},
	HFModelTypes:      []string{"llada"},
	GGUFArchitectures: []string{"llada"},
	Bidirectional:     true,
	Specials:          Specials{Mask: "<|mdm_mask|>", EOS: "<|endoftext|>", RoleEnd: "<|eot_id|>"},
	hf: newNaming(map[string]string{
		"model.transformer.wte.weight":    "model.word_embeddings.weight",
		"model.transformer.ln_f.weight":   "model.norm.weight",
		"model.transformer.ff_out.weight": "lm_head.weight",
	}, "model.transformer.blocks.", map[string]string{
		"attn_norm.weight": "input_layernorm.weight",
		"q_proj.weight":    "attention.q_proj.weight",
		"k_proj.weight":    "attention.k_proj.weight",
		"v_proj.weight":    "attention.v_proj.weight",
		"q_proj.bias":      "attention.q_proj.bias",
		"k_proj.bias":      "attention.k_proj.bias",
		"v_proj.bias":      "attention.v_proj.bias",
		"attn_out.weight":  "attention.dense.weight",
		"ff_norm.weight":   "post_attention_layernorm.weight",
		"ff_proj.weight":   "mlp.gate_proj.weight", // silu(ff_proj x) ⊙ up_proj x
		"up_proj.weight":   "mlp.up_proj.weight",
		"ff_out.weight":    "mlp.down_proj.weight",
	}),
	options: []option{
		must("block_type", "llama"), must("layer_norm_type", "rms"), must("activation_type", "silu"),
		must("rope", true), only("alibi", false), only("rope_scaling", nil),
		only("layer_norm_with_affine", true), only("bias_for_layer_norm", false, nil),
		only("include_bias", false), only("attention_layer_norm", false), only("clip_qkv", nil),
		only("scale_logits", false), only("input_emb_norm", false),
	},
	parseHF: parseLLaDAHF,
	toGGUF: &hfToGGUF{pre: "llama-bpe", permuteQK: true, addBOS: true, specialByFlag: true, keys: func(h hparams, k *GGUFKeys, a string, _ int) error {
		// LLaDAModel.set_gguf_parameters: OLMo's field names, with its defaults.
		def := func(v any, d float64) any {
			if v == nil {
				return d
			}
			return v
		}
		if err := h.setCount(k, a+".vocab_size", "vocab_size"); err != nil {
			return err
		}
		rope := h["head_dim"]
		if rope == nil {
			heads, err := count("n_heads", h.find("num_attention_heads", "n_heads"))
			if err != nil || heads == 0 {
				return fmt.Errorf("config.json: no head count")
			}
			hidden, err := count("d_model", h.find("hidden_size", "d_model"))
			if err != nil {
				return err
			}
			rope = float64(hidden / heads)
		}
		for _, c := range []struct {
			key string
			v   any
		}{
			{"rope.dimension_count", rope},
			{"context_length", def(h["max_sequence_length"], 4096)},
			{"embedding_length", def(h["d_model"], 4096)},
			{"feed_forward_length", def(h["mlp_hidden_size"], 12288)},
		} {
			n, err := count(c.key, c.v)
			if err != nil {
				return err
			}
			k.Set(a+"."+c.key, n)
		}
		setCausalFalse(k, a)
		setShiftFalse(k)
		return nil
	}},
	ggufGating: 0,
	ggufConfig: func(ck *weights.Checkpoint, c *Config) {
		markDense(c)
		c.QKVBias = hasTensor(ck, "blk.0.attn_q.bias")
		// llama.cpp's converter permutes the query and key rows of LLaDA for its
		// interleaved ("normal") RoPE.
		c.RopeInterleaved = true
	},
}

// lladaHF holds LLaDA's config.json fields (OLMo names). Pointers mark absence.
type lladaHF struct {
	DModel        int      `json:"d_model"`
	NLayers       int      `json:"n_layers"`
	NHeads        int      `json:"n_heads"`
	NKVHeads      *int     `json:"n_kv_heads"`
	MultiQuery    *bool    `json:"multi_query_attention"`
	MLPHidden     *int     `json:"mlp_hidden_size"`
	MLPRatio      *int     `json:"mlp_ratio"`
	VocabSize     int      `json:"vocab_size"`
	EmbeddingSize *int     `json:"embedding_size"`
	MaxSeq        int      `json:"max_sequence_length"`
	RopeTheta     *float64 `json:"rope_theta"`
	RMSNormEps    *float64 `json:"rms_norm_eps"`
	WeightTying   bool     `json:"weight_tying"`
	QKVBias       bool     `json:"include_qkv_bias"`
	PadTokenID    *int     `json:"pad_token_id"`
}

// parseLLaDAHF maps LLaDA's config.json (OLMo names) onto Config; the OLMo options
// LLaDA's checkpoints do not use are refused by the family's options.
func parseLLaDAHF(data []byte) (Config, error) {
	var x lladaHF
	if err := json.Unmarshal(data, &x); err != nil {
		return Config{}, fmt.Errorf("config.json: %w", err)
	}
	var errs problems
	c := Config{
		HiddenSize: x.DModel, NumLayers: x.NLayers, NumHeads: x.NHeads, NumKVHeads: x.NHeads,
		VocabSize: x.VocabSize, MaxPositionEmbeddings: x.MaxSeq, RopeTheta: 10000,
		TieWordEmbeddings: x.WeightTying, QKVBias: x.QKVBias,
	}
	switch {
	case x.NKVHeads != nil:
		c.NumKVHeads = *x.NKVHeads
	case x.MultiQuery != nil && *x.MultiQuery:
		c.NumKVHeads = 1
	}
	if x.NHeads > 0 {
		c.HeadDim = x.DModel / x.NHeads
	}
	c.RotaryDim = c.HeadDim
	switch {
	case x.MLPHidden != nil:
		c.IntermediateSize = *x.MLPHidden
	case x.MLPRatio != nil && *x.MLPRatio > 0 && *x.MLPRatio <= MaxSize && x.DModel <= MaxSize:
		c.IntermediateSize = *x.MLPRatio * x.DModel
	default:
		errs.reject(true, "neither mlp_hidden_size nor a positive mlp_ratio")
	}
	if x.EmbeddingSize != nil && *x.EmbeddingSize > 0 {
		c.VocabSize = *x.EmbeddingSize // the padded size the embedding and head have
	}
	if x.RopeTheta != nil {
		c.RopeTheta = *x.RopeTheta
	}
	errs.reject(x.RMSNormEps == nil, "missing rms_norm_eps")
	if x.RMSNormEps != nil {
		c.RMSNormEps = *x.RMSNormEps
	}
	if x.PadTokenID != nil {
		c.PadTokenID = *x.PadTokenID
	}
	markDense(&c)
	c.RoutedScalingFactor = 1
	return c, errs.err()
}
