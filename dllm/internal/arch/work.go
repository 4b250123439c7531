package arch

import (
	"slices"
	"time"

	"github.com/dllm-go/dllm/kernels"
)

// OpKind names what an Op of a Work record computed.
type OpKind uint8

const (
	OpEmbed  OpKind = iota // embedding rows looked up (one per distinct token id)
	OpNorm                 // an RMSNorm weight vector (input, post-attention, query/key, final)
	OpQKV                  // the fused query/key/value projection
	OpAttend               // attention scores and values against the KV cache
	OpOut                  // the attention output projection
	OpDense                // a dense layer's SwiGLU MLP (gate, up and down)
	OpRouter               // the MoE router matmul and its expert bias
	OpShared               // the shared expert (gate, up and down)
	OpExpert               // one routed expert (gate, up and down) on the rows routed to it
	OpHead                 // the LM head on the rows whose logits were asked for
	numOpKinds
)

var opNames = [numOpKinds]string{"embed", "norm", "qkv", "attend", "out", "dense", "router", "shared", "expert", "head"}

func (k OpKind) String() string {
	if k < numOpKinds {
		return opNames[k]
	}
	return "op?"
}

// Op is one step of a forward pass as far as memory traffic and arithmetic go.
//
// Bytes is what the step reads of the weights, at the size the kernels read them: a
// matrix's bytes in its file's dtype (Q8_0 blocks, bf16 …), except the router, which is
// bound widened to f32 when its file type is quantized (see MoE.Router), and norm
// vectors and the expert bias, which are widened to f32 at load. An embedding lookup
// reads one row per distinct token id. For OpAttend, Bytes are the keys and values read
// from the KV cache (f32, or f16 with StateOptions.KVF16), not weights.
//
// FLOPs counts 2 per multiply-add of the matrix products: 2·rows·in·out for a matmul
// (an MLP op sums its three), rows being the rows actually multiplied — for a routed
// expert, the rows routed to it (the zero rows it is padded with for speed are not
// counted). For OpAttend: 2·rows·D·J for the scores and 2·rows·D·Jp for the values,
// where rows = query heads × tokens, J the keys visible to the run (cache plus run) and
// Jp = J rounded up to 64 (the value product runs over the padded keys). Element-wise
// work (norms, RoPE, softmax, SiLU, the weighted sums of expert outputs) is not
// counted: it is a small fraction of the matmuls on every LLaDA2 shape.
type Op struct {
	Kind   OpKind
	Layer  int // -1 for the embedding, the final norm and the LM head
	Expert int // the routed expert of an OpExpert; -1 otherwise
	Rows   int // rows multiplied (tokens; query rows × heads for OpAttend)
	Bytes  int64
	FLOPs  int64
	Int8   bool // the FLOPs are 8-bit integer products: quantized weights, quantized activations
}

// Work records, op by op, what the last Forward of a State computed (see
// State.SetWork). A forward longer than MaxRun runs in pieces, each reading the weights
// again: each piece's ops are recorded. Recording appends to Ops, reusing its capacity,
// so steady-state forwards with a Work set allocate nothing either.
type Work struct {
	Ops []Op
	// Time is the wall time the forward spent on each kind of op, each span running from
	// the end of the span before (so the checks and copies between ops count with the
	// op after them). For OpAttend: everything between the QKV projection and the output
	// projection (query/key norms, RoPE, cache writes, scores, softmax, values); for
	// OpRouter: the router matmul, routing and grouping tokens by expert; for OpExpert:
	// all of a layer's routed experts, run in parallel, and combining their outputs.
	Time  [numOpKinds]time.Duration
	ids   []int32   // scratch: the token ids of a piece, sorted to count distinct ones
	clock time.Time // end of the last span timed
}

// Reset empties w, keeping its capacity, and starts its clock.
func (w *Work) Reset() {
	w.Ops = w.Ops[:0]
	w.Time = [numOpKinds]time.Duration{}
	w.clock = time.Now()
}

// lap adds the time since the last span ended to kind's, while s records (every
// recording forward starts with Reset, which starts the clock).
func (s *State) lap(kind OpKind) {
	if s.work == nil {
		return
	}
	now := time.Now()
	s.work.Time[kind] += now.Sub(s.work.clock)
	s.work.clock = now
}

