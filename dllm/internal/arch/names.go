package arch

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/dllm-go/dllm/dllm/internal/weights"
)

// Canonical tensor naming is the Hugging Face one (llada2-spec.md §1.3), with one tensor
// per routed expert. It is the naming of the format people download first, it names every
// expert separately (which GGUF cannot), and the forward pass binds by it. GGUF names
// (llama.cpp's bailingmoe2 layout) are translated by the tables below.

// ggufGlobal maps the tensors outside the layers.
var ggufGlobal = map[string]string{
	"token_embd.weight":  "model.word_embeddings.weight",
	"output_norm.weight": "model.norm.weight",
	"output.weight":      "lm_head.weight",
}

// ggufLayer maps the per-layer tensors: blk.N.<gguf> ↔ model.layers.N.<hf>.
var ggufLayer = map[string]string{
	"attn_norm.weight":      "input_layernorm.weight",
	"attn_qkv.weight":       "attention.query_key_value.weight",
	"attn_q.weight":         "attention.q_proj.weight",
	"attn_k.weight":         "attention.k_proj.weight",
	"attn_v.weight":         "attention.v_proj.weight",
	"attn_q.bias":           "attention.q_proj.bias",
	"attn_k.bias":           "attention.k_proj.bias",
	"attn_v.bias":           "attention.v_proj.bias",
	"attn_q_norm.weight":    "attention.query_layernorm.weight",
	"attn_k_norm.weight":    "attention.key_layernorm.weight",
	"attn_output.weight":    "attention.dense.weight",
	"ffn_norm.weight":       "post_attention_layernorm.weight",
	"ffn_gate.weight":       "mlp.gate_proj.weight",
	"ffn_up.weight":         "mlp.up_proj.weight",
	"ffn_down.weight":       "mlp.down_proj.weight",
	"ffn_gate_inp.weight":   "mlp.gate.weight",
	"exp_probs_b.bias":      "mlp.gate.expert_bias",
	"ffn_gate_shexp.weight": "mlp.shared_experts.gate_proj.weight",
	"ffn_up_shexp.weight":   "mlp.shared_experts.up_proj.weight",
	"ffn_down_shexp.weight": "mlp.shared_experts.down_proj.weight",
}

// ggufStacked maps the stacked routed-expert tensors blk.N.<gguf> ([E, rows, cols]) to the
// per-expert model.layers.N.mlp.experts.E.<hf>.
var ggufStacked = map[string]string{
	"ffn_gate_exps.weight": "gate_proj.weight",
	"ffn_up_exps.weight":   "up_proj.weight",
	"ffn_down_exps.weight": "down_proj.weight",
}

// reverse tables, for GGUFName.
var hfGlobal, hfLayer, hfStacked = invert(ggufGlobal), invert(ggufLayer), invert(ggufStacked)

func invert(m map[string]string) map[string]string {
	r := make(map[string]string, len(m))
	for k, v := range m {
		r[v] = k
	}
	return r
}

