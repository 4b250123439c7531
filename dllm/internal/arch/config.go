// Package arch is the network of every model family dllm runs, first LLaDA2.x (BailingMoeV2
// mixture-of-experts transformers decoded by block diffusion): configuration, weight
// binding, forward pass and KV cache.
package arch

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/dllm-go/dllm/dllm/internal/weights"
)

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

	// Family is the model family's name (see Families); "" in a Config made by hand
	// means LLaDA2. The fields below are zero for LLaDA2.
	Family string `json:"-"`
	// QKVBias: the query, key and value projections have a bias (Dream).
	QKVBias bool `json:"-"`
	// ShiftLogits: decoding reads position i's prediction from output row i−1 (Dream);
	// the model's own logits are unshifted.
	ShiftLogits bool `json:"-"`
	// RopeInterleaved: the rotary pairs are adjacent dimensions (2i, 2i+1) rather than
	// (i, i+rot/2), as in a GGUF whose converter permuted the query and key rows for
	// llama.cpp's interleaved RoPE (LLaDA). Scores are the same either way.
	RopeInterleaved bool `json:"-"`
}

// Architecture identifiers accepted by LoadConfig.
const (
	HFModelType    = "llada2_moe"
	HFArchitecture = "LLaDA2MoeModelLM"
	// GGUF general.architecture values: llama.cpp's LLaDA2 converter writes "llada2" with the
	// BailingMoeV2 key set; a file written as plain "bailingmoe2" has the same layout.
	GGUFArchitecture      = "llada2"
	GGUFArchitectureAlias = "bailingmoe2"
)

// LoadConfig reads the model configuration of an opened checkpoint: config.json of a
// Hugging Face directory, or the `<arch>.*` keys of a GGUF file. Any architecture other
// than LLaDA2 is rejected by name, and the result is validated.
func LoadConfig(ck *weights.Checkpoint) (Config, error) {
	var (
		c   Config
		err error
	)
	switch ck.Format {
	case weights.FormatSafetensors:
		c, err = ParseHFConfig(ck.Config)
	case weights.FormatGGUF:
		c, err = configFromGGUF(ck)
	default:
		err = fmt.Errorf("unknown checkpoint format %q", ck.Format)
	}
	if err == nil {
		err = c.Validate()
	}
	if err != nil {
		where := ck.Path
		if ck.Format == weights.FormatSafetensors {
			where = filepath.Join(ck.Path, weights.ConfigFile) // the file at fault
		}
		return Config{}, fmt.Errorf("%s: %s: %w", errPrefix(c.Family), where, err)
	}
	return c, nil
}

// errPrefix starts the errors about a model of the named family.
func errPrefix(family string) string {
	if family == "" {
		return "llada2"
	}
	return family
}

// hfExtra holds the config.json fields that are not Config fields but decide how Config
// is filled in or whether the model is supported at all. Pointers mark absence.
type hfExtra struct {
	ModelType           string   `json:"model_type"`
	Architectures       []string `json:"architectures"`
	HeadDim             *int     `json:"head_dim"`
	NumKVHeads          *int     `json:"num_key_value_heads"`
	PartialRotaryFactor *float64 `json:"partial_rotary_factor"`
	RotaryDim           *int     `json:"rotary_dim"`
	NumGroups           *int     `json:"n_group"`
	TopKGroups          *int     `json:"topk_group"`
	RoutedScalingFactor *float64 `json:"routed_scaling_factor"`
	ScoreFunction       *string  `json:"score_function"`
	HiddenAct           *string  `json:"hidden_act"`
	RopeScaling         any      `json:"rope_scaling"`
}

// ParseHFConfig parses the config.json of any family (chosen by architectures, then
// model_type, see Families). Fields the file omits get the value the Hugging Face code
// derives (head_dim = hidden/heads, kv heads = heads, rotary_dim =
// head_dim·partial_rotary_factor); the result is not yet validated.
func ParseHFConfig(data []byte) (Config, error) {
	var x hfExtra
	if err := json.Unmarshal(data, &x); err != nil {
		return Config{}, fmt.Errorf("config.json: %w", err)
	}
	f := familyForHF(x.ModelType, x.Architectures)
	if f == nil {
		return Config{}, fmt.Errorf("unsupported architecture: model_type %q, architectures %q (want one of %s)",
			x.ModelType, x.Architectures, hfNamesList())
	}
	if err := checkOptions(data, f.options); err != nil {
		return Config{Family: f.Name}, err
	}
	c, err := f.parseHF(data)
	c.Family = f.Name
	return c, err
}

