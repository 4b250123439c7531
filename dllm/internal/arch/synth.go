package arch

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/dllm-go/dllm/dllm/internal/weights"
	"github.com/dllm-go/dllm/kernels"

	"github.com/dllm-go/dllm/dllm/internal/outfile"
)

// Synthetic models: LLaDA2 checkpoints of any shape with deterministic random weights,
// written as GGUF (laid out like llama.cpp's converter) or as a Hugging Face safetensors
// directory. Benchmarks and tests use them so that no outside tool or download is needed.
//
// Every value is a function of (seed, canonical tensor name, row), so the GGUF and the
// safetensors writer produce the same numbers, rows can be generated in any order, and a
// file larger than memory is streamed one row at a time.

// MiniConfig returns the LLaDA2.0-mini configuration (llada2-spec.md §1.2) with the given
// number of layers (0 means the real 20). The special tokens of synthetic models sit at
// the top of the vocabulary (see SynthSpecials), so pad = <|endoftext|> = vocab−5.
func MiniConfig(layers int) Config {
	if layers <= 0 {
		layers = 20
	}
	return Config{
		HiddenSize: 2048, NumLayers: layers, NumHeads: 16, NumKVHeads: 4, HeadDim: 128,
		VocabSize: 157184, IntermediateSize: 5120, MoEIntermediateSize: 512,
		NumExperts: 256, NumExpertsPerTok: 8, NumSharedExperts: 1, NumGroups: 8, TopKGroups: 4,
		RoutedScalingFactor: 2.5, FirstKDenseReplace: 1, RopeTheta: 600000, RotaryDim: 64,
		RMSNormEps: 1e-6, MaxPositionEmbeddings: 32768, UseQKNorm: true, NormTopKProb: true,
		ScoreFunction: "sigmoid", PadTokenID: 157184 - 5,
	}
}

// TinyConfig is a small LLaDA2 shape for quick tests and smoke runs (hidden 256, 16
// experts top-4 in 4 groups, vocabulary 4096) with the given number of layers (0 → 4).
func TinyConfig(layers int) Config {
	if layers <= 0 {
		layers = 4
	}
	return Config{
		HiddenSize: 256, NumLayers: layers, NumHeads: 4, NumKVHeads: 2, HeadDim: 64,
		VocabSize: 4096, IntermediateSize: 512, MoEIntermediateSize: 128,
		NumExperts: 16, NumExpertsPerTok: 4, NumSharedExperts: 1, NumGroups: 4, TopKGroups: 2,
		RoutedScalingFactor: 2.5, FirstKDenseReplace: 1, RopeTheta: 600000, RotaryDim: 32,
		RMSNormEps: 1e-6, MaxPositionEmbeddings: 4096, UseQKNorm: true, NormTopKProb: true,
		ScoreFunction: "sigmoid", PadTokenID: 4096 - 5,
	}
}

// SynthSpecials are the special tokens of a synthetic model, in order, occupying the last
// len(SynthSpecials) ids of the vocabulary (as in the micro fixture).
var SynthSpecials = []string{"<|startoftext|>", "<|endoftext|>", "<|mask|>", "<|role_end|>", "<role>", "</role>"}

// SynthOptions describes a synthetic model.
type SynthOptions struct {
	Config Config
	// DType is the storage type of the weight matrices: F32, F16, BF16, or (GGUF only)
	// Q8_0. In GGUF, 1-D tensors and the router are always F32 (llama.cpp's layout); in
	// safetensors the expert bias is F32 (as in LLaDA2.1 checkpoints).
	DType weights.DType
	// Arch is the GGUF general.architecture: "llada2" (default) or "bailingmoe2" (what
	// llama.cpp master loads).
	Arch string
	Seed uint64
}

// synthTensor is one tensor to write: canonical (HF) name, shape, storage type, and, for
// GGUF stacked experts, the per-expert HF names it is made of.
type synthTensor struct {
	name  string // name in the file
	shape []int
	dtype weights.DType
	parts []string // HF names of the stacked slices (GGUF experts); nil = the tensor itself
	hf    string   // HF name when not stacked
}

