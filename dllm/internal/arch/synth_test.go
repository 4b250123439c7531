package arch

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dllm-go/dllm/dllm/internal/weights"
	"github.com/dllm-go/dllm/dllm/tokenizer"
	"github.com/dllm-go/dllm/kernels"
)

// tinyGGUF writes the 2-layer TinyConfig model with weights of type dt, from seed, into
// a temp dir of t and returns its path.
func tinyGGUF(t testing.TB, dt weights.DType, seed uint64) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tiny.gguf")
	if err := WriteSyntheticGGUF(path, SynthOptions{Config: TinyConfig(2), DType: dt, Seed: seed}); err != nil {
		t.Fatal(err)
	}
	return path
}

// smallConfig is a small but complete LLaDA2 shape (dense + MoE layers, GQA, partial
// RoPE, grouped routing) for generator tests.
func smallConfig() Config {
	return Config{
		HiddenSize: 64, NumLayers: 3, NumHeads: 4, NumKVHeads: 2, HeadDim: 16,
		VocabSize: 320, IntermediateSize: 96, MoEIntermediateSize: 32,
		NumExperts: 8, NumExpertsPerTok: 2, NumSharedExperts: 1, NumGroups: 4, TopKGroups: 2,
		RoutedScalingFactor: 2.5, FirstKDenseReplace: 1, RopeTheta: 600000, RotaryDim: 8,
		RMSNormEps: 1e-6, MaxPositionEmbeddings: 512, UseQKNorm: true, NormTopKProb: true,
		ScoreFunction: "sigmoid", PadTokenID: 320 - 5,
	}
}

// TestSyntheticFormatsAgree writes one synthetic model as GGUF (f32, bf16, q8_0; both
// architecture names) and as safetensors (f32, bf16): the exact formats hold the same
// numbers, so their logits must agree, and q8_0 must stay close.
func TestSyntheticFormatsAgree(t *testing.T) {
	dir := t.TempDir()
	cfg := smallConfig()
	tokens := []int32{1, 5, 300, 7, 9, 11, 250, 3, 17, 19, 2, 315}
	V := cfg.VocabSize
	var ref []float32
	for _, c := range []struct {
		name  string
		gguf  bool
		dt    weights.DType
		arch  string
		exact bool
	}{
		{"st-f32", false, weights.F32, "", true},
		{"st-bf16", false, weights.BF16, "", true},
		{"f32.gguf", true, weights.F32, "llada2", true},
		{"bf16.gguf", true, weights.BF16, "bailingmoe2", true},
		{"f16.gguf", true, weights.F16, "llada2", false},
		{"q8_0.gguf", true, weights.Q8_0, "llada2", false},
	} {
		path := filepath.Join(dir, c.name)
		o := SynthOptions{Config: cfg, DType: c.dt, Arch: c.arch, Seed: 7}
		var err error
		if c.gguf {
			err = WriteSyntheticGGUF(path, o)
		} else {
			err = WriteSyntheticSafetensors(path, o)
		}
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		m := openModel(t, path)
		if m.Config().VocabSize != cfg.VocabSize || m.Config().NumLayers != cfg.NumLayers {
			t.Fatalf("%s: config read back as %+v", c.name, m.Config())
		}
		got := runAll(t, m, tokens, 4)
		if ref == nil {
			ref = got
			continue
		}
		d := maxAbsDiff(got, ref)
		agree := 0
		for r := range tokens {
			if kernels.Argmax(got[r*V:(r+1)*V]) == kernels.Argmax(ref[r*V:(r+1)*V]) {
				agree++
			}
		}
		t.Logf("%-10s vs st-f32: max|diff| %.3g, argmax agreement %d/%d", c.name, d, agree, len(tokens))
		// Quantized weights (and activations, in the q8_0 kernels) move logits of this
		// random model by ~0.1 and can flip a router choice; require the top-1 to hold.
		if c.exact && d > 1e-4 || !c.exact && 10*agree < 9*len(tokens) {
			t.Errorf("%s vs st-f32: max|diff| %g, argmax agreement %d/%d", c.name, d, agree, len(tokens))
		}
	}
}

