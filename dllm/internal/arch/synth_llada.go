package arch

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/dllm-go/dllm/dllm/internal/weights"
)

// SynthLLaDA is the shape of a synthetic LLaDA (LLaDA-8B architecture: OLMo-style Llama
// blocks, bidirectional attention, separate output head) for benchmarks of the
// bidirectional families.
type SynthLLaDA struct {
	Hidden, Layers, Heads, KVHeads, MLP, Vocab, Context int
}

// LLaDAMiniShape is LLaDA-8B's width at a quarter (hidden 1024, 16 heads of 64, SwiGLU
// 2816) with a 32k vocabulary: a "mini" LLaDA whose forwards cost what a small real
// model's do on a CPU; layers 0 → 8.
func LLaDAMiniShape(layers int) SynthLLaDA {
	if layers <= 0 {
		layers = 8
	}
	return SynthLLaDA{Hidden: 1024, Layers: layers, Heads: 16, KVHeads: 16, MLP: 2816, Vocab: 32768, Context: 4096}
}

// LLaDATinyShape is a small LLaDA for smoke runs (hidden 256, 4 heads, vocabulary 4096);
// layers 0 → 4.
func LLaDATinyShape(layers int) SynthLLaDA {
	if layers <= 0 {
		layers = 4
	}
	return SynthLLaDA{Hidden: 256, Layers: layers, Heads: 4, KVHeads: 4, MLP: 688, Vocab: 4096, Context: 4096}
}

// llada special tokens of a synthetic LLaDA, at the top of the vocabulary in place of
// SynthSpecials (as many), and its chat template (LLaDA-8B-Instruct's).
var synthTokLLaDA = synthTok{
	Specials: []string{"<|startoftext|>", "<|endoftext|>", "<|mdm_mask|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"},
	Bos:      0, EOS: 5, Pad: 1, Mask: 2,
	Template: "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}",
}

// WriteSyntheticLLaDA writes a LLaDA Hugging Face directory (config.json with LLaDA's
// field names, model.safetensors with its tensor names, a byte-level BPE tokenizer with
// LLaDA's special tokens and chat template) with deterministic random weights of dtype
// (F32, F16 or BF16).
func WriteSyntheticLLaDA(dir string, sh SynthLLaDA, dt weights.DType, seed uint64) error {
	switch dt {
	case weights.F32, weights.F16, weights.BF16:
	default:
		return fmt.Errorf("synth: a LLaDA directory stores f32, f16 or bf16, not %s", dt)
	}
	if sh.Hidden <= 0 || sh.Layers <= 0 || sh.Heads <= 0 || sh.KVHeads <= 0 || sh.Hidden%sh.Heads != 0 ||
		sh.Heads%sh.KVHeads != 0 || sh.MLP <= 0 || sh.Vocab < 256+len(SynthSpecials) || sh.Context <= 0 {
		return fmt.Errorf("synth: invalid LLaDA shape %+v", sh)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	nsp := len(SynthSpecials)
	id := func(i int) int { return sh.Vocab - nsp + i }
	cfg := map[string]any{
		"architectures": []string{"LLaDAModelLM"}, "model_type": "llada", "block_type": "llama",
		"d_model": sh.Hidden, "n_layers": sh.Layers, "n_heads": sh.Heads, "n_kv_heads": sh.KVHeads,
		"mlp_hidden_size": sh.MLP, "mlp_ratio": 4, "vocab_size": sh.Vocab, "embedding_size": sh.Vocab,
		"max_sequence_length": sh.Context, "rope": true, "rope_theta": 500000.0, "rope_full_precision": true,
		"rms_norm_eps": 1e-5, "layer_norm_type": "rms", "layer_norm_with_affine": true, "bias_for_layer_norm": false,
		"include_bias": false, "include_qkv_bias": false, "weight_tying": false, "activation_type": "silu",
		"alibi": false, "attention_layer_norm": false, "input_emb_norm": false, "scale_logits": false,
		"mask_token_id": id(synthTokLLaDA.Mask), "eos_token_id": id(1), "pad_token_id": id(1),
		"torch_dtype": "bfloat16",
	}
	js, _ := json.MarshalIndent(cfg, "", "  ")
	if err := writeFileAtomic(filepath.Join(dir, "config.json"), append(js, '\n')); err != nil {
		return err
	}
	if err := writeSynthTokenizerAs(dir, sh.Vocab, sh.Context, synthTokLLaDA); err != nil {
		return err
	}
	H, V, I := sh.Hidden, sh.Vocab, sh.MLP
	kv := sh.KVHeads * (H / sh.Heads)
	var layout []hfTensor
	add := func(name string, shape ...int) { layout = append(layout, hfTensor{name, shape}) }
	add("model.transformer.wte.weight", V, H)
	for i := range sh.Layers {
		p := fmt.Sprintf("model.transformer.blocks.%d.", i)
		add(p+"attn_norm.weight", H)
		add(p+"q_proj.weight", H, H)
		add(p+"k_proj.weight", kv, H)
		add(p+"v_proj.weight", kv, H)
		add(p+"attn_out.weight", H, H)
		add(p+"ff_norm.weight", H)
		add(p+"ff_proj.weight", I, H)
		add(p+"up_proj.weight", I, H)
		add(p+"ff_out.weight", H, I)
	}
	add("model.transformer.ln_f.weight", H)
	add("model.transformer.ff_out.weight", V, H)
	dts := make([]weights.DType, len(layout))
	for i := range dts {
		dts[i] = dt
	}
	return writeSynthSafetensors(dir, layout, dts, seed)
}
