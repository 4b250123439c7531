package arch

import (
	"math"
	"path/filepath"
	"slices"
	"sort"
	"testing"
	"time"
)

// routeRef picks the experts of one token from its router logits the way
// llada2-spec.md §2.4 states it, written apart from State.route: sigmoid scores plus the
// expert bias, groups scored by the sum of their two best, the best topk_group groups
// kept, the top-k experts of those.
func routeRef(cfg Config, bias, logits []float32) []int {
	E, G := cfg.NumExperts, max(1, cfg.NumGroups)
	per := E / G
	sel := make([]float32, E)
	for e, z := range logits {
		sel[e] = float32(1/(1+math.Exp(-float64(z)))) + bias[e]
	}
	type scored struct {
		i int
		v float32
	}
	best := func(xs []scored, k int) []scored {
		sort.SliceStable(xs, func(a, b int) bool { return xs[a].v > xs[b].v })
		return xs[:k]
	}
	groups := make([]scored, G)
	for g := range groups {
		top := best(func() []scored {
			xs := make([]scored, per)
			for j := range xs {
				xs[j] = scored{j, sel[g*per+j]}
			}
			return xs
		}(), min(2, per))
		groups[g] = scored{g, 0}
		for _, x := range top {
			groups[g].v += x.v
		}
	}
	tg := cfg.TopKGroups
	if tg <= 0 || tg > G {
		tg = G
	}
	var cands []scored
	for _, g := range best(groups, tg) {
		for e := g.i * per; e < (g.i+1)*per; e++ {
			cands = append(cands, scored{e, sel[e]})
		}
	}
	var out []int
	for _, x := range best(cands, cfg.NumExpertsPerTok) {
		out = append(out, x.i)
	}
	return out
}

// TestWorkExpertsMatchRouting: the experts a Work records for each MoE layer — which
// ran, and on how many rows — are those that the layer's router outputs select when
// routed independently (routeRef), for random tokens and for a block of mask tokens.
// The router outputs of layer li are read from a model cut after layer li, whose last
// layer is then li and leaves them in the state's router scratch.
func TestWorkExpertsMatchRouting(t *testing.T) {
	m := openModel(t, filepath.Join(microDir, "hf"))
	cfg := m.Config()
	E := cfg.NumExperts
	const mask = 1020 // <|mask|> of the fixture
	prefix := loadGolden(t, "logits_long_block32").Tokens[:32]
	random := loadGolden(t, "logits_long_block32").Tokens[32:64]
	masks := slices.Repeat([]int32{mask}, 32)
	rows := span(0, 32)
	out := make([]float32, 32*cfg.VocabSize)
	for name, block := range map[string][]int32{"random": random, "mask": masks} {
		t.Run(name, func(t *testing.T) {
			s, err := m.NewState(StateOptions{Capacity: 64, MaxRun: 32})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Forward(prefix, 32, true, nil, nil); err != nil {
				t.Fatal(err)
			}
			var w Work
			s.SetWork(&w)
			if err := s.Forward(block, 32, false, rows, out); err != nil {
				t.Fatal(err)
			}
			moeLayers, total := 0, 0
			for li := cfg.FirstKDenseReplace; li < cfg.NumLayers; li++ {
				// The router outputs of layer li: a model of layers 0…li.
				cut := *m
				cut.Layers = m.Layers[:li+1]
				cut.cfg.NumLayers = li + 1
				cs, err := cut.NewState(StateOptions{Capacity: 64, MaxRun: 32})
				if err != nil {
					t.Fatal(err)
				}
				if err := cs.Forward(prefix, 32, true, nil, nil); err != nil {
					t.Fatal(err)
				}
				if err := cs.Forward(block, 32, false, rows, out); err != nil {
					t.Fatal(err)
				}
				want := map[int]int{} // expert → rows routed to it
				for tok := range 32 {
					for _, e := range routeRef(cfg, m.Layers[li].MoE.ExpertBias, cs.router[tok*E:(tok+1)*E]) {
						want[e]++
					}
				}
				got := map[int]int{}
				for _, op := range w.Ops {
					if op.Kind == OpExpert && op.Layer == li {
						if _, dup := got[op.Expert]; dup {
							t.Errorf("layer %d: expert %d recorded twice", li, op.Expert)
						}
						got[op.Expert] = op.Rows
					}
				}
				if len(got) != len(want) {
					t.Errorf("layer %d: %d experts ran, routing selects %d", li, len(got), len(want))
				}
				for e, n := range want {
					if got[e] != n {
						t.Errorf("layer %d expert %d: %d rows recorded, routing gives %d", li, e, got[e], n)
					}
				}
				t.Logf("%s block, layer %d: %d distinct experts", name, li, len(want))
				moeLayers++
				total += len(want)
			}
			mean, least, most := w.Experts()
			if want := float64(total) / float64(moeLayers); mean != want || least > most || float64(least) > mean || float64(most) < mean {
				t.Errorf("Experts() = %v, %d, %d; want mean %v", mean, least, most, want)
			}
		})
	}
}

