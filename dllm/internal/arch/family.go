package arch

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/dllm-go/dllm/dllm/internal/weights"
)

// A Family is one kind of model dllm runs, described by what sets it apart: how its
// config.json and GGUF keys map onto Config, how its Hugging Face tensor names map onto
// the canonical ones (GGUF names are llama.cpp's, the same for every family), its
// special tokens and its attention. The network itself is shared: every family is the
// same pre-norm transformer (RMSNorm, RoPE, attention with or without QK-norm and
// bias, SwiGLU or mixture-of-experts feed-forward, LM head), configured by Config.
type Family struct {
	Name   string // "llada2", "llada", "dream", "llada-moe", "rnd1"
	Title  string // the family as people write it: "LLaDA-MoE"
	Models string // the published models it covers

	// HFArchitectures and HFModelTypes are config.json's architectures and model_type
	// values of the family; architectures decide first (LLaDA-MoE shares LLaDA's
	// model_type). GGUFArchitectures are general.architecture values.
	HFArchitectures, HFModelTypes, GGUFArchitectures []string

	// Bidirectional: attention sees every position of the window (decoders run it
	// without a KV cache); otherwise it is block-causal (LLaDA2).
	Bidirectional bool
	// ShiftLogits: decoding reads position i's prediction from output row i−1. It is
	// the default; a GGUF states it in diffusion.shift_logits.
	ShiftLogits bool
	// Specials names the family's special tokens, for the roles the tokenizer files
	// leave open or give another meaning (LLaDA's eos_token is its end of turn).
	Specials Specials

	// router is the MoE score function: "sigmoid" (group-limited, LLaDA2) or "softmax"
	// (top-k, OLMoE/Qwen3-MoE); "" for dense families.
	router string
	// fusedQKV: one query_key_value projection rather than q_proj, k_proj, v_proj.
	fusedQKV bool
	// hf maps the family's Hugging Face tensor names to canonical ones.
	hf *naming
	// options are the config.json fields the family runs with only some values.
	options []option
	// parseHF maps config.json onto Config (the caller sets Family).
	parseHF func(data []byte) (Config, error)
	// ggufGating is the expert_gating_func assumed when the GGUF does not state it; -1
	// makes it required.
	ggufGating int
	// ggufConfig completes the configuration read from the common GGUF keys.
	ggufConfig func(ck *weights.Checkpoint, c *Config)
	// toGGUF is how llama.cpp's converter writes the family's Hugging Face checkpoints
	// (nil for LLaDA2, see GGUFLayout).
	toGGUF *hfToGGUF
}

// Specials are the texts of a family's special tokens.
type Specials struct {
	Mask    string // the diffusion mask token ("": an id without text, see MaskTokenID)
	EOS     string // end of text
	RoleEnd string // end of a chat turn ("" when the template has none)
}

// Families lists every family dllm runs, LLaDA2 first.
var Families = []*Family{llada2Family, lladaFamily, dreamFamily, lladaMoEFamily, rnd1Family}

// FamilyByName returns the family called name ("" is LLaDA2), or nil.
func FamilyByName(name string) *Family { return familyByName(name) }