// parseStdHF parses a config.json with the usual Hugging Face field names (those of
// Config's tags) and fills in what the modeling code derives; families then adjust.
func parseStdHF(data []byte) (Config, hfExtra, error) {
	var c Config
	var x hfExtra
	if err := json.Unmarshal(data, &c); err != nil {
		return Config{}, x, fmt.Errorf("config.json: %w", err)
	}
	if err := json.Unmarshal(data, &x); err != nil {
		return Config{}, x, fmt.Errorf("config.json: %w", err)
	}
	if x.HiddenAct != nil && *x.HiddenAct != "silu" {
		return Config{}, x, fmt.Errorf("hidden_act %q is not supported (want silu)", *x.HiddenAct)
	}
	if x.RopeScaling != nil {
		return Config{}, x, fmt.Errorf("rope_scaling %v is not supported", x.RopeScaling)
	}
	if x.NumKVHeads == nil {
		c.NumKVHeads = c.NumHeads
	}
	if x.HeadDim == nil && c.NumHeads > 0 {
		c.HeadDim = c.HiddenSize / c.NumHeads
	}
	switch {
	case x.PartialRotaryFactor != nil:
		f := *x.PartialRotaryFactor
		rd := float64(c.HeadDim) * f
		if f <= 0 || f > 1 || rd != math.Trunc(rd) {
			return Config{}, x, fmt.Errorf("partial_rotary_factor %g does not give a whole rotary dimension of head_dim %d", f, c.HeadDim)
		}
		if x.RotaryDim != nil && *x.RotaryDim != int(rd) {
			return Config{}, x, fmt.Errorf("rotary_dim %d disagrees with head_dim %d × partial_rotary_factor %g", *x.RotaryDim, c.HeadDim, f)
		}
		c.RotaryDim = int(rd)
	case x.RotaryDim == nil:
		c.RotaryDim = c.HeadDim
	}
	if x.NumGroups == nil {
		c.NumGroups = 1
	}
	if x.TopKGroups == nil {
		c.TopKGroups = c.NumGroups
	}
	if x.RoutedScalingFactor == nil {
		c.RoutedScalingFactor = 1
	}
	if x.ScoreFunction == nil {
		c.ScoreFunction = "sigmoid"
	}
	return c, x, nil
}

// GGUF gating function ids (llama.cpp's llama_expert_gating_func_type).
const (
	ggufGatingSoftmax = 1
	ggufGatingSigmoid = 2
)

