package arch

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/dllm-go/dllm/dllm/internal/weights"
)

// hfToGGUF is how llama.cpp's convert_hf_to_gguf.py writes a family's Hugging Face
// checkpoint (its model class in conversion/<family>.py), beyond what every text model
// gets from config.json (ggufCommonKeys): the tokenizer's pre-tokenizer name, LLaDA's
// query/key row permutation, its forced add_bos_token, and the family's own keys.
// LLaDA2 has none: its layout is GGUFLayout / GGUFModelKeys.
type hfToGGUF struct {
	pre       string // tokenizer.ggml.pre
	permuteQK bool   // undo_permute: q/k rows reordered for llama.cpp's interleaved RoPE
	addBOS    bool   // tokenizer.ggml.add_bos_token forced to true
	// specialByFlag: added tokens are control tokens only when flagged special (the
	// LLaDA and Dream classes' get_vocab_base), not also when they look special.
	specialByFlag bool
	// keys adds the family's set_gguf_parameters keys after the common ones; mask is
	// the checkpoint's mask token id (−1 when it has none).
	keys func(h hparams, k *GGUFKeys, arch string, mask int) error
}

// HFGGUF is the GGUF llama.cpp's converter makes of a Hugging Face checkpoint of a
// family other than LLaDA2: the model keys in its order and the tensors in its order.
type HFGGUF struct {
	Keys    *GGUFKeys    // general.* and model keys, through general.quantization_version
	Tensors []GGUFTensor // HF holds the checkpoint's own tensor names
	Pre     string       // tokenizer.ggml.pre
	AddBOS  bool         // the converter sets tokenizer.ggml.add_bos_token = true last
	// SpecialByFlag: an added token is a control token only when flagged special;
	// otherwise also when it looks like one (<…>, as llama.cpp's base converter does).
	SpecialByFlag bool
}

// GGUFKeys is an ordered set of GGUF keys in which setting a key again replaces its
// value in place, as gguf-py's GGUFWriter does: the order is that of first writing.
type GGUFKeys struct {
	kv []weights.KV
	at map[string]int
}

// Set writes key = v (a value weights.MakeValue accepts).
func (k *GGUFKeys) Set(key string, v any) {
	val := weights.MustValue(v)
	if i, ok := k.at[key]; ok {
		k.kv[i].Value = val
		return
	}
	if k.at == nil {
		k.at = map[string]int{}
	}
	k.at[key] = len(k.kv)
	k.kv = append(k.kv, weights.KV{Key: key, Value: val})
}

// Has reports whether key is set.
func (k *GGUFKeys) Has(key string) bool { _, ok := k.at[key]; return ok }

// KVs returns the keys in order.
func (k *GGUFKeys) KVs() []weights.KV { return k.kv }

// hparams is config.json as llama.cpp's converter reads it.
type hparams map[string]any

// find is ModelBase.find_hparam: the value of the first of keys present (nil when that
// value is null or none is present).
func (h hparams) find(keys ...string) any {
	for _, k := range keys {
		if v, ok := h[k]; ok {
			return v
		}
	}
	return nil
}

// count reads a non-negative integer that fits a uint32 GGUF key.
func count(key string, v any) (uint32, error) {
	f, ok := v.(float64)
	if !ok || f < 0 || f > math.MaxUint32 || f != math.Trunc(f) {
		return 0, fmt.Errorf("config.json: %s is %v, want a count", key, v)
	}
	return uint32(f), nil
}

// setCount writes arch.key from the first of names found in config.json (nothing when
// none is, or it is null).
func (h hparams) setCount(k *GGUFKeys, key string, names ...string) error {
	v := h.find(names...)
	if v == nil {
		return nil
	}
	n, err := count(names[0], v)
	if err != nil {
		return err
	}
	k.Set(key, n)
	return nil
}

// setFloat writes a float32 key from the first of names found in config.json.
func (h hparams) setFloat(k *GGUFKeys, key string, names ...string) error {
	v := h.find(names...)
	if v == nil {
		return nil
	}
	f, ok := v.(float64)
	if !ok {
		return fmt.Errorf("config.json: %s is %v, want a number", names[0], v)
	}
	k.Set(key, float32(f))
	return nil
}

