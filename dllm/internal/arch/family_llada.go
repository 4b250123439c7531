package arch

import (
	"encoding/json"
	"errors"
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
	parseHF:    parseLLaDAHF,
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
	Rope          bool     `json:"rope"`
	RopeTheta     *float64 `json:"rope_theta"`
	RMSNormEps    *float64 `json:"rms_norm_eps"`
	WeightTying   bool     `json:"weight_tying"`
	IncludeBias   bool     `json:"include_bias"`
	QKVBias       bool     `json:"include_qkv_bias"`
	BlockType     string   `json:"block_type"`
	LayerNormType string   `json:"layer_norm_type"`
	Affine        *bool    `json:"layer_norm_with_affine"`
	NormBias      bool     `json:"bias_for_layer_norm"`
	Activation    string   `json:"activation_type"`
	Alibi         bool     `json:"alibi"`
	AttnLayerNorm bool     `json:"attention_layer_norm"`
	ClipQKV       *float64 `json:"clip_qkv"`
	ScaleLogits   bool     `json:"scale_logits"`
	InputEmbNorm  bool     `json:"input_emb_norm"`
	PadTokenID    *int     `json:"pad_token_id"`
	RopeScaling   any      `json:"rope_scaling"`
}

// parseLLaDAHF maps LLaDA's config.json onto Config, rejecting the OLMo options LLaDA's
// checkpoints do not use rather than running them wrongly.
func parseLLaDAHF(data []byte) (Config, error) {
	var x lladaHF
	if err := json.Unmarshal(data, &x); err != nil {
		return Config{}, fmt.Errorf("config.json: %w", err)
	}
	var errs []error
	reject := func(bad bool, format string, a ...any) {
		if bad {
			errs = append(errs, fmt.Errorf(format, a...))
		}
	}
	reject(x.BlockType != "llama", "block_type %q is not supported (want llama)", x.BlockType)
	reject(x.LayerNormType != "rms", "layer_norm_type %q is not supported (want rms)", x.LayerNormType)
	reject(x.Affine != nil && !*x.Affine || x.NormBias, "layer norms without weights or with biases are not supported")
	reject(x.Activation != "silu", "activation_type %q is not supported (want silu)", x.Activation)
	reject(!x.Rope || x.Alibi, "rope %v, alibi %v: only RoPE positions are supported", x.Rope, x.Alibi)
	reject(x.IncludeBias, "include_bias checkpoints are not supported")
	reject(x.AttnLayerNorm, "attention_layer_norm is not supported")
	reject(x.ClipQKV != nil, "clip_qkv is not supported")
	reject(x.ScaleLogits || x.InputEmbNorm, "scale_logits / input_emb_norm are not supported")
	reject(x.RopeScaling != nil, "rope_scaling %v is not supported", x.RopeScaling)
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
		errs = append(errs, errors.New("neither mlp_hidden_size nor a positive mlp_ratio"))
	}
	if x.EmbeddingSize != nil && *x.EmbeddingSize > 0 {
		c.VocabSize = *x.EmbeddingSize // the padded size the embedding and head have
	}
	if x.RopeTheta != nil {
		c.RopeTheta = *x.RopeTheta
	}
	if x.RMSNormEps == nil {
		errs = append(errs, errors.New("missing rms_norm_eps"))
	} else {
		c.RMSNormEps = *x.RMSNormEps
	}
	if x.PadTokenID != nil {
		c.PadTokenID = *x.PadTokenID
	}
	markDense(&c)
	c.RoutedScalingFactor = 1
	return c, errors.Join(errs...)
}