// splitLayer splits "<prefix>N.<rest>" into N and rest. N must be written canonically
// (no sign, no leading zeros) so that two spellings cannot name the same layer.
func splitLayer(name, prefix string) (layer int, rest string, ok bool) {
	s, ok := strings.CutPrefix(name, prefix)
	if !ok {
		return 0, "", false
	}
	num, rest, ok := strings.Cut(s, ".")
	if !ok {
		return 0, "", false
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 || strconv.Itoa(n) != num {
		return 0, "", false
	}
	return n, rest, true
}

// HFName returns the canonical name of a GGUF tensor that is not a stacked expert tensor.
func HFName(gguf string) (string, bool) {
	if hf, ok := ggufGlobal[gguf]; ok {
		return hf, true
	}
	l, rest, ok := splitLayer(gguf, "blk.")
	if !ok {
		return "", false
	}
	hf, ok := ggufLayer[rest]
	if !ok {
		return "", false
	}
	return fmt.Sprintf("model.layers.%d.%s", l, hf), true
}

// GGUFName returns the GGUF name under which a canonical tensor is stored. For a routed
// expert's tensor it is the stacked tensor's name and expert is the index into its outer
// dimension; otherwise expert is -1. Quantizers use it to lay out a GGUF file.
func GGUFName(hf string) (name string, expert int, ok bool) {
	if g, ok := hfGlobal[hf]; ok {
		return g, -1, true
	}
	l, rest, ok := splitLayer(hf, "model.layers.")
	if !ok {
		return "", 0, false
	}
	if g, ok := hfLayer[rest]; ok {
		return fmt.Sprintf("blk.%d.%s", l, g), -1, true
	}
	e, proj, ok := splitLayer(rest, "mlp.experts.")
	if !ok {
		return "", 0, false
	}
	g, ok := hfStacked[proj]
	if !ok {
		return "", 0, false
	}
	return fmt.Sprintf("blk.%d.%s", l, g), e, true
}

// CanonicalTensors returns the checkpoint's tensors under canonical names, sorted by
// name. Safetensors tensors are returned as they are; GGUF tensors are renamed and each
// stacked expert tensor becomes one zero-copy view per expert. Views alias the
// checkpoint's mapping and die with it.
func CanonicalTensors(ck *weights.Checkpoint) ([]weights.Tensor, error) {
	f := FamilyOf(ck)
	if f == nil {
		f = llada2Family
	}
	if ck.Format != weights.FormatGGUF {
		out := append([]weights.Tensor(nil), ck.Tensors...)
		if f.hf == nil {
			return out, nil // already canonical
		}
		for i := range out {
			out[i].Name = f.hf.canonical(out[i].Name)
		}
		return sortUnique(ck, f, out)
	}
	var out []weights.Tensor
	for _, t := range ck.Tensors {
		if hf, ok := HFName(t.Name); ok {
			t.Name = hf
			out = append(out, t)
			continue
		}
		l, rest, ok := splitLayer(t.Name, "blk.")
		proj, stacked := ggufStacked[rest]
		if !ok || !stacked {
			return nil, fmt.Errorf("%s: %s: tensor %s is not part of the %s layout", f.Name, t.File, weights.Quote(t.Name), f.Name)
		}
		experts, err := splitExperts(t, fmt.Sprintf("model.layers.%d.mlp.experts.", l), proj)
		if err != nil {
			return nil, err
		}
		out = append(out, experts...)
	}
	return sortUnique(ck, f, out)
}

// sortUnique sorts canonical tensors by name; two of one name are an error.
func sortUnique(ck *weights.Checkpoint, f *Family, out []weights.Tensor) ([]weights.Tensor, error) {
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	for i := 1; i < len(out); i++ {
		if out[i].Name == out[i-1].Name {
			return nil, fmt.Errorf("%s: %s: two tensors map to %s", f.Name, ck.Path, weights.Quote(out[i].Name))
		}
	}
	return out, nil
}

// splitExperts cuts a stacked [E, rows, cols] tensor into E views of [rows, cols]. Each
// expert's bytes are contiguous because the expert index is the outermost dimension.
func splitExperts(t weights.Tensor, prefix, proj string) ([]weights.Tensor, error) {
	// No dimension may be zero: E views of zero bytes each would let a hostile expert
	// count (2^40) allocate without bound, where non-empty views are bounded by the file.
	if len(t.Shape) != 3 || slices.Contains(t.Shape, 0) {
		return nil, fmt.Errorf("llada2: %s: stacked expert tensor %q has shape %v, want [experts, rows, cols], none zero", t.File, t.Name, t.Shape)
	}
	e := t.Shape[0]
	per, err := t.DType.ByteSize(t.Shape[1:], int64(len(t.Data)))
	if err != nil || per*int64(e) != int64(len(t.Data)) {
		return nil, fmt.Errorf("llada2: %s: stacked expert tensor %q (%s %v) does not split into %d experts of %d bytes",
			t.File, t.Name, t.DType, t.Shape, e, per)
	}
	out := make([]weights.Tensor, e)
	for i := range out {
		lo, hi := int64(i)*per, int64(i+1)*per
		out[i] = weights.Tensor{
			Name:  fmt.Sprintf("%s%d.%s", prefix, i, proj),
			DType: t.DType,
			Shape: []int{t.Shape[1], t.Shape[2]},
			Data:  t.Data[lo:hi:hi],
			File:  t.File,
		}
	}
	return out, nil
}

// GGUFTensor is one tensor of the LLaDA2 GGUF layout.
type GGUFTensor struct {
	Name  string   // GGUF name
	Shape []int    // row-major, outermost first
	HF    []string // canonical (Hugging Face) sources: one, or one per expert when stacked
	// F32 marks the tensors llama.cpp's layout keeps in float32 whatever the file type:
	// norms, the expert bias and the router.
	F32 bool
	// PermuteHeads, when not 0, is the head count of LLaDA's query or key projection
	// whose rows llama.cpp's converter reorders within each head for its interleaved
	// RoPE: row h·D + 2j + s comes from row h·D + s·D/2 + j (D the head's rows).
	PermuteHeads int
}

// GGUFLayout lists the tensors of a LLaDA2 GGUF file for cfg in the order llama.cpp's
// converter writes them: embeddings; per layer attention, then the dense FFN or the
// router, expert bias (when withBias), stacked down/gate/up experts and the shared
// expert; the final norm; the LM head (when withHead).
func GGUFLayout(cfg *Config, withBias, withHead bool) []GGUFTensor {
	var ts []GGUFTensor
	add := func(f32 bool, name, hf string, shape ...int) {
		ts = append(ts, GGUFTensor{Name: name, Shape: shape, HF: []string{hf}, F32: f32})
	}
	H, V, D := cfg.HiddenSize, cfg.VocabSize, cfg.HeadDim
	add(false, "token_embd.weight", "model.word_embeddings.weight", V, H)
	for i := 0; i < cfg.NumLayers; i++ {
		b, p := fmt.Sprintf("blk.%d.", i), fmt.Sprintf("model.layers.%d.", i)
		add(true, b+"attn_norm.weight", p+"input_layernorm.weight", H)
		add(false, b+"attn_qkv.weight", p+"attention.query_key_value.weight", (cfg.NumHeads+2*cfg.NumKVHeads)*D, H)
		add(true, b+"attn_q_norm.weight", p+"attention.query_layernorm.weight", D)
		add(true, b+"attn_k_norm.weight", p+"attention.key_layernorm.weight", D)
		add(false, b+"attn_output.weight", p+"attention.dense.weight", H, cfg.NumHeads*D)
		add(true, b+"ffn_norm.weight", p+"post_attention_layernorm.weight", H)
		if i < cfg.FirstKDenseReplace {
			I := cfg.IntermediateSize
			add(false, b+"ffn_gate.weight", p+"mlp.gate_proj.weight", I, H)
			add(false, b+"ffn_up.weight", p+"mlp.up_proj.weight", I, H)
			add(false, b+"ffn_down.weight", p+"mlp.down_proj.weight", H, I)
			continue
		}
		E, Im := cfg.NumExperts, cfg.MoEIntermediateSize
		add(true, b+"ffn_gate_inp.weight", p+"mlp.gate.weight", E, H)
		if withBias {
			add(true, b+"exp_probs_b.bias", p+"mlp.gate.expert_bias", E)
		}
		for _, w := range []struct {
			gguf, hf   string
			rows, cols int
		}{{"down", "down_proj", H, Im}, {"gate", "gate_proj", Im, H}, {"up", "up_proj", Im, H}} {
			t := GGUFTensor{Name: b + "ffn_" + w.gguf + "_exps.weight", Shape: []int{E, w.rows, w.cols}}
			for e := 0; e < E; e++ {
				t.HF = append(t.HF, fmt.Sprintf("%smlp.experts.%d.%s.weight", p, e, w.hf))
			}
			ts = append(ts, t)
		}
		if Ish := Im * cfg.NumSharedExperts; Ish > 0 {
			add(false, b+"ffn_gate_shexp.weight", p+"mlp.shared_experts.gate_proj.weight", Ish, H)
			add(false, b+"ffn_up_shexp.weight", p+"mlp.shared_experts.up_proj.weight", Ish, H)
			add(false, b+"ffn_down_shexp.weight", p+"mlp.shared_experts.down_proj.weight", H, Ish)
		}
	}
	add(true, "output_norm.weight", "model.norm.weight", H)
	if withHead {
		add(false, "output.weight", "lm_head.weight", V, H)
	}
	return ts
}

// GGUFModelKeys returns the general.* and architecture keys of a LLaDA2 GGUF file, in the
// order llama.cpp's converter writes them; the tokenizer keys follow them. fileType is
// general.file_type; quantized adds general.quantization_version, as gguf-py does for
// quantized files.
func GGUFModelKeys(cfg *Config, arch, name string, fileType uint32, quantized bool) []weights.KV {
	var kv []weights.KV
	put := func(k string, x any) { kv = append(kv, weights.KV{Key: k, Value: weights.MustValue(x)}) }
	u := func(k string, n int) { put(arch+"."+k, uint32(n)) }
	gating := 2 // sigmoid
	if cfg.ScoreFunction == "softmax" {
		gating = 1
	}
	put("general.architecture", arch)
	put("general.type", "model")
	put("general.name", name)
	u("block_count", cfg.NumLayers)
	u("context_length", cfg.MaxPositionEmbeddings)
	u("embedding_length", cfg.HiddenSize)
	u("feed_forward_length", cfg.IntermediateSize)
	u("attention.head_count", cfg.NumHeads)
	u("attention.head_count_kv", cfg.NumKVHeads)
	put(arch+".rope.freq_base", float32(cfg.RopeTheta))
	put(arch+".attention.layer_norm_rms_epsilon", float32(cfg.RMSNormEps))
	u("expert_used_count", cfg.NumExpertsPerTok)
	u("expert_group_count", cfg.NumGroups)
	u("expert_group_used_count", cfg.TopKGroups)
	u("expert_gating_func", gating)
	u("attention.key_length", cfg.HeadDim)
	u("attention.value_length", cfg.HeadDim)
	put("general.file_type", fileType)
	u("rope.dimension_count", cfg.RotaryDim)
	put(arch+".rope.scaling.type", "none")
	u("leading_dense_block_count", cfg.FirstKDenseReplace)
	u("vocab_size", cfg.VocabSize)
	u("expert_feed_forward_length", cfg.MoEIntermediateSize)
	// The width of one shared expert: how llama.cpp's loader reads the key.
	u("expert_shared_feed_forward_length", cfg.MoEIntermediateSize)
	put(arch+".expert_weights_scale", float32(cfg.RoutedScalingFactor))
	u("expert_count", cfg.NumExperts)
	u("expert_shared_count", cfg.NumSharedExperts)
	put(arch+".expert_weights_norm", cfg.NormTopKProb)
	put("diffusion.shift_logits", false)
	if quantized {
		put("general.quantization_version", uint32(2))
	}
	return kv
}