// ggufCommonKeys is TextModel.set_gguf_parameters of llama.cpp's converter, for the
// config.json fields these families can have: the keys every text model gets.
func ggufCommonKeys(h hparams, k *GGUFKeys, a string, fileType uint32) error {
	p := a + "."
	for _, c := range []struct {
		key   string
		names []string
	}{
		{"block_count", []string{"n_layers", "num_hidden_layers", "n_layer", "num_layers"}},
		{"context_length", []string{"max_position_embeddings", "n_ctx", "n_positions", "max_length", "max_sequence_length", "model_max_length"}},
		{"embedding_length", []string{"hidden_size", "n_embd", "dim"}},
		{"feed_forward_length", []string{"prefix_dense_intermediate_size", "dense_intermediate_size", "intermediate_size", "n_inner", "hidden_dim"}},
		{"attention.head_count", []string{"num_attention_heads", "n_head", "n_heads"}},
		{"attention.head_count_kv", []string{"num_key_value_heads", "n_kv_heads"}},
	} {
		if err := h.setCount(k, p+c.key, c.names...); err != nil {
			return err
		}
	}
	if h["is_causal"] == false {
		k.Set(p+"attention.causal", false)
	}
	// rope_scaling and rope_parameters would add scaling keys; the families' parsers
	// refuse them, and so does the conversion.
	for _, r := range []string{"rope_scaling", "rope_parameters"} {
		if m, ok := h[r].(map[string]any); ok && len(m) > 0 {
			return fmt.Errorf("config.json: %s is not supported", r)
		}
	}
	if err := h.setFloat(k, p+"rope.freq_base", "global_rope_theta", "rope_global_theta", "rope_theta_global", "rope_theta", "rotary_emb_base"); err != nil {
		return err
	}
	if err := h.setFloat(k, p+"attention.layer_norm_rms_epsilon", "rms_norm_eps", "norm_eps"); err != nil {
		return err
	}
	for _, c := range []struct {
		key   string
		names []string
	}{
		{"expert_count", []string{"num_local_experts", "num_experts", "n_routed_experts"}},
		{"expert_used_count", []string{"num_experts_per_tok", "num_experts_per_token", "top_k_experts"}},
		{"expert_group_count", []string{"n_group"}},
		{"expert_group_used_count", []string{"topk_group"}},
	} {
		if err := h.setCount(k, p+c.key, c.names...); err != nil {
			return err
		}
	}
	switch s := h.find("score_function", "scoring_func", "score_func", "moe_router_activation", "moe_router_activation_func", "expert_selection_fn"); s {
	case nil:
	case "softmax":
		k.Set(p+"expert_gating_func", uint32(ggufGatingSoftmax))
	case "sigmoid":
		k.Set(p+"expert_gating_func", uint32(2))
	default:
		return fmt.Errorf("config.json: expert score function %v is not supported", s)
	}
	if h["head_dim"] != nil {
		if err := h.setCount(k, p+"attention.key_length", "head_dim"); err != nil {
			return err
		}
		_ = h.setCount(k, p+"attention.value_length", "head_dim")
	}
	k.Set("general.file_type", fileType)
	return nil
}

// PlanHFGGUF lays out the GGUF file llama.cpp's converter makes of ck, a Hugging Face
// checkpoint of family f (not LLaDA2): general.architecture, general.type, general.name
// (name), the model keys (general.file_type = fileType), general.quantization_version,
// and the tensors, in the converter's order: shard by shard (shards in name order),
// each shard's tensors in name order, a layer's routed experts stacked into
// down/gate/up tensors where its last expert tensor comes. mask is the checkpoint's
// mask token id, −1 when none. The tokenizer keys are the caller's.
func PlanHFGGUF(ck *weights.Checkpoint, f *Family, cfg *Config, name string, fileType uint32, mask int) (*HFGGUF, error) {
	conv := f.toGGUF
	if conv == nil || len(f.GGUFArchitectures) == 0 {
		return nil, fmt.Errorf("%s: no llama.cpp conversion is described for %s", f.Name, f.Title)
	}
	var h hparams
	if err := json.Unmarshal(ck.Config, &h); err != nil {
		return nil, fmt.Errorf("config.json: %w", err)
	}
	ts, err := hfGGUFTensors(ck, f, cfg)
	if err != nil {
		return nil, err
	}
	a := f.GGUFArchitectures[0]
	k := &GGUFKeys{}
	k.Set("general.architecture", a)
	k.Set("general.type", "model")
	k.Set("general.name", name)
	k.Set("general.size_label", sizeLabel(ts))
	if err := ggufCommonKeys(h, k, a, fileType); err != nil {
		return nil, err
	}
	if conv.keys != nil {
		if err := conv.keys(h, k, a, mask); err != nil {
			return nil, err
		}
	}
	k.Set("general.quantization_version", uint32(2))
	return &HFGGUF{Keys: k, Tensors: ts, Pre: conv.pre, AddBOS: conv.addBOS, SpecialByFlag: conv.specialByFlag}, nil
}