// synthValues gives the distribution of a tensor's values.
func synthValues(hfName string, cols int) (mean, std float64) {
	switch {
	case hasSuffix(hfName, "layernorm.weight"), hasSuffix(hfName, "model.norm.weight"),
		hasSuffix(hfName, "_norm.weight"), hasSuffix(hfName, "ln_f.weight"): // LLaDA's attn_norm, ff_norm, ln_f
		return 1, 0.1 // norm weights near one
	case hasSuffix(hfName, "expert_bias"):
		return 0, 0.02
	}
	return 0, 1 / math.Sqrt(float64(cols)) // keeps activations of order one through every matmul
}

func hasSuffix(s, suf string) bool { return len(s) >= len(suf) && s[len(s)-len(suf):] == suf }

// synthRow fills dst with row r of the HF tensor hfName (cols = len(dst)).
func synthRow(seed uint64, hfName string, r int, dst []float32) {
	h := fnv.New64a()
	h.Write([]byte(hfName))
	state := seed ^ h.Sum64() ^ uint64(r)*0x9E3779B97F4A7C15
	mean, std := synthValues(hfName, len(dst))
	// Irwin–Hall: the sum of four 16-bit uniforms, standardized, is close enough to a
	// normal for random weights and costs one generator step per value.
	k := std * math.Sqrt(12.0/4) / 65536
	for i := range dst {
		x := splitmix(&state)
		s := float64(x&0xFFFF) + float64(x>>16&0xFFFF) + float64(x>>32&0xFFFF) + float64(x>>48)
		dst[i] = float32(mean + (s-2*65535.0)*k)
	}
	// Every value is bf16-representable (as in the micro fixture), so a model written as
	// f32, bf16 or safetensors holds the same numbers whatever the storage type.
	b := make([]byte, 2*len(dst))
	kernels.F32ToBF16(b, dst)
	kernels.BF16ToF32(dst, b)
}

func splitmix(s *uint64) uint64 {
	*s += 0x9E3779B97F4A7C15
	z := *s
	z = (z ^ z>>30) * 0xBF58476D1CE4E5B9
	z = (z ^ z>>27) * 0x94D049BB133111EB
	return z ^ z>>31
}

// hfTensor is a tensor of the canonical HF layout.
type hfTensor struct {
	name  string
	shape []int
}

// hfLayout lists every tensor of cfg under its Hugging Face name (llada2-spec.md §1.3).
func hfLayout(cfg *Config) []hfTensor {
	H, V, D := cfg.HiddenSize, cfg.VocabSize, cfg.HeadDim
	Nq, Nkv := cfg.NumHeads, cfg.NumKVHeads
	var ts []hfTensor
	add := func(name string, shape ...int) { ts = append(ts, hfTensor{name, shape}) }
	add("model.word_embeddings.weight", V, H)
	for i := 0; i < cfg.NumLayers; i++ {
		p := fmt.Sprintf("model.layers.%d.", i)
		add(p+"input_layernorm.weight", H)
		add(p+"attention.query_key_value.weight", (Nq+2*Nkv)*D, H)
		if cfg.UseQKNorm {
			add(p+"attention.query_layernorm.weight", D)
			add(p+"attention.key_layernorm.weight", D)
		}
		add(p+"attention.dense.weight", H, Nq*D)
		add(p+"post_attention_layernorm.weight", H)
		if i < cfg.FirstKDenseReplace {
			add(p+"mlp.gate_proj.weight", cfg.IntermediateSize, H)
			add(p+"mlp.up_proj.weight", cfg.IntermediateSize, H)
			add(p+"mlp.down_proj.weight", H, cfg.IntermediateSize)
			continue
		}
		E, Im, Ish := cfg.NumExperts, cfg.MoEIntermediateSize, cfg.MoEIntermediateSize*cfg.NumSharedExperts
		add(p+"mlp.gate.weight", E, H)
		add(p+"mlp.gate.expert_bias", E)
		for e := 0; e < E; e++ {
			q := fmt.Sprintf("%smlp.experts.%d.", p, e)
			add(q+"gate_proj.weight", Im, H)
			add(q+"up_proj.weight", Im, H)
			add(q+"down_proj.weight", H, Im)
		}
		if Ish > 0 {
			add(p+"mlp.shared_experts.gate_proj.weight", Ish, H)
			add(p+"mlp.shared_experts.up_proj.weight", Ish, H)
			add(p+"mlp.shared_experts.down_proj.weight", H, Ish)
		}
	}
	add("model.norm.weight", H)
	add("lm_head.weight", V, H)
	return ts
}

