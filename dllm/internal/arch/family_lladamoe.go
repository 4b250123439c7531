package arch

import (
	"errors"
	"fmt"

	"github.com/dllm-go/dllm/dllm/internal/weights"
)

// lladaMoEFamily is LLaDA-MoE (LLaDA-MoE-7B-A1B): an OLMoE-style sparse mixture of
// experts in every layer, per-head RMS QK-norm, NeoX RoPE, softmax top-k routing whose
// weights are not renormalised, bidirectional, logits unshifted.
var lladaMoEFamily = &Family{
	Name:              "llada-moe",
	Title:             "LLaDA-MoE",
	Models:            "LLaDA-MoE-7B-A1B-Base, LLaDA-MoE-7B-A1B-Instruct",
	HFArchitectures:   []string{"LLaDAMoEModelLM", "LLaDAMoEModel"},
	GGUFArchitectures: []string{"llada-moe"},
	Bidirectional:     true,
	Specials:          Specials{Mask: "<|mdm_mask|>", EOS: "<|endoftext|>", RoleEnd: "<|role_end|>"},
	router:            "softmax",
	hf:                qwenNaming,
	parseHF:           parseLLaDAMoEHF,
	ggufGating:        ggufGatingSoftmax,
	ggufConfig: func(ck *weights.Checkpoint, c *Config) {
		c.NormTopKProb = false // the modeling code never renormalises
	},
}

func parseLLaDAMoEHF(data []byte) (Config, error) {
	c, x, err := parseStdHF(data)
	if err != nil {
		return c, err
	}
	var m struct {
		Expert     *int     `json:"expert_intermediate_size"`
		Dense      *int     `json:"dense_intermediate_size"`
		Shared     *int     `json:"shared_expert_intermediate_size"`
		LayerFreq  []int    `json:"moe_layer_freq"`
		Score      *string  `json:"moe_router_score_function"`
		ExpertBias bool     `json:"moe_router_enable_expert_bias"`
		QKNorm     bool     `json:"qk_layernorm"`
		AttnBias   bool     `json:"attention_bias"`
		ClipQKV    *float64 `json:"clip_qkv"`
		Groups     *int     `json:"router_num_group"`
		TopKGroups *int     `json:"router_topk_group"`
	}
	if err := jsonUnmarshalInto(data, &m); err != nil {
		return c, err
	}
	var errs []error
	reject := func(bad bool, format string, a ...any) {
		if bad {
			errs = append(errs, fmt.Errorf(format, a...))
		}
	}
	reject(m.ExpertBias, "moe_router_enable_expert_bias is not supported")
	reject(m.Shared != nil && *m.Shared != 0, "shared experts (shared_expert_intermediate_size %v) are not supported", m.Shared)
	reject(m.AttnBias || x.UseBias || x.UseQKVBias, "attention_bias checkpoints are not supported")
	reject(m.ClipQKV != nil, "clip_qkv is not supported")
	reject(m.Groups != nil && *m.Groups > 1 || m.TopKGroups != nil && *m.TopKGroups > 1, "group-limited routing (router_num_group) is not supported")
	if m.Expert != nil {
		c.MoEIntermediateSize = *m.Expert
	}
	if m.Dense != nil {
		c.IntermediateSize = *m.Dense
	}
	// moe_layer_freq[i] = 1 makes layer i sparse; leading dense layers are supported.
	if m.LayerFreq != nil {
		if len(m.LayerFreq) != c.NumLayers {
			errs = append(errs, fmt.Errorf("moe_layer_freq has %d entries for %d layers", len(m.LayerFreq), c.NumLayers))
		}
		dense := 0
		for dense < len(m.LayerFreq) && m.LayerFreq[dense] == 0 {
			dense++
		}
		for _, v := range m.LayerFreq[dense:] {
			reject(v != 1, "moe_layer_freq %v: only leading dense layers are supported", m.LayerFreq)
			if v != 1 {
				break
			}
		}
		c.FirstKDenseReplace = dense
	}
	c.ScoreFunction = "softmax"
	if m.Score != nil {
		c.ScoreFunction = *m.Score
	}
	c.UseQKNorm = m.QKNorm
	// The modeling code takes the top-k softmax probabilities as they are: neither
	// norm_topk_prob nor routed_scaling_factor changes them.
	c.NormTopKProb = false
	c.RoutedScalingFactor = 1
	c.NumGroups, c.TopKGroups = 1, 1
	return c, errors.Join(errs...)
}
