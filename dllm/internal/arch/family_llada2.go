package arch

// llada2Family is LLaDA2.x: BailingMoeV2 mixture-of-experts with a fused QKV projection,
// per-head QK-norm, partial RoPE, sigmoid group-limited routing with an expert bias and
// shared experts, decoded block by block under a block-causal mask (llada2-spec.md).
// Its Hugging Face names are the canonical ones.
var llada2Family = &Family{
	Name:              "llada2",
	Title:             "LLaDA2",
	Models:            "LLaDA2.0-mini, LLaDA2.0-flash, their -CAP variants, LLaDA2.1",
	HFArchitectures:   []string{HFArchitecture},
	HFModelTypes:      []string{HFModelType},
	GGUFArchitectures: []string{GGUFArchitecture, GGUFArchitectureAlias},
	Specials:          Specials{Mask: "<|mask|>", EOS: "<|endoftext|>", RoleEnd: "<|role_end|>"},
	fusedQKV:          true,
	router:            "sigmoid",
	options:           []option{only("use_qkv_bias", false), only("use_bias", false)},
	parseHF:           func(data []byte) (Config, error) { c, _, err := parseStdHF(data); return c, err },
	ggufGating:        -1, // required
}
