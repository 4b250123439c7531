package arch

import (
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"
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
	// Q, K and V are the separate projections of the families that have them (QKV
	// unset): [Nq·head_dim, hidden], [Nkv·head_dim, hidden] twice.
	Q, K, V kernels.Matrix
	// QBias, KBias, VBias are the projections' biases (Config.QKVBias), else nil.
	QBias, KBias, VBias []float32
	QNorm               []float32      // [head_dim], shared by all query heads
	KNorm               []float32      // [head_dim], shared by all key heads
	Out                 kernels.Matrix // [hidden, Nq·head_dim]
	PostNorm            []float32      // [hidden]
	Dense               *MLP           // layers < first_k_dense_replace
	MoE                 *MoE           // the other layers
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

// LoadOptions controls Load.
type LoadOptions struct {
	// NoRepack keeps every weight matrix a view of the mapped file (kernels.Matrix.Plain).
	// By default Load copies the matrices the kernels read faster in a layout of their
	// own into it (kernels.Matrix.Repack), on every CPU, so that no forward pays for it.
	NoRepack bool
}

// Load binds the model of an opened checkpoint: its configuration, its tensors under
// canonical names, then Bind. Every error names the checkpoint, and a fault on a mapped
// file that shrank meanwhile is an error too.
func Load(ck *weights.Checkpoint, o LoadOptions) (*Model, error) {
	cfg, err := LoadConfig(ck)
	if err != nil {
		return nil, err
	}
	tensors, err := CanonicalTensors(ck)
	if err != nil {
		return nil, err
	}
	var m *Model
	err = weights.CatchFaults(ck.Path, func() (err error) {
		m, err = bind(cfg, tensors, displayNames(cfg, ck), o)
		return err
	})
	if err == nil && !o.NoRepack {
		err = m.repack(ck.Path)
	}
	if err != nil && !errors.Is(err, weights.ErrChanged) {
		err = fmt.Errorf("%s: %w", ck.Path, err)
	}
	return m, err
}

// displayNames maps canonical tensor names to those of the checkpoint's file, for the
// messages of families whose names are not the canonical ones (nil: canonical).
func displayNames(cfg Config, ck *weights.Checkpoint) func(string) string {
	f := familyByName(cfg.Family)
	switch {
	case f == llada2Family:
		return nil
	case ck.Format == weights.FormatGGUF:
		return ggufDisplayName
	}
	return f.hf.original
}

// Bind builds a Model from tensors under their canonical Hugging Face names
// (llada2-spec.md §1.3; GGUF files are mapped to those names by CanonicalTensors).
// Every shape is checked against cfg; an error names the offending tensor. Norm weights
// and expert biases are widened to float32 once here; matrices stay views of the data.
func Bind(cfg Config, tensors []weights.Tensor) (*Model, error) {
	return bind(cfg, tensors, nil, LoadOptions{})
}

// bind is Bind naming tensors in messages by names (nil: canonical names).
func bind(cfg Config, tensors []weights.Tensor, names func(string) string, o LoadOptions) (*Model, error) {
	prefix := errPrefix(cfg.Family)
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%s: config: %w", prefix, err)
	}
	fam := familyByName(cfg.Family)
	if need := minTensors(&cfg); need > int64(len(tensors)) {
		// Checked before anything is sized by the counts: a hostile num_hidden_layers or
		// num_experts would otherwise allocate gigabytes of empty layers first.
		return nil, fmt.Errorf("%s: config of %d layers and %d experts needs at least %d tensors, the checkpoint has %d",
			prefix, cfg.NumLayers, cfg.NumExperts, need, len(tensors))
	}
	b := binder{byName: make(map[string]*weights.Tensor, len(tensors)), used: make(map[string]bool, len(tensors)), prefix: prefix, names: names, plain: o.NoRepack}
	for i := range tensors {
		t := &tensors[i]
		if _, dup := b.byName[t.Name]; dup {
			return nil, fmt.Errorf("%s: tensor %s appears twice", prefix, b.show(t.Name))
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
		if fam.fusedQKV {
			l.QKV = b.matrix(p+"attention.query_key_value.weight", (Nq+2*Nkv)*D, H)
		} else {
			l.Q = b.matrix(p+"attention.q_proj.weight", Nq*D, H)
			l.K = b.matrix(p+"attention.k_proj.weight", Nkv*D, H)
			l.V = b.matrix(p+"attention.v_proj.weight", Nkv*D, H)
		}
		if cfg.QKVBias {
			l.QBias = b.vector(p+"attention.q_proj.bias", Nq*D)
			l.KBias = b.vector(p+"attention.k_proj.bias", Nkv*D)
			l.VBias = b.vector(p+"attention.v_proj.bias", Nkv*D)
		}
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
	b.unused(tensors)
	if err := b.err(); err != nil {
		return nil, err
	}
	m.rope = newRopeTable(cfg.MaxPositionEmbeddings, cfg.RotaryDim, cfg.RopeTheta)
	m.pool = defaultPool()
	return m, nil
}

// minTensors is the fewest tensors a checkpoint of cfg holds: embedding, final norm,
// and per layer the attention and either a dense MLP or a router and the experts. The
// sizes are bounded by Validate, so the sum cannot overflow.
func minTensors(cfg *Config) int64 {
	dense := int64(cfg.FirstKDenseReplace)
	moe := int64(cfg.NumLayers) - dense
	perMoE := 1 + 3*int64(cfg.NumExperts)
	if cfg.NumSharedExperts > 0 {
		perMoE += 3
	}
	return 2 + int64(cfg.NumLayers)*4 + dense*3 + moe*perMoE
}

// maxListed caps the problems one error lists: a file whose header is garbage would
// otherwise produce a message with a line for each of thousands of tensors.
const maxListed = 10

// binder looks tensors up by name and collects every problem instead of stopping at the
// first, so a broken checkpoint reports all its bad tensors at once.
type binder struct {
	byName map[string]*weights.Tensor
	used   map[string]bool
	errs   []error
	prefix string              // the family's name, starting every message
	names  func(string) string // canonical name → the file's own, for messages; nil: canonical
	plain  bool                // matrices never repacked (LoadOptions.NoRepack)
}

// show is the name of a canonical tensor as its file spells it.
func (b *binder) show(name string) string {
	if b.names == nil {
		return name
	}
	return b.names(name)
}

// err joins the first maxListed problems and counts the rest.
func (b *binder) err() error {
	if len(b.errs) > maxListed {
		more := fmt.Errorf("%s: … and %d more problems", b.prefix, len(b.errs)-maxListed)
		return errors.Join(append(b.errs[:maxListed:maxListed], more)...)
	}
	return errors.Join(b.errs...)
}

// unused reports the tensors no part of the model bound: a num_hidden_layers or
// num_experts smaller than the checkpoint, or a flag that disagrees with the tensors,
// would otherwise silently drop weights.
func (b *binder) unused(tensors []weights.Tensor) {
	var names []string
	for _, t := range tensors {
		if !b.used[t.Name] {
			names = append(names, weights.Quote(b.show(t.Name)))
		}
	}
	if len(names) == 0 {
		return
	}
	sort.Strings(names)
	list := strings.Join(names[:min(len(names), maxListed)], ", ")
	if len(names) > maxListed {
		list += fmt.Sprintf(" and %d more", len(names)-maxListed)
	}
	b.errs = append(b.errs, fmt.Errorf("%s: %d tensors are not part of the model the config describes: %s", b.prefix, len(names), list))
}

func (b *binder) get(name string, shape ...int) *weights.Tensor {
	t := b.byName[name]
	if t == nil {
		b.errs = append(b.errs, fmt.Errorf("%s: missing tensor %s", b.prefix, b.show(name)))
		return nil
	}
	b.used[name] = true
	ok := len(t.Shape) == len(shape)
	for i := 0; ok && i < len(shape); i++ {
		ok = t.Shape[i] == shape[i]
	}
	if !ok {
		b.errs = append(b.errs, fmt.Errorf("%s: tensor %s (%s) has shape %v, want %v", b.prefix, b.show(name), t.File, t.Shape, shape))
		return nil
	}
	return t
}

func (b *binder) format(t *weights.Tensor) (kernels.Format, bool) {
	f, ok := t.DType.Format()
	if !ok {
		b.errs = append(b.errs, fmt.Errorf("%s: tensor %s (%s) has unsupported dtype %v", b.prefix, b.show(t.Name), t.File, t.DType))
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
		b.errs = append(b.errs, fmt.Errorf("%s: tensor %s (%s): %w", b.prefix, b.show(name), t.File, err))
	}
	if b.plain {
		m = m.Plain()
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
			b.errs = append(b.errs, fmt.Errorf("%s: tensor %s: %w", b.prefix, b.show(name), err))
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
		b.errs = append(b.errs, fmt.Errorf("%s: tensor %s (%s): %w", b.prefix, b.show(name), t.File, err))
		return nil
	}
	// Vectors are small enough to check whole; a NaN in one is not always carried to
	// the logits as matrices' are (an expert bias only orders the experts).
	if i := firstNonFinite(v); i >= 0 {
		b.errs = append(b.errs, fmt.Errorf("%s: tensor %s (%s): element %d is %v", b.prefix, b.show(name), t.File, i, v[i]))
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
