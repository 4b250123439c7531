package llada2

import (
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/dllm-go/dllm/dllm/internal/weights"
	"github.com/dllm-go/dllm/kernels"
)

// Model is a LLaDA2 network bound to its weights. Matrices are zero-copy views of the
// checkpoint's mapping, so the Model does not own the mapping: the caller keeps the
// Checkpoint open for as long as the Model (and every State made from it) is used.
// A Model is immutable after Bind and may be shared by many States.
type Model struct {
	cfg    Config
	Embed  kernels.Matrix // [vocab, hidden]; rows are dequantized on lookup
	Layers []Layer
	Norm   []float32      // final RMSNorm weight [hidden]
	LMHead kernels.Matrix // [vocab, hidden]

	rope ropeTable
	pool *kernels.Pool
}

// Layer is one decoder layer. Exactly one of Dense and MoE is set.
type Layer struct {
	InputNorm []float32      // [hidden]
	QKV       kernels.Matrix // [(Nq+2·Nkv)·head_dim, hidden], rows [all Q heads][all K heads][all V heads]
	QNorm     []float32      // [head_dim], shared by all query heads
	KNorm     []float32      // [head_dim], shared by all key heads
	Out       kernels.Matrix // [hidden, Nq·head_dim]
	PostNorm  []float32      // [hidden]
	Dense     *MLP           // layers < first_k_dense_replace
	MoE       *MoE           // the other layers
}

// MLP is a SwiGLU feed-forward block: Down(silu(Gate·x) ⊙ Up·x).
type MLP struct {
	Gate, Up kernels.Matrix // [width, hidden]
	Down     kernels.Matrix // [hidden, width]
}

// MoE is a routed mixture of SwiGLU experts plus always-on shared experts.
type MoE struct {
	// Router is [experts, hidden]. It is kept in an exactly-widened format (f32, bf16 or
	// f16 view, anything else dequantized to f32 at bind) because routing decisions are
	// discrete: quantizing the activations against a quantized router could flip them.
	Router     kernels.Matrix
	ExpertBias []float32 // [experts], added to the sigmoid scores for selection only
	Experts    []MLP
	Shared     MLP // width moe_intermediate_size·num_shared_experts
}

// Config returns the configuration the model was bound with.
func (m *Model) Config() Config { return m.cfg }

// WithThreads returns a Model sharing m's weights whose kernels run on a pool of n
// workers (n <= 0 means GOMAXPROCS). The weights are not copied. A pool of the default
// size is shared process-wide; a pool of another size belongs to the returned Model and
// its workers stop once that Model is garbage.
func (m *Model) WithThreads(n int) *Model {
	c := *m
	if n <= 0 || n == runtime.GOMAXPROCS(0) {
		c.pool = defaultPool()
		return &c
	}
	c.pool = kernels.NewPool(n)
	runtime.AddCleanup(&c, func(p *kernels.Pool) { p.Close() }, c.pool)
	return &c
}

// defaultPool is the GOMAXPROCS-sized pool that Models use unless told otherwise; one
// per process, so binding many models starts no extra goroutines.
var defaultPool = sync.OnceValue(func() *kernels.Pool { return kernels.NewPool(0) })