// TestSyntheticDeterministic: the same options give the same bytes; another seed does not.
func TestSyntheticDeterministic(t *testing.T) {
	dir := t.TempDir()
	cfg := smallConfig()
	write := func(name string, seed uint64) []byte {
		p := filepath.Join(dir, name)
		if err := WriteSyntheticGGUF(p, SynthOptions{Config: cfg, DType: weights.Q8_0, Seed: seed}); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a, b, c := write("a.gguf", 1), write("b.gguf", 1), write("c.gguf", 2)
	if !bytes.Equal(a, b) {
		t.Error("same seed, different files")
	}
	if bytes.Equal(a, c) {
		t.Error("different seeds, same file")
	}
}

// TestSyntheticVocab: the generated vocabulary has exactly vocab_size unique tokens with
// the specials last.
func TestSyntheticVocab(t *testing.T) {
	for _, n := range []int{262, 320, 157184} {
		toks, types, merges, ok := synthVocab(n)
		if !ok || len(toks) != n || len(types) != n {
			t.Fatalf("n=%d: %d tokens, ok=%v", n, len(toks), ok)
		}
		seen := map[string]bool{}
		for _, s := range toks {
			if seen[s] {
				t.Fatalf("n=%d: duplicate token %q", n, s)
			}
			seen[s] = true
		}
		for i, s := range SynthSpecials {
			if toks[n-len(SynthSpecials)+i] != s {
				t.Errorf("n=%d: special %q not at the end", n, s)
			}
		}
		if len(merges) > n-256-len(SynthSpecials) {
			t.Errorf("n=%d: %d merges", n, len(merges))
		}
	}
	if _, _, _, ok := synthVocab(100); ok {
		t.Error("vocabulary of 100 accepted")
	}
}

// TestBindErrors: a wrong shape, a missing tensor and an unsupported dtype are errors
// naming the tensor.
func TestBindErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m")
	cfg := smallConfig()
	if err := WriteSyntheticSafetensors(path, SynthOptions{Config: cfg, DType: weights.BF16}); err != nil {
		t.Fatal(err)
	}
	ck, err := weights.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ck.Close()
	ts, err := CanonicalTensors(ck)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Bind(cfg, ts); err != nil {
		t.Fatal(err)
	}
	bad := cfg
	bad.IntermediateSize = 128
	if _, err := Bind(bad, ts); err == nil || !bytes.Contains([]byte(err.Error()), []byte("model.layers.0.mlp.gate_proj.weight")) {
		t.Errorf("wrong intermediate_size: %v", err)
	}
	var missing []weights.Tensor
	for _, x := range ts {
		if x.Name != "model.layers.1.mlp.experts.3.up_proj.weight" {
			missing = append(missing, x)
		}
	}
	if _, err := Bind(cfg, missing); err == nil || !bytes.Contains([]byte(err.Error()), []byte("experts.3.up_proj")) {
		t.Errorf("missing expert: %v", err)
	}
	// Counts within the limits but beyond the tensors present fail before allocating.
	huge := cfg
	huge.NumLayers, huge.FirstKDenseReplace = MaxSize, 0
	if _, err := Bind(huge, ts); err == nil || !strings.Contains(err.Error(), "needs at least") {
		t.Errorf("16M layers: %v", err)
	}
	// Fewer layers or experts than the checkpoint holds leave tensors unused: an error
	// that names them, the list capped.
	fewer := cfg
	fewer.NumLayers = cfg.NumLayers - 1
	err = errOf(Bind(fewer, ts))
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("model.layers.%d.", fewer.NumLayers)) || !strings.Contains(err.Error(), "more") {
		t.Errorf("one layer fewer: %v", err)
	}
	noQK := cfg
	noQK.UseQKNorm = false
	if err := errOf(Bind(noQK, ts)); err == nil || !strings.Contains(err.Error(), "model.layers.0.attention.key_layernorm.weight") {
		t.Errorf("use_qk_norm false with the norms present: %v", err)
	}
	wrong := cfg
	wrong.HiddenSize *= 2
	if err := errOf(Bind(wrong, ts)); err == nil || strings.Count(err.Error(), "\n") > maxListed || !strings.Contains(err.Error(), "more problems") {
		t.Errorf("every tensor wrong: the list is not capped: %v", err)
	}
	odd := append([]weights.Tensor(nil), ts...)
	for i := range odd {
		if odd[i].Name == "model.norm.weight" {
			odd[i].DType = weights.I32
			odd[i].Data = make([]byte, 4*cfg.HiddenSize)
		}
	}
	if _, err := Bind(cfg, odd); err == nil || !bytes.Contains([]byte(err.Error()), []byte("model.norm.weight")) {
		t.Errorf("i32 norm: %v", err)
	}
	// A NaN or infinity in a vector (a norm, a bias) is refused at bind: the expert
	// bias only orders the experts, so its NaN would pick others without a trace.
	for _, name := range []string{"model.layers.1.mlp.gate.expert_bias", "model.layers.0.input_layernorm.weight"} {
		for _, v := range []float32{float32(math.NaN()), float32(math.Inf(-1))} {
			nonFinite := append([]weights.Tensor(nil), ts...)
			found := false
			for i := range nonFinite {
				if nonFinite[i].Name == name {
					d := slices.Clone(nonFinite[i].Data)
					switch bits := math.Float32bits(v); nonFinite[i].DType {
					case weights.F32:
						binary.LittleEndian.PutUint32(d[8:], bits)
					case weights.BF16: // ±Inf and this NaN are exact in bf16
						binary.LittleEndian.PutUint16(d[4:], uint16(bits>>16))
					default:
						t.Fatalf("%s is %s", name, nonFinite[i].DType)
					}
					nonFinite[i].Data, found = d, true
				}
			}
			want := fmt.Sprintf("%s (%s): element 2 is %v", name, filepath.Join(path, "model.safetensors"), v)
			if err := errOf(Bind(cfg, nonFinite)); !found || err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%v in %s: %v, want an error with %q", v, name, err, want)
			}
		}
	}
}