// Totals sums the ops: weight bytes, KV-cache bytes (OpAttend) and FLOPs.
func (w *Work) Totals() (weightBytes, cacheBytes, flops int64) {
	for _, op := range w.Ops {
		if op.Kind == OpAttend {
			cacheBytes += op.Bytes
		} else {
			weightBytes += op.Bytes
		}
		flops += op.FLOPs
	}
	return
}

// Experts returns the number of routed experts run per MoE layer run — one router op is
// one MoE layer run, on one piece of the forward: the mean, the fewest and the most;
// zeros without MoE layers. Within a run every expert runs at most once, on all the
// rows routed to it, so these are the distinct experts whose weights were read.
func (w *Work) Experts() (mean float64, least, most int) {
	runs, total, cur := 0, 0, 0
	flush := func() {
		if runs > 0 {
			total += cur
			if runs == 1 || cur < least {
				least = cur
			}
			most = max(most, cur)
		}
	}
	for _, op := range w.Ops {
		switch op.Kind {
		case OpRouter:
			flush()
			runs++
			cur = 0
		case OpExpert:
			cur++
		}
	}
	flush()
	if runs == 0 {
		return 0, 0, 0
	}
	return float64(total) / float64(runs), least, most
}

// SetWork makes every later Forward of s record its ops into w, replacing what w held
// (nil stops recording). Recording costs a few appends per matmul, but a timed run had
// better record nothing: forwards are deterministic, so recorded runs describe the
// others' work.
func (s *State) SetWork(w *Work) { s.work = w }

// matOp records a matmul of rows rows against m.
func (s *State) matOp(kind OpKind, layer, rows int, m kernels.Matrix) {
	if s.work == nil {
		return
	}
	s.work.Ops = append(s.work.Ops, Op{Kind: kind, Layer: layer, Expert: -1, Rows: rows,
		Bytes: int64(len(m.Data)), FLOPs: 2 * int64(rows) * int64(m.Rows) * int64(m.Cols), Int8: quantized(m)})
}

// mlpOp records a SwiGLU block (its three matmuls) run on rows rows.
func (s *State) mlpOp(kind OpKind, layer, expert, rows int, w *MLP) {
	if s.work == nil {
		return
	}
	op := Op{Kind: kind, Layer: layer, Expert: expert, Rows: rows, Int8: quantized(w.Gate)}
	for _, m := range []*kernels.Matrix{&w.Gate, &w.Up, &w.Down} {
		op.Bytes += int64(len(m.Data))
		op.FLOPs += 2 * int64(rows) * int64(m.Rows) * int64(m.Cols)
	}
	s.work.Ops = append(s.work.Ops, op)
}

// quantized reports whether m's kernels multiply 8-bit integers (a block format).
func quantized(m kernels.Matrix) bool { return m.Format.BlockElems() > 1 }

// normOp records the read of a norm weight vector applied to rows rows.
func (s *State) normOp(layer, rows int, v []float32) {
	if s.work == nil || v == nil {
		return
	}
	s.work.Ops = append(s.work.Ops, Op{Kind: OpNorm, Layer: layer, Expert: -1, Rows: rows, Bytes: 4 * int64(len(v))})
}

// embedOp records the embedding lookups of tokens: one row per distinct id.
func (s *State) embedOp(tokens []int32) {
	w := s.work
	if w == nil {
		return
	}
	w.ids = append(w.ids[:0], tokens...)
	slices.Sort(w.ids)
	distinct := len(slices.Compact(w.ids))
	rb := int64(len(s.m.Embed.Data) / max(1, s.m.Embed.Rows))
	w.Ops = append(w.Ops, Op{Kind: OpEmbed, Layer: -1, Expert: -1, Rows: len(tokens), Bytes: int64(distinct) * rb})
}

// attendOp records the attention products of layer li: rows query rows (heads × tokens)
// against J keys, reading the keys and values of every KV head from the cache.
func (s *State) attendOp(li, rows, J int) {
	if s.work == nil {
		return
	}
	cfg := &s.m.cfg
	D, Nkv := int64(cfg.HeadDim), int64(cfg.NumKVHeads)
	elem := int64(4)
	if s.kv.f16 {
		elem = 2
	}
	s.work.Ops = append(s.work.Ops, Op{Kind: OpAttend, Layer: li, Expert: -1, Rows: rows,
		Bytes: 2 * Nkv * int64(J) * D * elem,
		FLOPs: 2 * int64(rows) * D * int64(J+padKeys(J))})
}