// TestWorkTotals checks the recorded bytes and FLOPs of forwards of the micro model
// (bf16 matrices, f32 norms and expert bias) against figures worked out by hand from its
// shapes: hidden 64, 4 query and 2 KV heads of 16, dense width 128, 16 experts of width
// 32 (4 per token, 1 shared), vocab 1024, layer 0 dense and layers 1, 2 MoE.
func TestWorkTotals(t *testing.T) {
	m := openModel(t, filepath.Join(microDir, "hf"))
	V := m.Config().VocabSize
	prefix := loadGolden(t, "logits_long_block32").Tokens[:32]
	block := slices.Repeat([]int32{7, 9}, 16) // two distinct ids
	s, err := m.NewState(StateOptions{Capacity: 64, MaxRun: 32})
	if err != nil {
		t.Fatal(err)
	}
	var w Work
	s.SetWork(&w)

	// Committing the 32-token prefix at position 0, no logits: the last layer only
	// computes its keys and values.
	if err := s.Forward(prefix, 32, true, nil, nil); err != nil {
		t.Fatal(err)
	}
	distinct := len(slices.Compact(slices.Sorted(slices.Values(prefix))))
	const (
		embedRow = 64 * 2                   // bf16
		norm     = 64 * 4                   // input or post-attention norm, f32
		qkNorm   = 16 * 4                   // query or key norm
		qkvB     = (4 + 2*2) * 16 * 64 * 2  // 16384
		qkvF     = 2 * 32 * 128 * 64        // per 32 tokens: 524288
		outB     = 64 * 64 * 2              // 8192
		outF     = 2 * 32 * 64 * 64         // 262144
		denseB   = 3 * 128 * 64 * 2         // 49152
		denseF   = 2 * 32 * 3 * 128 * 64    // 1572864
		routerB  = 16*64*2 + 16*4           // bf16 router + f32 bias: 2112
		routerF  = 2 * 32 * 16 * 64         // 65536
		expertB  = 3 * 32 * 64 * 2          // one expert or the shared one: 12288
		expertsF = 2 * 32 * 4 * 3 * 32 * 64 // 32 tokens × 4 experts each: 1572864
		sharedF  = 2 * 32 * 3 * 32 * 64     // 393216
		headB    = 1024 * 64 * 2            // 131072
		headF    = 2 * 32 * 1024 * 64       // 32 rows: 4194304
	)
	// attention of 32 tokens against J keys (J ≤ 64, so padded to 64): K and V of 2
	// heads of 16 f32 read, 2·(4·32)·16·(J+64) FLOPs.
	attB := func(J int64) int64 { return 2 * 2 * J * 16 * 4 }
	attF := func(J int64) int64 { return 2 * (4 * 32) * 16 * (J + 64) }
	check := func(what string, experts float64, wantW, wantC, wantF int64) {
		t.Helper()
		gotW, gotC, gotF := w.Totals()
		if gotW != wantW || gotC != wantC || gotF != wantF {
			t.Errorf("%s: weights %d B, cache %d B, %d FLOPs; want %d, %d, %d", what, gotW, gotC, gotF, wantW, wantC, wantF)
		}
		mean, _, _ := w.Experts()
		if mean != experts {
			t.Errorf("%s: %v experts per MoE layer, want %v", what, mean, experts)
		}
	}
	// Layers 0 and 1 whole, layer 2 its input norm, key norm and QKV.
	experts1 := float64(countExperts(&w, 1))
	wantW := int64(distinct*embedRow) +
		2*(2*norm+2*qkNorm+qkvB+outB) + denseB + routerB + expertB + int64(experts1)*expertB +
		norm + qkNorm + qkvB
	wantC := 2 * attB(32)
	wantF := int64(3*qkvF+2*outF+denseF+routerF+sharedF+expertsF) + 2*attF(32)
	check("prefix commit", experts1, wantW, wantC, wantF)

	// The block at 32…63 with all 32 rows' logits: every layer whole, final norm, head.
	if err := s.Forward(block, 32, false, span(0, 32), make([]float32, 32*V)); err != nil {
		t.Fatal(err)
	}
	e1, e2 := countExperts(&w, 1), countExperts(&w, 2)
	wantW = 2*embedRow + 3*(2*norm+2*qkNorm+qkvB+outB) + denseB + 2*(routerB+expertB) + int64(e1+e2)*expertB + norm + headB
	wantC = 3 * attB(64)
	wantF = int64(3*qkvF+3*outF+denseF+2*(routerF+sharedF+expertsF)+headF) + 3*attF(64)
	check("block, all rows", float64(e1+e2)/2, wantW, wantC, wantF)

	// The same with the last row's logits only: the head on one row.
	if err := s.Forward(block, 32, false, []int{31}, make([]float32, V)); err != nil {
		t.Fatal(err)
	}
	check("block, 1 row", float64(e1+e2)/2, wantW, wantC, wantF-headF+headF/32)

	// SetWork(nil) stops recording: the Work keeps the last forward's ops.
	s.SetWork(nil)
	n := len(w.Ops)
	if err := s.Forward(block, 32, false, nil, nil); err != nil || len(w.Ops) != n {
		t.Errorf("after SetWork(nil): err %v, %d ops, want %d", err, len(w.Ops), n)
	}
}

