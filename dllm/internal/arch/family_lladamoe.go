package arch

import (
	"fmt"

	"github.com/dllm-go/dllm/dllm/internal/weights"
)

// lladaMoEFamily is LLaDA-MoE (LLaDA-MoE-7B-A1B): an OLMoE-style sparse mixture of
// experts in every layer, per-head RMS QK-norm, NeoX RoPE, softmax top-k routing whose
// weights are not renormalised, bidirectional, logits unshifted.
var lladaMoEFamily = softmaxMoE(&Family{
	Name:              "llada-moe",
	Title:             "LLaDA-MoE",
	Models:            "LLaDA-MoE-7B-A1B-Base, LLaDA-MoE-7B-A1B-Instruct",
	HFArchitectures:   []string{"LLaDAMoEModelLM", "LLaDAMoEModel"},
	GGUFArchitectures: []string{"llada-moe"},
	Specials:          Specials{Mask: "<|mdm_mask|>", EOS: "<|endoftext|>", RoleEnd: "<|role_end|>"},
	options: []option{
		only("moe_router_enable_expert_bias", false), only("shared_expert_intermediate_size", nil, 0),
		only("attention_bias", false), only("use_qkv_bias", false), only("use_bias", false),
		only("clip_qkv", nil), only("router_num_group", nil, 1), only("router_topk_group", nil, 1),
	},
	parseHF: parseLLaDAMoEHF,
	toGGUF: &hfToGGUF{pre: "bailingmoe", keys: func(h hparams, k *GGUFKeys, a string, mask int) error {
		if err := h.setCount(k, a+".expert_feed_forward_length", "expert_intermediate_size"); err != nil {
			return err
		}
		// llama.cpp's converter writes LLaDA-MoE-7B's id (156895) whatever the
		// checkpoint; this is the checkpoint's own <|mdm_mask|>.
		if mask < 0 {
			return fmt.Errorf("no mask token (<|mdm_mask|>)")
		}
		k.Set("tokenizer.ggml.mask_token_id", uint32(mask))
		setCausalFalse(k, a)
		setShiftFalse(k)
		return nil
	}},
	ggufConfig: func(ck *weights.Checkpoint, c *Config) {
		c.NormTopKProb = false // the modeling code never renormalises
	},
})

func parseLLaDAMoEHF(data []byte) (Config, error) {
	c, _, err := parseStdHF(data)
	if err != nil {
		return c, err
	}
	var m struct {
		Expert    *int    `json:"expert_intermediate_size"`
		Dense     *int    `json:"dense_intermediate_size"`
		LayerFreq []int   `json:"moe_layer_freq"`
		Score     *string `json:"moe_router_score_function"`
		QKNorm    bool    `json:"qk_layernorm"`
	}
	if err := jsonUnmarshalInto(data, &m); err != nil {
		return c, err
	}
	var errs problems
	if m.Expert != nil {
		c.MoEIntermediateSize = *m.Expert
	}
	if m.Dense != nil {
		c.IntermediateSize = *m.Dense
	}
	// moe_layer_freq[i] = 1 makes layer i sparse; leading dense layers are supported.
	if m.LayerFreq != nil {
		errs.reject(len(m.LayerFreq) != c.NumLayers, "moe_layer_freq has %d entries for %d layers", len(m.LayerFreq), c.NumLayers)
		dense := 0
		for dense < len(m.LayerFreq) && m.LayerFreq[dense] == 0 {
			dense++
		}
		for _, v := range m.LayerFreq[dense:] {
			errs.reject(v != 1, "moe_layer_freq %v: only leading dense layers are supported", m.LayerFreq)
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
	return c, errs.err()
}