// encodeRows streams the rows of the HF tensors parts (each [rows, cols]) into w as dtype.
func encodeRows(w io.Writer, seed uint64, parts []string, rows, cols int, dt weights.DType) error {
	f, ok := dt.Format()
	if !ok {
		return fmt.Errorf("synth: cannot encode %s", dt)
	}
	rb, err := f.RowBytes(cols)
	if err != nil {
		return err
	}
	row := make([]float32, cols)
	buf := make([]byte, rb)
	for _, name := range parts {
		for r := 0; r < rows; r++ {
			synthRow(seed, name, r, row)
			switch f {
			case kernels.F32:
				for i, v := range row {
					binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
				}
			case kernels.F16:
				kernels.F32ToF16(buf, row)
			case kernels.BF16:
				kernels.F32ToBF16(buf, row)
			case kernels.Q8_0:
				kernels.QuantizeQ8_0(buf, row)
			default:
				return fmt.Errorf("synth: no encoder for %s", f)
			}
			if _, err := w.Write(buf); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkSynth(o *SynthOptions, gguf bool) error {
	switch o.DType {
	case weights.F32, weights.F16, weights.BF16:
	case weights.Q8_0:
		if !gguf {
			return fmt.Errorf("synth: safetensors cannot store %s", o.DType)
		}
	default:
		return fmt.Errorf("synth: unsupported weight type %s (want f32, f16, bf16 or q8_0)", o.DType)
	}
	c := o.Config
	return c.Validate()
}

// WriteSyntheticGGUF writes a synthetic model as a GGUF file with the keys and tensor
// names of llama.cpp's LLaDA2 converter (micro fixture README, GGUF layout): routed
// experts stacked per layer, expert_bias as blk.N.exp_probs_b.bias, a GPT-2-style
// byte-level vocabulary when the vocabulary has room for one.
func WriteSyntheticGGUF(path string, o SynthOptions) error {
	if err := checkSynth(&o, true); err != nil {
		return err
	}
	cfg := &o.Config
	arch := o.Arch
	if arch == "" {
		arch = "llada2"
	}
	if arch != "llada2" && arch != "bailingmoe2" {
		return fmt.Errorf("synth: architecture %q (want llada2 or bailingmoe2)", arch)
	}
	if f, _ := o.DType.Format(); f.BlockElems() > 1 {
		for _, w := range []int{cfg.HiddenSize, cfg.IntermediateSize, cfg.MoEIntermediateSize, cfg.NumHeads * cfg.HeadDim} {
			if _, err := f.RowBytes(w); err != nil && w > 0 {
				return fmt.Errorf("synth: %s needs matrix widths that are whole blocks: %w", f, err)
			}
		}
	}
	var ts []synthTensor
	for _, lt := range GGUFLayout(cfg, true, true) {
		t := synthTensor{name: lt.Name, shape: lt.Shape, dtype: o.DType, hf: lt.HF[0]}
		if lt.F32 {
			t.dtype = weights.F32
		}
		if len(lt.HF) > 1 {
			t.parts = lt.HF
		}
		ts = append(ts, t)
	}

	infos := make([]weights.TensorInfo, len(ts))
	for i, t := range ts {
		infos[i] = weights.TensorInfo{Name: t.name, DType: t.dtype, Shape: t.shape}
	}
	out, err := weights.CreateGGUF(path, synthMeta(cfg, arch, o.DType), infos)
	if err != nil {
		return err
	}
	for _, t := range ts {
		parts, rows, cols := t.parts, 1, t.shape[len(t.shape)-1]
		if len(t.shape) > 1 {
			rows = t.shape[len(t.shape)-2]
		}
		if parts == nil {
			parts = []string{t.hf}
		}
		if err := out.WriteTensorFunc(t.name, func(w io.Writer) error {
			return encodeRows(w, o.Seed, parts, rows, cols, t.dtype)
		}); err != nil {
			out.Abort()
			return err
		}
	}
	return out.Close()
}

func synthMeta(cfg *Config, arch string, dt weights.DType) []weights.KV {
	name := fmt.Sprintf("LLaDA2 synthetic (%d layers, hidden %d)", cfg.NumLayers, cfg.HiddenSize)
	kv := GGUFModelKeys(cfg, arch, name, weights.FileType(dt), true)
	put := func(k string, v any) { kv = append(kv, weights.KV{Key: k, Value: weights.MustValue(v)}) }
	if toks, types, merges, ok := synthVocab(cfg.VocabSize); ok {
		sp := cfg.VocabSize - len(SynthSpecials)
		put("tokenizer.ggml.model", "gpt2")
		put("tokenizer.ggml.pre", "bailingmoe2")
		put("tokenizer.ggml.tokens", toks)
		put("tokenizer.ggml.token_type", types)
		put("tokenizer.ggml.merges", merges)
		put("tokenizer.ggml.bos_token_id", uint32(sp))
		put("tokenizer.ggml.eos_token_id", uint32(sp+1))
		put("tokenizer.ggml.padding_token_id", uint32(sp+1))
		put("tokenizer.ggml.mask_token_id", uint32(sp+2))
		put("tokenizer.ggml.add_bos_token", false)
		put("tokenizer.ggml.add_eos_token", false)
		put("tokenizer.chat_template", synthChatTemplate)
	}
	return kv
}

// synthChatTemplate renders the LLaDA2 / Ling 2.0 role format (llada2-spec.md §3.6).
const synthChatTemplate = `{%- if messages|length > 0 and messages[0]['role'] == 'system' -%}` +
	`{{- '<role>SYSTEM</role>' + messages[0]['content'] + '\n' -}}{%- else -%}{{- '<role>SYSTEM</role>' -}}{%- endif -%}` +
	`{{- 'detailed thinking off<|role_end|>' -}}` +
	`{%- for m in messages -%}` +
	`{%- if m['role'] == 'user' -%}{{- '<role>HUMAN</role>' + m['content'] + '<|role_end|>' -}}` +
	`{%- elif m['role'] == 'assistant' -%}{{- '<role>ASSISTANT</role>' + m['content'] + '<|role_end|>' -}}` +
	`{%- elif m['role'] == 'system' and not loop.first -%}{{- '<role>SYSTEM</role>' + m['content'] + '<|role_end|>' -}}` +
	`{%- endif -%}{%- endfor -%}` +
	`{%- if add_generation_prompt -%}{{- '<role>ASSISTANT</role>' -}}{%- endif -%}`

// synthVocab builds a byte-level BPE vocabulary of exactly n tokens: the 256 byte tokens
// (GPT-2 byte-to-unicode alphabet), merges of lower-case letter pairs (plain and after a
// space), unused filler tokens, and SynthSpecials last. ok is false when n is too small
// to hold the bytes and the specials.
func synthVocab(n int) (tokens []string, types []int32, merges []string, ok bool) {
	nsp := len(SynthSpecials)
	if n < 256+nsp {
		return nil, nil, nil, false
	}
	alphabet := byteAlphabet()
	for _, b := range byteOrder() {
		tokens = append(tokens, alphabet[b])
		types = append(types, 1) // normal
	}
	room := n - nsp - 256
	space := alphabet[' ']
	for _, first := range append([]string{space}, letters()...) {
		for _, second := range letters() {
			if room == 0 {
				break
			}
			merges = append(merges, first+" "+second)
			tokens = append(tokens, first+second)
			types = append(types, 1)
			room--
		}
	}
	for i := 0; room > 0; i++ {
		tokens = append(tokens, fmt.Sprintf("<|unused_%d|>", i))
		types = append(types, 5) // unused
		room--
	}
	for _, s := range SynthSpecials {
		tokens = append(tokens, s)
		types = append(types, 3) // control
	}
	return tokens, types, merges, true
}

func letters() []string {
	l := make([]string, 26)
	for i := range l {
		l[i] = string(rune('a' + i))
	}
	return l
}

// byteOrder lists the bytes in GPT-2 vocabulary order: the printable ranges first, then
// the rest.
func byteOrder() []int {
	var bs []int
	for b := 0; b < 256; b++ {
		if printableByte(b) {
			bs = append(bs, b)
		}
	}
	for b := 0; b < 256; b++ {
		if !printableByte(b) {
			bs = append(bs, b)
		}
	}
	return bs
}

func printableByte(b int) bool {
	return b >= '!' && b <= '~' || b >= 0xA1 && b <= 0xAC || b >= 0xAE && b <= 0xFF
}

// byteAlphabet maps each byte to its GPT-2 byte-level character: printable bytes stand
// for themselves, the others for code points 256, 257, … in byte order.
func byteAlphabet() [256]string {
	var a [256]string
	next := 256
	for b := 0; b < 256; b++ {
		if printableByte(b) {
			a[b] = string(rune(b))
		} else {
			a[b] = string(rune(next))
			next++
		}
	}
	return a
}

// WriteSyntheticSafetensors writes a synthetic model as a Hugging Face directory:
// config.json and a single model.safetensors with every tensor under its HF name.
// Matrices and norms have the options' dtype; the expert bias is F32.
func WriteSyntheticSafetensors(dir string, o SynthOptions) error {
	if err := checkSynth(&o, false); err != nil {
		return err
	}
	cfg := &o.Config
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(dir, "config.json"), synthConfigJSON(cfg)); err != nil {
		return err
	}
	if err := writeSynthTokenizer(dir, cfg); err != nil {
		return err
	}
	layout := hfLayout(cfg)
	dts := make([]weights.DType, len(layout))
	for i, t := range layout {
		dts[i] = o.DType
		if hasSuffix(t.name, "expert_bias") {
			dts[i] = weights.F32
		}
	}
	return writeSynthSafetensors(dir, layout, dts, o.Seed)
}

// writeSynthSafetensors writes dir/model.safetensors: the tensors of layout, each of its
// dtype in dts, filled with the seeded synthetic values.
func writeSynthSafetensors(dir string, layout []hfTensor, dts []weights.DType, seed uint64) error {
	type entry struct {
		DType   string   `json:"dtype"`
		Shape   []int    `json:"shape"`
		Offsets [2]int64 `json:"data_offsets"`
	}
	header := map[string]any{"__metadata__": map[string]string{"format": "pt"}}
	var off int64
	for i, t := range layout {
		size, err := dts[i].ByteSize(t.shape, math.MaxInt64/2)
		if err != nil {
			return fmt.Errorf("synth: %s: %w", t.name, err)
		}
		header[t.name] = entry{dts[i].SafetensorsName(), t.shape, [2]int64{off, off + size}}
		off += size
	}
	hj, err := json.Marshal(header)
	if err != nil {
		return err
	}
	for len(hj)%8 != 0 {
		hj = append(hj, ' ')
	}
	return outfile.Write(filepath.Join(dir, "model.safetensors"), func(f io.Writer) error {
		w := bufio.NewWriterSize(f, 1<<20)
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(hj)))
		w.Write(n[:])
		w.Write(hj)
		for i, t := range layout {
			rows, cols := 1, t.shape[len(t.shape)-1]
			if len(t.shape) == 2 {
				rows = t.shape[0]
			}
			if err := encodeRows(w, seed, []string{t.name}, rows, cols, dts[i]); err != nil {
				return err
			}
		}
		return w.Flush()
	})
}