// countExperts is the number of OpExpert ops of layer li.
func countExperts(w *Work, li int) int {
	n := 0
	for _, op := range w.Ops {
		if op.Kind == OpExpert && op.Layer == li {
			n++
		}
	}
	return n
}

// TestWorkInt8: the matmuls on quantized weights record their FLOPs as 8-bit integer
// products (their kernels multiply quantized activations), every other op as float:
// the q8_0 micro file's projections, MLPs and head are Int8, its f32 router, attention
// and norms are not, and nothing of the bf16 one is.
func TestWorkInt8(t *testing.T) {
	int8Kinds := map[OpKind]bool{OpQKV: true, OpOut: true, OpDense: true, OpShared: true, OpExpert: true, OpHead: true}
	for _, c := range []struct {
		path  string
		quant bool
	}{{filepath.Join(microDir, "gguf", "micro-q8_0.gguf"), true}, {filepath.Join(microDir, "hf"), false}} {
		m := openModel(t, c.path)
		s, err := m.NewState(StateOptions{Capacity: 64, MaxRun: 32})
		if err != nil {
			t.Fatal(err)
		}
		var w Work
		s.SetWork(&w)
		rows := []int{0, 31}
		logits := make([]float32, len(rows)*m.Config().VocabSize)
		if err := s.Forward(slices.Repeat([]int32{7, 9}, 16), 32, false, rows, logits); err != nil {
			t.Fatal(err)
		}
		seen := map[OpKind]bool{}
		for _, op := range w.Ops {
			seen[op.Kind] = true
			if want := c.quant && int8Kinds[op.Kind]; op.Int8 != want {
				t.Errorf("%s: %v op (layer %d) Int8 = %v, want %v", filepath.Base(c.path), op.Kind, op.Layer, op.Int8, want)
			}
		}
		for k := range int8Kinds {
			if k != OpDense && !seen[k] {
				t.Errorf("%s: no %v op recorded", filepath.Base(c.path), k)
			}
		}
	}
}

// TestWorkTime: a recorded forward times every kind of op it ran, and no other, and
// the spans add up to no more than the forward's wall time; a new forward starts over.
func TestWorkTime(t *testing.T) {
	m := openModel(t, filepath.Join(microDir, "hf"))
	V := m.Config().VocabSize
	tokens := loadGolden(t, "logits_long_block32").Tokens[:64]
	s, err := m.NewState(StateOptions{Capacity: 64, MaxRun: 32})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Forward(tokens[:32], 32, true, nil, nil); err != nil {
		t.Fatal(err)
	}
	var w Work
	s.SetWork(&w)
	out := make([]float32, V)
	for range 2 {
		start := time.Now()
		if err := s.Forward(tokens[32:], 32, false, []int{31}, out); err != nil {
			t.Fatal(err)
		}
		wall := time.Since(start)
		var sum time.Duration
		for k := range numOpKinds {
			ran := slices.ContainsFunc(w.Ops, func(op Op) bool { return op.Kind == k })
			if got := w.Time[k]; ran != (got > 0) {
				t.Errorf("%v: ran %v, timed %v", k, ran, got)
			}
			sum += w.Time[k]
		}
		if sum > wall {
			t.Errorf("ops timed %v in all, more than the forward's %v", sum, wall)
		}
	}
}
