package arch

import "github.com/dllm-go/dllm/dllm/internal/weights"

// dreamFamily is Dream (Dream-v0-Base/-Instruct-7B): a Qwen2.5 decoder (GQA, Q/K/V bias,
// NeoX RoPE, SwiGLU) run bidirectionally. Its raw logits are unshifted, but decoding
// reads position i's prediction from row i−1, as Dream's generate does.
var dreamFamily = &Family{
	Name:              "dream",
	Title:             "Dream",
	Models:            "Dream-v0-Base-7B, Dream-v0-Instruct-7B",
	HFArchitectures:   []string{"DreamModel"},
	HFModelTypes:      []string{"Dream", "dream"},
	GGUFArchitectures: []string{"dream"},
	Bidirectional:     true,
	ShiftLogits:       true,
	Specials:          Specials{Mask: "<|mask|>", EOS: "<|endoftext|>", RoleEnd: "<|im_end|>"},
	hf:                qwenNaming,
	options:           []option{only("use_sliding_window", false), only("use_bias", false)},
	parseHF:           parseDreamHF,
	toGGUF: &hfToGGUF{pre: "qwen2", specialByFlag: true, keys: func(h hparams, k *GGUFKeys, a string, _ int) error {
		setCausalFalse(k, a)
		return setConfigMask(h, k)
	}},
	ggufGating: 0,
	ggufConfig: func(ck *weights.Checkpoint, c *Config) {
		markDense(c)
		c.QKVBias = hasTensor(ck, "blk.0.attn_q.bias")
	},
}

func parseDreamHF(data []byte) (Config, error) {
	c, _, err := parseStdHF(data)
	if err != nil {
		return c, err
	}
	markDense(&c)
	c.QKVBias = true // Qwen2's q/k/v projections always have a bias
	c.ShiftLogits = true
	return c, nil
}
