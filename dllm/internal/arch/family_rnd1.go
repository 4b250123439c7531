package arch

import "github.com/dllm-go/dllm/dllm/internal/weights"

// rnd1Family is RND1 (RND1-Base-0910, converted from Qwen3-30B-A3B): a Qwen3-MoE decoder
// (per-head RMS QK-norm, GQA with an explicit head_dim, softmax router with renormalised
// top-k) run bidirectionally; like Dream, decoding reads position i from row i−1. Its
// mask id has no token text: it comes from mask_token_id (config.json or the GGUF).
var rnd1Family = softmaxMoE(&Family{
	Name:              "rnd1",
	Title:             "RND1",
	Models:            "RND1-Base-0910",
	HFArchitectures:   []string{"RND1", "RND1LM"},
	HFModelTypes:      []string{"rnd1"},
	GGUFArchitectures: []string{"rnd1"},
	ShiftLogits:       true,
	Specials:          Specials{EOS: "<|im_end|>", RoleEnd: "<|im_end|>"},
	options: []option{
		only("decoder_sparse_step", 1), only("mlp_only_layers", []int{}),
		only("attention_bias", false), only("use_sliding_window", false),
	},
	parseHF: parseRND1HF,
	toGGUF: &hfToGGUF{pre: "qwen2", keys: func(h hparams, k *GGUFKeys, a string, _ int) error {
		// Qwen2MoeModel.set_gguf_parameters, then RND1Model's.
		if err := h.setCount(k, a+".expert_feed_forward_length", "moe_intermediate_size"); err != nil {
			return err
		}
		if err := h.setCount(k, a+".expert_shared_feed_forward_length", "shared_expert_intermediate_size"); err != nil {
			return err
		}
		setCausalFalse(k, a)
		return setConfigMask(h, k)
	}},
	ggufConfig: func(ck *weights.Checkpoint, c *Config) {
		// llama.cpp's rnd1 graph renormalises the top-k weights without a key saying so.
		if _, ok := ck.Meta.Get("rnd1.expert_weights_norm"); !ok {
			c.NormTopKProb = true
		}
	},
})

// parseRND1HF maps RND1's config.json (Qwen3-MoE names) onto Config. RND1's own config
// class overwrites the file's values with RND1-30B's; the file is read as written.
func parseRND1HF(data []byte) (Config, error) {
	c, _, err := parseStdHF(data)
	if err != nil {
		return c, err
	}
	c.FirstKDenseReplace = 0
	c.UseQKNorm = true // Qwen3 always normalises queries and keys per head
	c.ScoreFunction = "softmax"
	c.NumGroups, c.TopKGroups = 1, 1
	c.ShiftLogits = true
	return c, nil
}
