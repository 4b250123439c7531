// Package llada2 is the LLaDA2.x architecture (BailingMoeV2 mixture-of-experts transformer
// decoded by block diffusion): configuration, weight binding, forward pass and KV cache.
package llada2

// Config holds the hyperparameters of a LLaDA2 model, read from config.json or from the
// GGUF `llada2.*` keys. Field meanings follow llada2-spec.md §1.2.
type Config struct {
	HiddenSize            int     `json:"hidden_size"`
	NumLayers             int     `json:"num_hidden_layers"`
	NumHeads              int     `json:"num_attention_heads"`
	NumKVHeads            int     `json:"num_key_value_heads"`
	HeadDim               int     `json:"head_dim"`
	VocabSize             int     `json:"vocab_size"`
	IntermediateSize      int     `json:"intermediate_size"`     // dense-layer FFN width
	MoEIntermediateSize   int     `json:"moe_intermediate_size"` // per routed expert
	NumExperts            int     `json:"num_experts"`
	NumExpertsPerTok      int     `json:"num_experts_per_tok"`
	NumSharedExperts      int     `json:"num_shared_experts"`
	NumGroups             int     `json:"n_group"`
	TopKGroups            int     `json:"topk_group"`
	RoutedScalingFactor   float64 `json:"routed_scaling_factor"`
	FirstKDenseReplace    int     `json:"first_k_dense_replace"`
	RopeTheta             float64 `json:"rope_theta"`
	RotaryDim             int     `json:"rotary_dim"` // head_dim·partial_rotary_factor
	RMSNormEps            float64 `json:"rms_norm_eps"`
	MaxPositionEmbeddings int     `json:"max_position_embeddings"`
	TieWordEmbeddings     bool    `json:"tie_word_embeddings"`
	UseQKNorm             bool    `json:"use_qk_norm"`
	NormTopKProb          bool    `json:"norm_topk_prob"`
	ScoreFunction         string  `json:"score_function"`
	// Token ids from the config (the tokenizer is the authority for special tokens).
	PadTokenID int `json:"pad_token_id"`
}