// Bind builds a Model from tensors under their canonical Hugging Face names
// (llada2-spec.md §1.3; GGUF files are mapped to those names by CanonicalTensors).
// Every shape is checked against cfg; an error names the offending tensor. Norm weights
// and expert biases are widened to float32 once here; matrices stay views of the data.
func Bind(cfg Config, tensors []weights.Tensor) (*Model, error) {
	if err := checkConfig(&cfg); err != nil {
		return nil, err
	}
	b := binder{byName: make(map[string]*weights.Tensor, len(tensors))}
	for i := range tensors {
		t := &tensors[i]
		if _, dup := b.byName[t.Name]; dup {
			return nil, fmt.Errorf("llada2: tensor %s appears twice", t.Name)
		}
		b.byName[t.Name] = t
	}
	H, V, D := cfg.HiddenSize, cfg.VocabSize, cfg.HeadDim
	Nq, Nkv := cfg.NumHeads, cfg.NumKVHeads
	m := &Model{cfg: cfg}
	m.Embed = b.matrix("model.word_embeddings.weight", V, H)
	if cfg.TieWordEmbeddings && b.byName["lm_head.weight"] == nil {
		m.LMHead = m.Embed
	} else {
		m.LMHead = b.matrix("lm_head.weight", V, H)
	}
	m.Norm = b.vector("model.norm.weight", H)
	m.Layers = make([]Layer, cfg.NumLayers)
	for i := range m.Layers {
		p := fmt.Sprintf("model.layers.%d.", i)
		l := &m.Layers[i]
		l.InputNorm = b.vector(p+"input_layernorm.weight", H)
		l.QKV = b.matrix(p+"attention.query_key_value.weight", (Nq+2*Nkv)*D, H)
		if cfg.UseQKNorm {
			l.QNorm = b.vector(p+"attention.query_layernorm.weight", D)
			l.KNorm = b.vector(p+"attention.key_layernorm.weight", D)
		}
		l.Out = b.matrix(p+"attention.dense.weight", H, Nq*D)
		l.PostNorm = b.vector(p+"post_attention_layernorm.weight", H)
		if i < cfg.FirstKDenseReplace {
			l.Dense = b.mlp(p+"mlp.", cfg.IntermediateSize, H)
			continue
		}
		E, Im := cfg.NumExperts, cfg.MoEIntermediateSize
		moe := &MoE{
			Router:  b.router(p+"mlp.gate.weight", E, H),
			Experts: make([]MLP, E),
		}
		if b.byName[p+"mlp.gate.expert_bias"] != nil {
			moe.ExpertBias = b.vector(p+"mlp.gate.expert_bias", E)
		} else {
			moe.ExpertBias = make([]float32, E) // checkpoints without a bias select on the plain scores
		}
		for e := range moe.Experts {
			moe.Experts[e] = *b.mlp(fmt.Sprintf("%smlp.experts.%d.", p, e), Im, H)
		}
		if cfg.NumSharedExperts > 0 {
			moe.Shared = *b.mlp(p+"mlp.shared_experts.", Im*cfg.NumSharedExperts, H)
		}
		l.MoE = moe
	}
	if err := errors.Join(b.errs...); err != nil {
		return nil, err
	}
	m.rope = newRopeTable(cfg.MaxPositionEmbeddings, cfg.RotaryDim, cfg.RopeTheta)
	m.pool = defaultPool()
	return m, nil
}

// checkConfig rejects configurations the forward pass cannot run, so that later code can
// rely on positive sizes and exact divisions.
func checkConfig(c *Config) error {
	pos := []struct {
		name string
		v    int
	}{
		{"hidden_size", c.HiddenSize}, {"num_hidden_layers", c.NumLayers},
		{"num_attention_heads", c.NumHeads}, {"num_key_value_heads", c.NumKVHeads},
		{"head_dim", c.HeadDim}, {"vocab_size", c.VocabSize},
		{"max_position_embeddings", c.MaxPositionEmbeddings},
	}
	for _, p := range pos {
		if p.v <= 0 {
			return fmt.Errorf("llada2: config %s = %d, want > 0", p.name, p.v)
		}
	}
	if c.NumHeads%c.NumKVHeads != 0 {
		return fmt.Errorf("llada2: num_attention_heads %d is not a multiple of num_key_value_heads %d", c.NumHeads, c.NumKVHeads)
	}
	if c.RotaryDim < 0 || c.RotaryDim > c.HeadDim || c.RotaryDim%2 != 0 {
		return fmt.Errorf("llada2: rotary_dim %d must be even and within head_dim %d", c.RotaryDim, c.HeadDim)
	}
	if c.RopeTheta <= 0 && c.RotaryDim > 0 {
		return fmt.Errorf("llada2: rope_theta %g, want > 0", c.RopeTheta)
	}
	if c.FirstKDenseReplace < c.NumLayers && c.FirstKDenseReplace >= 0 {
		// at least one MoE layer: the router parameters must make sense
		if c.NumExperts <= 0 || c.MoEIntermediateSize <= 0 {
			return fmt.Errorf("llada2: num_experts %d / moe_intermediate_size %d, want > 0", c.NumExperts, c.MoEIntermediateSize)
		}
		if c.NumExpertsPerTok <= 0 || c.NumExpertsPerTok > c.NumExperts {
			return fmt.Errorf("llada2: num_experts_per_tok %d not in 1…%d", c.NumExpertsPerTok, c.NumExperts)
		}
		g := c.NumGroups
		if g <= 0 {
			g = 1
		}
		if c.NumExperts%g != 0 {
			return fmt.Errorf("llada2: num_experts %d is not a multiple of n_group %d", c.NumExperts, g)
		}
		tg := c.TopKGroups
		if tg <= 0 || tg > g {
			tg = g
		}
		if c.NumExperts/g < 2 && g > 1 {
			return fmt.Errorf("llada2: groups of %d experts cannot be scored by their top-2", c.NumExperts/g)
		}
		if tg*(c.NumExperts/g) < c.NumExpertsPerTok {
			return fmt.Errorf("llada2: topk_group %d × %d experts per group < num_experts_per_tok %d", tg, c.NumExperts/g, c.NumExpertsPerTok)
		}
		if c.ScoreFunction != "" && c.ScoreFunction != "sigmoid" {
			return fmt.Errorf("llada2: score_function %q not supported (want sigmoid)", c.ScoreFunction)
		}
	}
	if c.FirstKDenseReplace > 0 && c.IntermediateSize <= 0 {
		return fmt.Errorf("llada2: intermediate_size %d, want > 0", c.IntermediateSize)
	}
	return nil
}