// TestShapeVariants runs unusual but valid shapes: all layers dense, all MoE, no shared
// expert, one routing group, top-1 routing (no renormalization), no partial RoPE (full
// rotary dims), MHA (as many KV heads as query heads), and checks each against itself
// along the cached path.
func TestShapeVariants(t *testing.T) {
	genericKernels(t)
	variants := map[string]func(*Config){
		"all dense":      func(c *Config) { c.FirstKDenseReplace = c.NumLayers },
		"all moe":        func(c *Config) { c.FirstKDenseReplace = 0 },
		"no shared":      func(c *Config) { c.NumSharedExperts = 0 },
		"one group":      func(c *Config) { c.NumGroups, c.TopKGroups = 1, 1 },
		"top-1":          func(c *Config) { c.NumExpertsPerTok = 1 },
		"full rotary":    func(c *Config) { c.RotaryDim = c.HeadDim },
		"mha":            func(c *Config) { c.NumKVHeads = c.NumHeads },
		"no qk norm":     func(c *Config) { c.UseQKNorm = false },
		"odd widths f32": func(c *Config) { c.IntermediateSize, c.MoEIntermediateSize = 40, 24 },
	}
	for name, f := range variants {
		cfg := smallConfig()
		f(&cfg)
		path := filepath.Join(t.TempDir(), "m")
		o := SynthOptions{Config: cfg, DType: weights.BF16, Seed: 3}
		if name == "odd widths f32" {
			o.DType = weights.F32
		}
		if err := WriteSyntheticSafetensors(path, o); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		m := openModel(t, path)
		tokens := []int32{3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8}
		want := runAll(t, m, tokens, 4)
		got, err := m.Logits(tokens, 4)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if d := maxAbsDiff(got, want); d > 1e-5 {
			t.Errorf("%s: block-by-block vs one run: max|diff| %g", name, d)
		}
		for _, v := range got {
			if v != v {
				t.Fatalf("%s: NaN logits", name)
			}
		}
	}
}

// TestSyntheticTokenizer: a synthetic Hugging Face directory carries a tokenizer that
// loads, round-trips text, finds the specials, and renders the chat template.
func TestSyntheticTokenizer(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "m")
	cfg := smallConfig()
	if err := WriteSyntheticSafetensors(dir, SynthOptions{Config: cfg, DType: weights.BF16}); err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if tok.VocabSize() != cfg.VocabSize {
		t.Errorf("tokenizer has %d tokens, want %d", tok.VocabSize(), cfg.VocabSize)
	}
	sp := tok.Specials()
	if int(sp.Mask) != cfg.VocabSize-4 || int(sp.EOS) != cfg.VocabSize-5 {
		t.Errorf("specials %+v", sp)
	}
	text := "hello world, ab cd! <|mask|>"
	ids := tok.Encode(text)
	if got := tok.Decode(ids); got != text {
		t.Errorf("round trip %q -> %v -> %q", text, ids, got)
	}
	if ids[len(ids)-1] != sp.Mask {
		t.Errorf("<|mask|> not recognised: %v", ids)
	}
	if _, err := tok.EncodeChat([]tokenizer.Message{{Role: "user", Content: "hi"}}, true); err != nil {
		t.Errorf("chat template: %v", err)
	}
}

func errOf(_ *Model, err error) error { return err }