// configFromGGUF reads the `<arch>.*` keys llama.cpp writes for the family that
// general.architecture names (for LLaDA2 the BailingMoeV2 key set), then the family's own.
func configFromGGUF(ck *weights.Checkpoint) (Config, error) {
	md := ck.Meta
	arch, _ := md.String("general.architecture")
	f := familyForGGUF(arch)
	if f == nil {
		return Config{}, fmt.Errorf("unsupported architecture %q (want one of %s)", arch, ggufNamesList())
	}
	k := ggufKeys{md: md, arch: arch}
	c := Config{Family: f.Name}
	c.HiddenSize = k.int("embedding_length", -1)
	c.NumLayers = k.int("block_count", -1)
	c.NumHeads = k.int("attention.head_count", -1)
	c.NumKVHeads = k.int("attention.head_count_kv", c.NumHeads)
	headDim := 0
	if c.NumHeads > 0 {
		headDim = c.HiddenSize / c.NumHeads
	}
	c.HeadDim = k.int("attention.key_length", headDim)
	if v := k.int("attention.value_length", c.HeadDim); v != c.HeadDim {
		k.errs = append(k.errs, fmt.Errorf("%s.attention.value_length %d differs from key_length %d", arch, v, c.HeadDim))
	}
	c.RotaryDim = k.int("rope.dimension_count", c.HeadDim)
	c.RopeTheta = k.float("rope.freq_base", 10000)
	if s, ok := md.String(arch + ".rope.scaling.type"); ok && s != "none" {
		k.errs = append(k.errs, fmt.Errorf("%s.rope.scaling.type %q is not supported", arch, s))
	}
	c.RMSNormEps = k.float("attention.layer_norm_rms_epsilon", -1)
	c.MaxPositionEmbeddings = k.int("context_length", -1)

	vocab := 0
	if toks, ok := md.Get("tokenizer.ggml.tokens"); ok {
		vocab = toks.Len()
	} else if t, ok := ck.Tensor("token_embd.weight"); ok && len(t.Shape) == 2 {
		vocab = t.Shape[0]
	}
	c.VocabSize = k.int("vocab_size", vocab)

	c.FirstKDenseReplace = k.int("leading_dense_block_count", 0)
	c.IntermediateSize = k.int("feed_forward_length", 0)
	c.MoEIntermediateSize = k.int("expert_feed_forward_length", 0)
	c.NumExperts = k.int("expert_count", 0)
	c.NumExpertsPerTok = k.int("expert_used_count", 0)
	c.NumSharedExperts = k.int("expert_shared_count", 0)
	// llama.cpp sizes the shared expert by this key, a file where it disagrees with the
	// expert width would run differently there than here. Converters write the width of
	// one shared expert or of all of them together; either agrees.
	if v := k.int("expert_shared_feed_forward_length", c.MoEIntermediateSize); v != c.MoEIntermediateSize && v != c.MoEIntermediateSize*c.NumSharedExperts {
		k.errs = append(k.errs, fmt.Errorf("%s.expert_shared_feed_forward_length %d is neither expert_feed_forward_length %d nor %d times it",
			arch, v, c.MoEIntermediateSize, c.NumSharedExperts))
	}
	c.NumGroups = k.int("expert_group_count", 1)
	c.TopKGroups = k.int("expert_group_used_count", c.NumGroups)
	c.RoutedScalingFactor = k.float("expert_weights_scale", 1)
	if b, ok := md.Bool(arch + ".expert_weights_norm"); ok {
		c.NormTopKProb = b
	}
	switch g := k.int("expert_gating_func", f.ggufGating); g {
	case ggufGatingSigmoid:
		c.ScoreFunction = "sigmoid"
	case ggufGatingSoftmax:
		c.ScoreFunction = "softmax"
	default:
		c.ScoreFunction = fmt.Sprintf("gating function %d", g)
	}
	// What config.json states as flags, a GGUF states by which tensors exist.
	_, hasOutput := ck.Tensor("output.weight")
	c.TieWordEmbeddings = !hasOutput
	_, c.UseQKNorm = ck.Tensor("blk.0.attn_q_norm.weight")
	if id, ok := md.Uint("tokenizer.ggml.padding_token_id"); ok && id <= math.MaxInt32 {
		c.PadTokenID = int(id)
	}
	c.ShiftLogits = f.ShiftLogits
	if v, ok := md.Get("diffusion.shift_logits"); ok {
		if b, isBool := v.Bool(); isBool {
			c.ShiftLogits = b
		} else {
			k.errs = append(k.errs, fmt.Errorf("key diffusion.shift_logits = %v is not a boolean", v))
		}
	}
	if f.ggufConfig != nil {
		f.ggufConfig(ck, &c)
	}
	return c, errors.Join(k.errs...)
}

// ggufKeys reads `<arch>.<key>` values, collecting every problem.
type ggufKeys struct {
	md   *weights.Metadata
	arch string
	errs []error
}

// get looks up `<arch>.<key>`, recording a missing key when it is required; ok is false
// when the key is absent.
func (k *ggufKeys) get(key string, required bool) (v weights.Value, full string, ok bool) {
	full = k.arch + "." + key
	v, ok = k.md.Get(full)
	if !ok && required {
		k.errs = append(k.errs, fmt.Errorf("missing key %s", full))
	}
	return v, full, ok
}

// int reads an integer key; def < 0 makes the key required. Some writers store per-layer
// arrays (llama.cpp allows it for feed_forward_length and head_count); one whose elements
// are all equal is accepted, since LLaDA2 has a single value.
func (k *ggufKeys) int(key string, def int) int {
	v, full, ok := k.get(key, def < 0)
	if !ok {
		return max(def, 0)
	}
	if v.Type() == weights.TypeArray {
		xs, ok := v.Ints()
		if ok && len(xs) > 0 && !slices.ContainsFunc(xs, func(x int64) bool { return x != xs[0] }) {
			v = weights.MustValue(xs[0])
		}
	}
	n, ok := v.Int()
	if !ok || n < 0 || n > math.MaxInt32 {
		k.errs = append(k.errs, fmt.Errorf("key %s = %v is not a non-negative integer", full, v))
		return 0
	}
	return int(n)
}