// sizeLabel is gguf-py's general.size_label of a file of these tensors (when the folder
// name and model card give none): the parameter count, or for mixtures of experts the
// expert count × the parameters one token's path through one expert per layer has,
// in K, M, B or T with at least two digits.
func sizeLabel(ts []GGUFTensor) string {
	var total, shared, expert, expertSum, expertTensors int
	for _, t := range ts {
		size := 1
		for _, d := range t.Shape {
			size *= d
		}
		total += size
		if strings.Contains(t.Name, "_exps.") && len(t.Shape) >= 3 {
			expert += size / t.Shape[0]
			expertSum += t.Shape[0]
			expertTensors++
		} else {
			shared += size
		}
	}
	notation := func(n int) string {
		x, suffix := float64(n)*1e-3, "K"
		switch {
		case n > 1e12:
			x, suffix = float64(n)*1e-12, "T"
		case n > 1e9:
			x, suffix = float64(n)*1e-9, "B"
		case n > 1e6:
			x, suffix = float64(n)*1e-6, "M"
		}
		digits := len(strings.TrimLeft(strconv.FormatFloat(math.RoundToEven(x), 'f', 0, 64), "0"))
		return strconv.FormatFloat(x, 'f', max(2-digits, 0), 64) + suffix
	}
	if expertTensors > 0 {
		return fmt.Sprintf("%dx%s", expertSum/expertTensors, notation(shared+expert))
	}
	return notation(total)
}

// hfGGUFTensors maps the checkpoint's tensors to GGUF names in the converter's order.
func hfGGUFTensors(ck *weights.Checkpoint, f *Family, cfg *Config) ([]GGUFTensor, error) {
	src := slices.Clone(ck.Tensors) // in name order
	sort.SliceStable(src, func(i, j int) bool { return src[i].File < src[j].File })
	var out []GGUFTensor
	type stack struct {
		shape []int
		hf    []string
		n     int
	}
	pending := map[int]map[string]*stack{} // layer → stacked GGUF name → experts so far
	left := map[int]int{}                  // layer → expert tensors still to come
	for _, t := range src {
		canon := f.hf.canonical(t.Name)
		g, e, ok := GGUFName(canon)
		if !ok {
			return nil, fmt.Errorf("%s: %s: tensor %s has no place in llama.cpp's %s layout", f.Name, t.File, weights.Quote(t.Name), f.Name)
		}
		if e < 0 {
			gt := GGUFTensor{Name: g, Shape: slices.Clone(t.Shape), HF: []string{t.Name}, F32: len(t.Shape) < 2}
			if f.toGGUF.permuteQK {
				switch {
				case hasAnySuffix(canon, "attention.q_proj.weight", "attention.q_proj.bias"):
					gt.PermuteHeads = cfg.NumHeads
				case hasAnySuffix(canon, "attention.k_proj.weight", "attention.k_proj.bias"):
					gt.PermuteHeads = cfg.NumKVHeads
				}
			}
			out = append(out, gt)
			continue
		}
		l, _, _ := splitLayer(canon, "model.layers.")
		if e >= cfg.NumExperts || len(t.Shape) != 2 {
			return nil, fmt.Errorf("%s: %s: expert tensor %s (shape %v) does not fit %d experts of 2-D matrices", f.Name, t.File, weights.Quote(t.Name), t.Shape, cfg.NumExperts)
		}
		if pending[l] == nil {
			pending[l] = map[string]*stack{}
			left[l] = 3 * cfg.NumExperts
		}
		s := pending[l][g]
		if s == nil {
			s = &stack{hf: make([]string, cfg.NumExperts)}
			pending[l][g] = s
		}
		if s.hf[e] != "" {
			return nil, fmt.Errorf("%s: %s: two tensors for expert %d of %s", f.Name, t.File, e, g)
		}
		s.hf[e], s.shape = t.Name, t.Shape
		s.n++
		if left[l]--; left[l] > 0 {
			continue
		}
		for _, proj := range []string{"ffn_down_exps.weight", "ffn_gate_exps.weight", "ffn_up_exps.weight"} {
			g := fmt.Sprintf("blk.%d.%s", l, proj)
			s := pending[l][g]
			if s == nil || s.n != cfg.NumExperts {
				return nil, fmt.Errorf("%s: %s: layer %d lacks experts of %s", f.Name, ck.Path, l, g)
			}
			out = append(out, GGUFTensor{Name: g, Shape: append([]int{cfg.NumExperts}, s.shape...), HF: s.hf})
		}
		delete(pending, l)
	}
	for l := range pending {
		return nil, fmt.Errorf("%s: %s: layer %d has only some of its %d experts' tensors", f.Name, ck.Path, l, cfg.NumExperts)
	}
	return out, nil
}

func hasAnySuffix(s string, suffixes ...string) bool {
	return slices.ContainsFunc(suffixes, func(x string) bool { return strings.HasSuffix(s, x) })
}

// setCausalFalse and setShiftFalse are keys several families' converter classes write.
func setCausalFalse(k *GGUFKeys, a string) { k.Set(a+".attention.causal", false) }

func setShiftFalse(k *GGUFKeys) { k.Set("diffusion.shift_logits", false) }

// setConfigMask writes config.json's mask_token_id when it has one (Dream, RND1).
func setConfigMask(h hparams, k *GGUFKeys) error {
	v := h["mask_token_id"]
	if v == nil {
		return nil
	}
	n, err := count("mask_token_id", v)
	if err != nil {
		return err
	}
	k.Set("tokenizer.ggml.mask_token_id", n)
	return nil
}