// binder looks tensors up by name and collects every problem instead of stopping at the
// first, so a broken checkpoint reports all its bad tensors at once.
type binder struct {
	byName map[string]*weights.Tensor
	errs   []error
}

func (b *binder) get(name string, shape ...int) *weights.Tensor {
	t := b.byName[name]
	if t == nil {
		b.errs = append(b.errs, fmt.Errorf("llada2: missing tensor %s", name))
		return nil
	}
	ok := len(t.Shape) == len(shape)
	for i := 0; ok && i < len(shape); i++ {
		ok = t.Shape[i] == shape[i]
	}
	if !ok {
		b.errs = append(b.errs, fmt.Errorf("llada2: tensor %s (%s) has shape %v, want %v", name, t.File, t.Shape, shape))
		return nil
	}
	return t
}

func (b *binder) format(t *weights.Tensor) (kernels.Format, bool) {
	f, ok := t.DType.Format()
	if !ok {
		b.errs = append(b.errs, fmt.Errorf("llada2: tensor %s (%s) has unsupported dtype %v", t.Name, t.File, t.DType))
	}
	return f, ok
}

// matrix binds a [rows, cols] tensor as a zero-copy matrix.
func (b *binder) matrix(name string, rows, cols int) kernels.Matrix {
	t := b.get(name, rows, cols)
	if t == nil {
		return kernels.Matrix{}
	}
	f, ok := b.format(t)
	if !ok {
		return kernels.Matrix{}
	}
	m, err := kernels.NewMatrix(f, rows, cols, t.Data)
	if err != nil {
		b.errs = append(b.errs, fmt.Errorf("llada2: tensor %s (%s): %w", name, t.File, err))
	}
	return m
}

// router binds the router matrix, widening it to f32 unless its format already multiplies
// exactly against float32 activations.
func (b *binder) router(name string, rows, cols int) kernels.Matrix {
	m := b.matrix(name, rows, cols)
	switch m.Format {
	case kernels.F32, kernels.BF16, kernels.F16:
		return m
	}
	if m.Data == nil {
		return m
	}
	w := make([]float32, rows*cols)
	rb, _ := m.Format.RowBytes(cols)
	for r := 0; r < rows; r++ {
		if err := kernels.Dequantize(m.Format, w[r*cols:(r+1)*cols], m.Data[r*rb:(r+1)*rb]); err != nil {
			b.errs = append(b.errs, fmt.Errorf("llada2: tensor %s: %w", name, err))
			return m
		}
	}
	return kernels.F32Matrix(w, rows, cols)
}

// vector binds a 1-D tensor of n elements, widened to float32.
func (b *binder) vector(name string, n int) []float32 {
	t := b.get(name, n)
	if t == nil {
		return nil
	}
	f, ok := b.format(t)
	if !ok {
		return nil
	}
	v := make([]float32, n)
	if err := kernels.Dequantize(f, v, t.Data); err != nil {
		b.errs = append(b.errs, fmt.Errorf("llada2: tensor %s (%s): %w", name, t.File, err))
		return nil
	}
	return v
}

// mlp binds prefix{gate,up,down}_proj.weight of a SwiGLU block of the given width.
func (b *binder) mlp(prefix string, width, hidden int) *MLP {
	return &MLP{
		Gate: b.matrix(prefix+"gate_proj.weight", width, hidden),
		Up:   b.matrix(prefix+"up_proj.weight", width, hidden),
		Down: b.matrix(prefix+"down_proj.weight", hidden, width),
	}
}

// embed writes the embedding of token into dst (len hidden).
func (m *Model) embed(dst []float32, token int32) error {
	rb, err := m.Embed.Format.RowBytes(m.cfg.HiddenSize)
	if err != nil {
		return err
	}
	t := int(token)
	return kernels.Dequantize(m.Embed.Format, dst, m.Embed.Data[t*rb:(t+1)*rb])
}