func familyByName(name string) *Family {
	if name == "" {
		return llada2Family
	}
	for _, f := range Families {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// familyForHF picks the family of a config.json: by architectures, then by model_type.
func familyForHF(modelType string, architectures []string) *Family {
	for _, f := range Families {
		for _, a := range architectures {
			if slices.Contains(f.HFArchitectures, a) {
				return f
			}
		}
	}
	for _, f := range Families {
		if slices.Contains(f.HFModelTypes, modelType) {
			return f
		}
	}
	return nil
}

// familyForGGUF picks the family of a GGUF general.architecture.
func familyForGGUF(arch string) *Family {
	for _, f := range Families {
		if slices.Contains(f.GGUFArchitectures, arch) {
			return f
		}
	}
	return nil
}

func hfNamesList() string {
	var s []string
	for _, f := range Families {
		s = append(s, strings.Join(f.HFArchitectures, "/"))
	}
	return strings.Join(s, ", ")
}

func ggufNamesList() string {
	var s []string
	for _, f := range Families {
		s = append(s, f.GGUFArchitectures...)
	}
	return strings.Join(s, ", ")
}

// FamilyOf returns the family of an opened checkpoint, or nil when its configuration
// names none.
func FamilyOf(ck *weights.Checkpoint) *Family {
	switch ck.Format {
	case weights.FormatGGUF:
		arch, _ := ck.Meta.String("general.architecture")
		return familyForGGUF(arch)
	case weights.FormatSafetensors:
		var x hfExtra
		if json.Unmarshal(ck.Config, &x) != nil {
			return nil
		}
		return familyForHF(x.ModelType, x.Architectures)
	}
	return nil
}

// naming maps a family's Hugging Face tensor names to canonical ones: global names one
// to one, layer names "<prefix>N.<rest>" to "model.layers.N.<canonical rest>" (a rest
// not in the table, such as an expert's, is kept).
type naming struct {
	global      map[string]string
	layerPrefix string
	layer       map[string]string
	// reverse tables, made on first use
	rglobal, rlayer map[string]string
}

func newNaming(global map[string]string, layerPrefix string, layer map[string]string) *naming {
	return &naming{global: global, layerPrefix: layerPrefix, layer: layer, rglobal: invert(global), rlayer: invert(layer)}
}

// canonical returns the canonical name of the family's tensor name.
func (n *naming) canonical(name string) string {
	if n == nil {
		return name
	}
	if c, ok := n.global[name]; ok {
		return c
	}
	if l, rest, ok := splitLayer(name, n.layerPrefix); ok {
		if c, ok := n.layer[rest]; ok {
			rest = c
		}
		return fmt.Sprintf("model.layers.%d.%s", l, rest)
	}
	return name
}

// original is canonical's inverse, for messages about the family's files.
func (n *naming) original(name string) string {
	if n == nil {
		return name
	}
	if o, ok := n.rglobal[name]; ok {
		return o
	}
	if l, rest, ok := splitLayer(name, "model.layers."); ok {
		if o, ok := n.rlayer[rest]; ok {
			rest = o
		}
		return fmt.Sprintf("%s%d.%s", n.layerPrefix, l, rest)
	}
	return name
}

// qwenNaming is the Qwen2/Qwen3 (and OLMoE) layout shared by Dream, LLaDA-MoE and RND1.
var qwenNaming = newNaming(map[string]string{
	"model.embed_tokens.weight": "model.word_embeddings.weight",
	"model.norm.weight":         "model.norm.weight",
	"lm_head.weight":            "lm_head.weight",
}, "model.layers.", map[string]string{
	"self_attn.q_proj.weight": "attention.q_proj.weight",
	"self_attn.k_proj.weight": "attention.k_proj.weight",
	"self_attn.v_proj.weight": "attention.v_proj.weight",
	"self_attn.q_proj.bias":   "attention.q_proj.bias",
	"self_attn.k_proj.bias":   "attention.k_proj.bias",
	"self_attn.v_proj.bias":   "attention.v_proj.bias",
	"self_attn.o_proj.weight": "attention.dense.weight",
	"self_attn.q_norm.weight": "attention.query_layernorm.weight",
	"self_attn.k_norm.weight": "attention.key_layernorm.weight",
})

// softmaxMoE completes the description of a family built like OLMoE or Qwen3-MoE:
// bidirectional attention, softmax top-k routing, Qwen's tensor names.
func softmaxMoE(f *Family) *Family {
	f.Bidirectional, f.router, f.ggufGating, f.hf = true, "softmax", ggufGatingSoftmax, qwenNaming
	return f
}

// markDense makes every layer a dense SwiGLU layer (families without experts).
func markDense(c *Config) {
	c.FirstKDenseReplace = c.NumLayers
	c.NumExperts, c.NumExpertsPerTok, c.NumSharedExperts, c.MoEIntermediateSize = 0, 0, 0, 0
	c.NumGroups, c.TopKGroups = 1, 1
	c.ScoreFunction = "" // no router
}

// hasTensor reports whether a GGUF holds the named tensor: a GGUF states by which
// tensors exist what config.json states as flags.
func hasTensor(ck *weights.Checkpoint, name string) bool {
	_, ok := ck.Tensor(name)
	return ok
}

// jsonUnmarshalInto decodes config.json into a family's own view of it.
func jsonUnmarshalInto(data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("config.json: %w", err)
	}
	return nil
}

// ggufDisplayName is the GGUF name of a canonical tensor, for messages.
func ggufDisplayName(name string) string {
	g, e, ok := GGUFName(name)
	switch {
	case !ok:
		return name
	case e >= 0:
		return fmt.Sprintf("%s (expert %d)", g, e)
	}
	return g
}

// MaskTokenID is the mask id a checkpoint states outside its tokenizer's special tokens:
// config.json's mask_token_id or the GGUF's tokenizer.ggml.mask_token_id. RND1's mask id
// has no token text, so the tokenizer cannot name it.
func MaskTokenID(ck *weights.Checkpoint) (int, bool) {
	switch ck.Format {
	case weights.FormatGGUF:
		if id, ok := ck.Meta.Uint("tokenizer.ggml.mask_token_id"); ok && id <= MaxSize {
			return int(id), true
		}
	case weights.FormatSafetensors:
		var x struct {
			ID *int `json:"mask_token_id"`
		}
		if json.Unmarshal(ck.Config, &x) == nil && x.ID != nil && *x.ID >= 0 && *x.ID <= MaxSize {
			return *x.ID, true
		}
	}
	return 0, false
}

// problems collects what a config.json states that a family cannot run, so that one
// error lists them all.
type problems []error

// reject records the problem format describes when bad.
func (p *problems) reject(bad bool, format string, a ...any) {
	if bad {
		*p = append(*p, fmt.Errorf(format, a...))
	}
}

func (p problems) err() error { return errors.Join(p...) }

// option is a config.json field that a family runs with only some values: absent
// (unless required) or one of allowed, compared as JSON values.
type option struct {
	key      string
	required bool
	allowed  []any
}

// only is an option that may also be absent; must one that must be present.
func only(key string, allowed ...any) option { return option{key: key, allowed: allowed} }
func must(key string, allowed ...any) option {
	return option{key: key, required: true, allowed: allowed}
}

// checkOptions reports every option whose value in config.json the family cannot run
// (rather than running a different model than the file describes).
func checkOptions(data []byte, opts []option) error {
	var m map[string]any
	if err := jsonUnmarshalInto(data, &m); err != nil {
		return err
	}
	var errs problems
	for _, o := range opts {
		want, _ := json.Marshal(o.allowed)
		v, ok := m[o.key]
		if !ok {
			errs.reject(o.required, "missing %s (supported: %s)", o.key, want)
			continue
		}
		got, _ := json.Marshal(v)
		errs.reject(!slices.ContainsFunc(o.allowed, func(a any) bool {
			b, _ := json.Marshal(a)
			return string(b) == string(got)
		}), "%s %s is not supported (supported: %s)", o.key, got, want)
	}
	return errs.err()
}