// writeFileAtomic writes a small file with the rule of package outfile.
func writeFileAtomic(path string, data []byte) error {
	return outfile.Write(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// lingSplit is the pre-tokenizer split pattern of the Ling / LLaDA2 tokenizers
// (llada2-spec.md §3.6; micro fixture README).
const lingSplit = `'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+`

// writeSynthTokenizer writes tokenizer.json and tokenizer_config.json for the synthetic
// vocabulary (the same one the GGUF carries), so a synthetic Hugging Face directory loads
// everywhere a real one does. Nothing is written when the vocabulary is too small.
func writeSynthTokenizer(dir string, cfg *Config) error {
	return writeSynthTokenizerAs(dir, cfg.VocabSize, cfg.MaxPositionEmbeddings, synthTokLLaDA2)
}

// synthTok are the special tokens and chat template of a synthetic tokenizer: Specials
// replace SynthSpecials at the top of the vocabulary (as many), Bos/EOS/Pad/Mask index
// them.
type synthTok struct {
	Specials            []string
	Bos, EOS, Pad, Mask int
	Template            string
}

var synthTokLLaDA2 = synthTok{Specials: SynthSpecials, Bos: 0, EOS: 1, Pad: 1, Mask: 2, Template: synthChatTemplate}

func writeSynthTokenizerAs(dir string, vocabSize, maxPos int, st synthTok) error {
	toks, _, merges, ok := synthVocab(vocabSize)
	if !ok {
		return nil
	}
	nsp := len(SynthSpecials)
	vocab := make(map[string]int, len(toks)-nsp)
	for i, t := range toks[:len(toks)-nsp] {
		vocab[t] = i
	}
	pairs := make([][2]string, len(merges))
	for i, m := range merges {
		for j := 0; j < len(m); j++ {
			if m[j] == ' ' {
				pairs[i] = [2]string{m[:j], m[j+1:]}
				break
			}
		}
	}
	type added struct {
		ID         int    `json:"id"`
		Content    string `json:"content"`
		SingleWord bool   `json:"single_word"`
		LStrip     bool   `json:"lstrip"`
		RStrip     bool   `json:"rstrip"`
		Normalized bool   `json:"normalized"`
		Special    bool   `json:"special"`
	}
	var specials []added
	decoder := map[string]any{}
	for i, t := range st.Specials {
		id := len(toks) - nsp + i
		specials = append(specials, added{ID: id, Content: t, Special: true})
		decoder[fmt.Sprint(id)] = map[string]any{"content": t, "lstrip": false, "normalized": false, "rstrip": false, "single_word": false, "special": true}
	}
	byteLevel := map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false}
	tj := map[string]any{
		"version": "1.0", "truncation": nil, "padding": nil,
		"added_tokens": specials,
		"normalizer":   nil,
		"pre_tokenizer": map[string]any{"type": "Sequence", "pretokenizers": []any{
			map[string]any{"type": "Split", "pattern": map[string]string{"Regex": lingSplit}, "behavior": "Isolated", "invert": false},
			byteLevel,
		}},
		"post_processor": byteLevel,
		"decoder":        map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false},
		"model": map[string]any{
			"type": "BPE", "dropout": nil, "unk_token": nil, "continuing_subword_prefix": nil,
			"end_of_word_suffix": nil, "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
			"vocab": vocab, "merges": pairs,
		},
	}
	js, err := json.Marshal(tj)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(dir, "tokenizer.json"), js); err != nil {
		return err
	}
	tc := map[string]any{
		"add_bos_token": false, "add_eos_token": false, "added_tokens_decoder": decoder,
		"bos_token": st.Specials[st.Bos], "eos_token": st.Specials[st.EOS], "pad_token": st.Specials[st.Pad],
		"mask_token": st.Specials[st.Mask], "clean_up_tokenization_spaces": false,
		"model_max_length": maxPos, "tokenizer_class": "PreTrainedTokenizerFast",
		"chat_template": st.Template,
	}
	js, err = json.MarshalIndent(tc, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, "tokenizer_config.json"), append(js, '\n'))
}