// float reads a float key; def < 0 makes it required. GGUF writers store config.json
// decimals as float32, so a float32 is read back as the shortest decimal that rounds to
// it (1e-06, not 9.99999997e-07): the configuration then equals the config.json one.
func (k *ggufKeys) float(key string, def float64) float64 {
	v, full, ok := k.get(key, def < 0)
	if !ok {
		return max(def, 0)
	}
	f, ok := v.Float()
	if !ok {
		if n, isInt := v.Int(); isInt {
			return float64(n)
		}
		k.errs = append(k.errs, fmt.Errorf("key %s = %v is not a number", full, v))
		return 0
	}
	if v.Type() == weights.TypeFloat32 {
		f, _ = strconv.ParseFloat(strconv.FormatFloat(f, 'g', -1, 32), 64)
	}
	return f
}

// Limits on the sizes a configuration may state. Every size is later checked against the
// tensors present, but some are used before that or size memory of their own (the RoPE
// table); the limits keep any product of sizes well inside int64 and any table small.
// They are far above every LLaDA2 model (32 768 positions, 157 184 tokens).
const (
	MaxSize      = 1 << 24 // any dimension or count
	MaxContext   = 1 << 22 // max_position_embeddings
	maxRopeBytes = 1 << 30 // cos and sin tables together

	maxRoutedScaling = 1e3
)

