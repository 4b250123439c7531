package arch

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/x448/float16"

	"github.com/dllm-go/dllm/dllm/internal/weights"
	"github.com/dllm-go/dllm/kernels"
)

// withBadValue returns a copy of mat whose row r starts with v (NaN or ±Inf): its first
// element for float32, the scale of its first block (an f16 at the block's start) for
// the quantized formats. The copy is a new matrix, with no repacked layout of mat's.
func withBadValue(t *testing.T, mat kernels.Matrix, r int, v float32) kernels.Matrix {
	t.Helper()
	data := slices.Clone(mat.Data)
	rb, err := mat.Format.RowBytes(mat.Cols)
	if err != nil {
		t.Fatal(err)
	}
	switch mat.Format {
	case kernels.F32:
		binary.LittleEndian.PutUint32(data[r*rb:], math.Float32bits(v))
	case kernels.Q8_0, kernels.Q4_0, kernels.Q4_K:
		binary.LittleEndian.PutUint16(data[r*rb:], float16.Fromfloat32(v).Bits())
	default:
		t.Fatalf("matrix format %v: no bad value written for it", mat.Format)
	}
	bad, err := kernels.NewMatrix(mat.Format, mat.Rows, mat.Cols, data)
	if err != nil {
		t.Fatal(err)
	}
	return bad
}

// inQ4K converts the float32 matrices of m whose rows are whole Q4_K blocks (all but
// the router, widened at bind, and the rows of 128 of the experts' down projections)
// to Q4_K, so that their activations quantize to Q8_K blocks, which neither fixture's
// format takes.
func inQ4K(t *testing.T, m *Model) {
	conv := func(p *kernels.Matrix) {
		if p.Rows == 0 || p.Format != kernels.F32 || p.Cols%256 != 0 {
			return
		}
		rb, err := kernels.Q4_K.RowBytes(p.Cols)
		if err != nil {
			t.Fatal(err)
		}
		v, data := make([]float32, p.Rows*p.Cols), make([]byte, p.Rows*rb)
		if err := kernels.Dequantize(kernels.F32, v, p.Data); err != nil {
			t.Fatal(err)
		}
		if err := kernels.Quantize(kernels.Q4_K, data, v); err != nil {
			t.Fatal(err)
		}
		q, err := kernels.NewMatrix(kernels.Q4_K, p.Rows, p.Cols, data)
		if err != nil {
			t.Fatal(err)
		}
		*p = q
	}
	mlp := func(w *MLP) { conv(&w.Gate); conv(&w.Up); conv(&w.Down) }
	conv(&m.Embed)
	conv(&m.LMHead)
	for i := range m.Layers {
		l := &m.Layers[i]
		conv(&l.QKV)
		conv(&l.Out)
		if l.Dense != nil {
			mlp(l.Dense)
		}
		if l.MoE != nil {
			mlp(&l.MoE.Shared)
			for e := range l.MoE.Experts {
				mlp(&l.MoE.Experts[e])
			}
		}
	}
}

// withBadNorm returns a copy of w with w[0] = v.
func withBadNorm(w []float32, v float32) []float32 {
	w = slices.Clone(w)
	w[0] = v
	return w
}

// TestNonFiniteLocated puts one NaN or infinity into every kind of weight of every layer
// in turn: the forward fails with a NonFiniteError naming that weight (or, for the
// query/key norms, the attention step), its layer and the first affected position,
// and leaves the state unchanged; the intact model still runs on the same state. It
// does so on the f32 fixture, on the q8_0 one (activations quantized to Q8_0 blocks)
// and on a synthetic model in Q4_K (Q8_K blocks), where the value must survive
// quantization: a NaN that a quantizer dropped would give finite, wrong logits.
func TestNonFiniteLocated(t *testing.T) {
	tiny := tinyGGUF(t, weights.F32, 3)
	for _, c := range []struct {
		name, path string
		q4k        bool
	}{
		{"f32", filepath.Join(microDir, "gguf", "micro-f32.gguf"), false},
		{"q8_0", filepath.Join(microDir, "gguf", "micro-q8_0.gguf"), false},
		{"q4_k", tiny, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			base := openModel(t, c.path)
			if c.q4k {
				inQ4K(t, base)
			}
			checkNonFiniteLocated(t, base)
		})
	}
}