// synthConfigJSON renders cfg as an llada2_moe config.json.
func synthConfigJSON(cfg *Config) []byte {
	m := map[string]any{
		"architectures":                 []string{"LLaDA2MoeModelLM"},
		"model_type":                    "llada2_moe",
		"hidden_size":                   cfg.HiddenSize,
		"num_hidden_layers":             cfg.NumLayers,
		"num_attention_heads":           cfg.NumHeads,
		"num_key_value_heads":           cfg.NumKVHeads,
		"head_dim":                      cfg.HeadDim,
		"vocab_size":                    cfg.VocabSize,
		"intermediate_size":             cfg.IntermediateSize,
		"moe_intermediate_size":         cfg.MoEIntermediateSize,
		"num_experts":                   cfg.NumExperts,
		"num_experts_per_tok":           cfg.NumExpertsPerTok,
		"num_shared_experts":            cfg.NumSharedExperts,
		"n_group":                       cfg.NumGroups,
		"topk_group":                    cfg.TopKGroups,
		"routed_scaling_factor":         cfg.RoutedScalingFactor,
		"first_k_dense_replace":         cfg.FirstKDenseReplace,
		"rope_theta":                    cfg.RopeTheta,
		"partial_rotary_factor":         float64(cfg.RotaryDim) / float64(cfg.HeadDim),
		"rotary_dim":                    cfg.RotaryDim,
		"rms_norm_eps":                  cfg.RMSNormEps,
		"max_position_embeddings":       cfg.MaxPositionEmbeddings,
		"tie_word_embeddings":           false,
		"use_qk_norm":                   cfg.UseQKNorm,
		"norm_topk_prob":                cfg.NormTopKProb,
		"score_function":                "sigmoid",
		"moe_router_enable_expert_bias": true,
		"router_dtype":                  "fp32",
		"pad_token_id":                  cfg.PadTokenID,
		"hidden_act":                    "silu",
		"use_qkv_bias":                  false,
		"use_bias":                      false,
		"rope_scaling":                  nil,
		"dtype":                         "bfloat16",
	}
	js, _ := json.MarshalIndent(m, "", "  ")
	return append(js, '\n')
}