// Validate rejects configurations that are not a runnable model, naming the field:
// later code relies on positive sizes and exact divisions.
func (c Config) Validate() error {
	for _, p := range []struct {
		name string
		v    int
	}{
		{"hidden_size", c.HiddenSize}, {"num_hidden_layers", c.NumLayers},
		{"num_attention_heads", c.NumHeads}, {"num_key_value_heads", c.NumKVHeads},
		{"head_dim", c.HeadDim}, {"vocab_size", c.VocabSize},
		{"max_position_embeddings", c.MaxPositionEmbeddings},
	} {
		if p.v <= 0 {
			return fmt.Errorf("%s = %d, want > 0", p.name, p.v)
		}
	}
	for _, p := range []struct {
		name string
		v    int
	}{
		{"hidden_size", c.HiddenSize}, {"num_hidden_layers", c.NumLayers},
		{"num_attention_heads", c.NumHeads}, {"num_key_value_heads", c.NumKVHeads},
		{"head_dim", c.HeadDim}, {"vocab_size", c.VocabSize}, {"rotary_dim", c.RotaryDim},
		{"intermediate_size", c.IntermediateSize}, {"moe_intermediate_size", c.MoEIntermediateSize},
		{"num_experts", c.NumExperts}, {"num_experts_per_tok", c.NumExpertsPerTok},
		{"num_shared_experts", c.NumSharedExperts}, {"n_group", c.NumGroups}, {"topk_group", c.TopKGroups},
		{"first_k_dense_replace", c.FirstKDenseReplace},
	} {
		if p.v > MaxSize {
			return fmt.Errorf("%s = %d is beyond the limit of %d", p.name, p.v, MaxSize)
		}
	}
	if c.PadTokenID < 0 || c.PadTokenID >= c.VocabSize {
		return fmt.Errorf("pad_token_id %d is outside the vocabulary of %d", c.PadTokenID, c.VocabSize)
	}
	if c.MaxPositionEmbeddings > MaxContext {
		return fmt.Errorf("max_position_embeddings = %d is beyond the limit of %d", c.MaxPositionEmbeddings, MaxContext)
	}
	if c.NumHeads%c.NumKVHeads != 0 {
		return fmt.Errorf("num_attention_heads %d is not a multiple of num_key_value_heads %d", c.NumHeads, c.NumKVHeads)
	}
	if c.RotaryDim <= 0 || c.RotaryDim > c.HeadDim || c.RotaryDim%2 != 0 {
		return fmt.Errorf("rotary_dim %d must be even and in 2…head_dim %d", c.RotaryDim, c.HeadDim)
	}
	if c.RopeInterleaved && c.RotaryDim != c.HeadDim {
		// The converter's permutation spans the whole head.
		return fmt.Errorf("rope.dimension_count %d differs from the head dimension %d in a file with permuted query/key rows", c.RotaryDim, c.HeadDim)
	}
	if c.RopeInterleaved && c.UseQKNorm {
		// A per-head norm weight would have to be permuted like the rows it scales.
		return errors.New("query/key norms in a file with permuted query/key rows are not supported")
	}
	if familyByName(c.Family) == nil {
		return fmt.Errorf("unknown model family %q", c.Family)
	}
	// Divided, not multiplied: the check must hold even for sizes that overflow.
	if half := c.RotaryDim / 2; half > 0 && c.MaxPositionEmbeddings > maxRopeBytes/8/half {
		return fmt.Errorf("max_position_embeddings %d × rotary_dim %d needs RoPE tables of %.0f MiB, beyond the limit of %d MiB",
			c.MaxPositionEmbeddings, c.RotaryDim, float64(c.MaxPositionEmbeddings)*float64(half)*8/(1<<20), maxRopeBytes>>20)
	}
	if !(c.RopeTheta > 0) || math.IsInf(c.RopeTheta, 0) {
		return fmt.Errorf("rope_theta %g, want > 0", c.RopeTheta)
	}
	if !(c.RMSNormEps > 0) || c.RMSNormEps >= 1 {
		return fmt.Errorf("rms_norm_eps %g, want in (0, 1)", c.RMSNormEps)
	}
	if c.FirstKDenseReplace < 0 || c.FirstKDenseReplace > c.NumLayers {
		return fmt.Errorf("first_k_dense_replace %d not in 0…%d", c.FirstKDenseReplace, c.NumLayers)
	}
	if c.FirstKDenseReplace > 0 && c.IntermediateSize <= 0 {
		return fmt.Errorf("intermediate_size %d, want > 0 for the %d dense layers", c.IntermediateSize, c.FirstKDenseReplace)
	}
	if c.FirstKDenseReplace == c.NumLayers {
		return nil // no MoE layer: the router fields are unused
	}
	if c.NumExperts <= 0 || c.MoEIntermediateSize <= 0 {
		return fmt.Errorf("num_experts %d, moe_intermediate_size %d, want > 0", c.NumExperts, c.MoEIntermediateSize)
	}
	if c.NumExpertsPerTok <= 0 || c.NumExpertsPerTok > c.NumExperts {
		return fmt.Errorf("num_experts_per_tok %d not in 1…%d", c.NumExpertsPerTok, c.NumExperts)
	}
	if c.NumSharedExperts < 0 {
		return fmt.Errorf("num_shared_experts %d, want ≥ 0", c.NumSharedExperts)
	}
	if c.NumGroups <= 0 || c.NumExperts%c.NumGroups != 0 {
		return fmt.Errorf("num_experts %d is not divisible into n_group %d groups", c.NumExperts, c.NumGroups)
	}
	if c.NumGroups > 1 && c.NumExperts/c.NumGroups < 2 {
		return fmt.Errorf("groups of %d expert cannot be scored by their best two", c.NumExperts/c.NumGroups)
	}
	if c.TopKGroups <= 0 || c.TopKGroups > c.NumGroups {
		return fmt.Errorf("topk_group %d not in 1…n_group %d", c.TopKGroups, c.NumGroups)
	}
	if c.TopKGroups*(c.NumExperts/c.NumGroups) < c.NumExpertsPerTok {
		return fmt.Errorf("topk_group %d × %d experts per group < num_experts_per_tok %d",
			c.TopKGroups, c.NumExperts/c.NumGroups, c.NumExpertsPerTok)
	}
	if f := familyByName(c.Family); c.ScoreFunction != f.router {
		return fmt.Errorf("score_function %q is not supported (%s routes with %s)", c.ScoreFunction, f.Title, f.router)
	}
	if c.ScoreFunction == "softmax" && (c.NumGroups != 1 || c.TopKGroups != 1) {
		return fmt.Errorf("n_group %d, topk_group %d: group-limited routing is only supported with sigmoid scores", c.NumGroups, c.TopKGroups)
	}
	// Bounded because it scales activations: 1e308 overflows float32 to Inf and the
	// logits to NaN. LLaDA2 uses 2.5.
	if !(c.RoutedScalingFactor > 0) || c.RoutedScalingFactor > maxRoutedScaling {
		return fmt.Errorf("routed_scaling_factor %g, want in (0, %g]", c.RoutedScalingFactor, float64(maxRoutedScaling))
	}
	return nil
}