func checkNonFiniteLocated(t *testing.T, base *Model) {
	cfg := base.Config()
	tokens := []int32{5, 17, 99, 250, 3, 8, 41, 700}
	const block = 4
	cases := []struct {
		name   string
		layer  int // -1: outside the layers
		tensor string
		edit   func(m *Model, l *Layer, v float32)
	}{
		{"embedding", -1, "model.word_embeddings.weight", func(m *Model, _ *Layer, v float32) { m.Embed = withBadValue(t, m.Embed, int(tokens[6]), v) }},
		{"final norm", -1, "model.norm.weight", func(m *Model, _ *Layer, v float32) { m.Norm = withBadNorm(m.Norm, v) }},
		{"lm head", -1, "lm_head.weight", func(m *Model, _ *Layer, v float32) { m.LMHead = withBadValue(t, m.LMHead, 3, v) }},
	}
	for li := range cfg.NumLayers {
		add := func(name, tensor string, edit func(l *Layer, v float32)) {
			cases = append(cases, struct {
				name   string
				layer  int
				tensor string
				edit   func(m *Model, l *Layer, v float32)
			}{fmt.Sprintf("layer %d %s", li, name), li, tensor, func(_ *Model, l *Layer, v float32) { edit(l, v) }})
		}
		add("input norm", "input_layernorm.weight", func(l *Layer, v float32) { l.InputNorm = withBadNorm(l.InputNorm, v) })
		add("qkv", "attention.query_key_value.weight", func(l *Layer, v float32) { l.QKV = withBadValue(t, l.QKV, 0, v) })
		add("q norm", "attention (query_layernorm", func(l *Layer, v float32) { l.QNorm = withBadNorm(l.QNorm, v) })
		add("k norm", "attention (query_layernorm", func(l *Layer, v float32) { l.KNorm = withBadNorm(l.KNorm, v) })
		add("dense", "attention.dense.weight", func(l *Layer, v float32) { l.Out = withBadValue(t, l.Out, 1, v) })
		add("post norm", "post_attention_layernorm.weight", func(l *Layer, v float32) { l.PostNorm = withBadNorm(l.PostNorm, v) })
		if li < cfg.FirstKDenseReplace {
			add("mlp gate", "mlp.gate_proj.weight", func(l *Layer, v float32) {
				l.Dense = &MLP{withBadValue(t, l.Dense.Gate, 0, v), l.Dense.Up, l.Dense.Down}
			})
			add("mlp up", "mlp.up_proj.weight", func(l *Layer, v float32) {
				l.Dense = &MLP{l.Dense.Gate, withBadValue(t, l.Dense.Up, 0, v), l.Dense.Down}
			})
			add("mlp down", "mlp.down_proj.weight", func(l *Layer, v float32) {
				l.Dense = &MLP{l.Dense.Gate, l.Dense.Up, withBadValue(t, l.Dense.Down, 0, v)}
			})
			continue
		}
		moe := func(edit func(e *MoE, v float32)) func(l *Layer, v float32) {
			return func(l *Layer, v float32) {
				e := *l.MoE
				e.Experts = slices.Clone(e.Experts)
				edit(&e, v)
				l.MoE = &e
			}
		}
		add("router", "mlp.gate.weight", moe(func(e *MoE, v float32) { e.Router = withBadValue(t, e.Router, 0, v) }))
		add("shared gate", "mlp.shared_experts.gate_proj.weight", moe(func(e *MoE, v float32) { e.Shared.Gate = withBadValue(t, e.Shared.Gate, 0, v) }))
		add("shared down", "mlp.shared_experts.down_proj.weight", moe(func(e *MoE, v float32) { e.Shared.Down = withBadValue(t, e.Shared.Down, 0, v) }))
		add("routed experts", "mlp.experts", moe(func(e *MoE, v float32) {
			for i := range e.Experts { // every expert, so whichever are routed to
				e.Experts[i].Down = withBadValue(t, e.Experts[i].Down, 0, v)
			}
		}))
	}
	for _, c := range cases {
		for _, v := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
			t.Run(fmt.Sprintf("%s %v", c.name, v), func(t *testing.T) {
				m := *base
				m.Layers = slices.Clone(base.Layers)
				var l *Layer
				if c.layer >= 0 {
					l = &m.Layers[c.layer]
				}
				c.edit(&m, l, v)
				s, err := m.NewState(StateOptions{Capacity: 64})
				if err != nil {
					t.Fatal(err)
				}
				// A commit forward reads no logits; it stops only on a bad router score, which
				// a bad value before any MoE layer's router also makes.
				committed, rows, logits := block, span(0, block), make([]float32, block*cfg.VocabSize)
				err = s.Forward(tokens[:block], block, true, nil, nil)
				if err == nil {
					err = s.Forward(tokens[block:], block, false, rows, logits)
				} else {
					committed = 0
				}
				var nf *NonFiniteError
				if !errors.As(err, &nf) || !errors.Is(err, ErrNonFinite) {
					t.Fatalf("err %v, want a NonFiniteError", err)
				}
				if nf.Layer != c.layer || !strings.Contains(nf.Tensor, c.tensor) {
					t.Fatalf("located at %q (layer %d), want %q in layer %d", nf.Tensor, nf.Layer, c.tensor, c.layer)
				}
				if nf.Position < committed || nf.Position >= committed+block || math.Abs(float64(nf.Value)) <= math.MaxFloat32 && !math.IsNaN(float64(nf.Value)) {
					t.Fatalf("position %d, value %v", nf.Position, nf.Value)
				}
				if s.Len() != committed || s.probe != nil {
					t.Fatalf("state changed by a failed forward: %d positions", s.Len())
				}
			})
		}
	}
}

func TestFirstNonFinite(t *testing.T) {
	for _, n := range []int{0, 1, 255, 256, 257, 1000} {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(i) - 500
		}
		if got := firstNonFinite(v); got != -1 {
			t.Fatalf("n %d: finite slice reported at %d", n, got)
		}
		for _, at := range []int{0, n / 2, n - 1} {
			if n == 0 {
				continue
			}
			for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
				w := slices.Clone(v)
				w[at] = bad
				if n > 3 {
					w[n-1-at/2] = bad // a later one must not win
				}
				if got := firstNonFinite(w); got != min(at, n-1-at/2) && !(n <= 3 && got == at) {
					t.Fatalf("n %d, %v at %d: found at %d", n, bad, at, got)
				}
			}
		}
	}
	// Extremes that are finite, and overflow of x·0 cannot happen (it is 0).
	if got := firstNonFinite([]float32{math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32}); got != -1 {
		t.Fatalf("extremes reported at %d", got)
	}
}
