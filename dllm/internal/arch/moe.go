package arch

import (
	"cmp"
	"math"
	"slices"

	"github.com/dllm-go/dllm/kernels"
)

// mlp adds Down(silu(Gate·x) ⊙ Up·x) for the n rows of x (positions start…) to out;
// name is the block's weight prefix ("mlp" or "mlp.shared_experts"), kind and layer
// what a Work records it as.
func (s *State) mlp(w *MLP, kind OpKind, layer int, x, out []float32, n, start int, name string) {
	s.mlpOp(kind, layer, -1, n, w)
	width := w.Gate.Rows
	gate, up := s.gate[:n*width], s.up[:n*width]
	s.m.pool.MatMul2(gate, up, x, w.Gate, w.Up)
	if s.probe != nil { // names only when locating: no string work per forward
		s.watch(gate, width, start, nil, name+".gate_proj.weight")
		s.watch(up, width, start, nil, name+".up_proj.weight")
	}
	kernels.SiLUMul(gate, gate, up)
	s.m.pool.MatMulAdd(out, gate, w.Down)
	if s.probe != nil {
		s.watch(out, s.m.cfg.HiddenSize, start, nil, name+".down_proj.weight")
	}
	s.lap(kind)
}

// moe adds the mixture-of-experts output for the n rows of s.x to s.h
// (llada2-spec.md §2.4): f32 sigmoid router, expert bias for selection only,
// group-limited top-k, renormalized unbiased weights × routed_scaling_factor, plus the
// shared expert on the same input.
//
// Tokens are grouped by expert (a counting sort of the assignments), so every touched
// expert's weights are streamed once per forward (once per piece where its rows are
// split over threads, see below): its rows are gathered, multiplied as one small batch,
// and scattered back with their routing weights.
func (s *State) moe(w *MoE, li, n, start int) error {
	cfg := &s.m.cfg
	H, E, K := cfg.HiddenSize, cfg.NumExperts, cfg.NumExpertsPerTok
	x, h := s.x[:n*H], s.h[:n*H]

	logits := s.router[:n*E]
	s.m.pool.MatMul(logits, x, w.Router)
	if s.work != nil {
		s.matOp(OpRouter, li, n, w.Router)
		s.work.Ops[len(s.work.Ops)-1].Bytes += 4 * int64(len(w.ExpertBias))
	}
	// Routing on a NaN would quietly pick other experts, logits staying finite, so the
	// router's output is checked on every forward (n·experts values: cheap).
	if s.probe == nil && firstNonFinite(logits) >= 0 {
		return errNonFiniteRouting
	}
	s.watch(logits, E, start, nil, "mlp.gate.weight")

	s.moeW = w
	s.m.pool.Run(n, s.routeTask)
	clear(s.count)
	for _, e := range s.assignE[:n*K] {
		s.count[e]++
	}
	// Counting sort of the n·K assignments by expert.
	s.offs[0] = 0
	for e := 0; e < E; e++ {
		s.offs[e+1] = s.offs[e] + s.count[e]
	}
	copy(s.fill, s.offs[:E])
	for t := 0; t < n; t++ {
		for k := 0; k < K; k++ {
			e := s.assignE[t*K+k]
			i := s.fill[e]
			s.fill[e]++
			s.order[i] = int32(t)
			s.orderW[i] = s.assignW[t*K+k]
		}
	}

	s.lap(OpRouter)

	// Shared expert first: it runs on all rows and adds straight into the residual.
	if w.Shared.Gate.Rows > 0 {
		s.mlp(&w.Shared, OpShared, li, x, h, n, start, "mlp.shared_experts")
	}

	// The routed experts run in parallel across experts, each on one goroutine with the
	// single-threaded kernels (a few rows per expert make per-expert parallel matmuls
	// mostly synchronization). Their outputs land in per-expert rows of s.gather and are
	// combined afterwards in expert order, so the result is the same whatever the number
	// of threads. The active experts go in waves whose padded rows fit the scratch.
	na := 0
	for e := 0; e < E; e++ {
		if s.count[e] > 0 {
			s.active[na] = int32(e)
			na++
			s.mlpOp(OpExpert, li, e, int(s.count[e]), &w.Experts[e])
		}
	}
	s.moeN = n
	for a0 := 0; a0 < na; {
		rows, routed, a1 := 0, 0, a0
		for a1 < na {
			c := int(s.count[s.active[a1]])
			p := padRows(c, w.Experts[s.active[a1]].Gate)
			if rows+p > s.expRows {
				break
			}
			s.base[a1] = int32(rows)
			rows += p
			routed += c
			a1++
		}
		// The wave's experts run in pieces of at most share rows (whole experts unless
		// one alone is more than a thread's share of the wave: a block's mask rows can
		// route alike, to a few experts of many rows), sorted by rows and taken from both
		// ends (see expertLane). Each piece's rows land in the expert's own rows of the
		// scratch and are combined in expert order, and a row's bits depend neither on
		// the rows multiplied beside it nor on the order of running.
		share := int32(pieceRows(routed, s.m.pool.Threads()))
		np := 0
		for a := a0; a < a1; a++ {
			c := s.count[s.active[a]]
			for from := int32(0); from < c; from += share {
				s.pieces[np] = expertPiece{a: int32(a), from: from, n: min(share, c-from)}
				np++
			}
		}
		slices.SortStableFunc(s.pieces[:np], func(x, y expertPiece) int { return cmp.Compare(y.n, x.n) })
		s.pieceEnds.reset(np)
		s.m.pool.Run(min(np, s.m.pool.Threads()), s.expertTask)
		// Each token adds its experts' outputs in expert order (so the sum is the same
		// whatever the waves and threads), the tokens in parallel.
		clear(s.tokN[:n])
		for a := a0; a < a1; a++ {
			e := s.active[a]
			o := int(s.offs[e])
			for i, t := range s.order[o:s.offs[e+1]] {
				j := int(t)*K + int(s.tokN[t])
				s.tokRows[j], s.tokW[j] = s.base[a]+int32(i), s.orderW[o+i]
				s.tokN[t]++
			}
		}
		s.m.pool.Run(n, s.combineTask)
		a0 = a1
	}
	s.moeW = nil
	s.lap(OpExpert)
	s.watch(h, H, start, nil, "mlp.experts (routed, or mlp.gate.expert_bias)")
	return nil
}

// combine adds token t's routed outputs of the current wave to its row of s.h.
func (s *State) combine(t int) {
	H, K := s.m.cfg.HiddenSize, s.m.cfg.NumExpertsPerTok
	h := s.h[t*H : (t+1)*H]
	for j := t * K; j < t*K+int(s.tokN[t]); j++ {
		r := int(s.tokRows[j])
		kernels.Axpy(h, s.tokW[j], s.gather[r*H:(r+1)*H])
	}
}

// expertPiece is rows from…from+n-1 of the tokens routed to active expert a of a
// wave (see moe).
type expertPiece struct{ a, from, n int32 }

// pieceRows is the most rows of one expert that one task takes, for a wave of routed
// rows on threads threads: any number on one thread, else the thread's share, in whole
// fours (so that only an expert's last piece is ever padded, see padRows) and no fewer
// than minPieceRows. A var for tests.
var pieceRows = func(routed, threads int) int {
	if threads <= 1 {
		return math.MaxInt32
	}
	return max(minPieceRows, ((routed+threads-1)/threads+3)/4*4)
}

// minPieceRows: below 8 rows an expert streams its weights more than it computes, and
// each piece reads them all.
const minPieceRows = 8

// expertLane runs pieces of the current wave until none is left: lane 1 takes the piece
// of fewest rows left, the others the piece of most. One lane from the back streams the
// few-row experts while the others compute; more would end a wave on many threads with
// some still on mid-sized pieces while the rest wait (in a schedule of the 20-layer mini
// file's first-step routing, half the lanes from the back lengthened the expert phase 15 %
// at 16 threads; one lane kept it within 1 % of longest-first).
func (s *State) expertLane(l int) {
	for {
		i, ok := s.pieceEnds.take(l != 1)
		if !ok {
			return
		}
		s.expert(i)
	}
}

// expert runs piece i of the current wave on the caller's goroutine: it gathers the
// piece's tokens into their rows of s.gather and overwrites them with the expert's
// output.
func (s *State) expert(i int) {
	H := s.m.cfg.HiddenSize
	pc := s.pieces[i]
	e := s.active[pc.a]
	ex := &s.moeW.Experts[e]
	width := ex.Gate.Rows
	o := s.offs[e] + pc.from
	toks := s.order[o : o+pc.n]
	c := len(toks)
	p := padRows(c, ex.Gate)
	r0 := int(s.base[pc.a] + pc.from)
	x := s.x[:s.moeN*H]
	g := s.gather[r0*H : (r0+p)*H]
	for i, t := range toks {
		copy(g[i*H:(i+1)*H], x[int(t)*H:(int(t)+1)*H])
	}
	clear(g[c*H:])
	gate, up := s.egate[r0*width:(r0+p)*width], s.eup[r0*width:(r0+p)*width]
	var one *kernels.Pool // nil: single-threaded on this goroutine
	one.MatMul2(gate, up, g, ex.Gate, ex.Up)
	kernels.SiLUMul(gate, gate, up)
	one.MatMul(g, gate, ex.Down) // the input is consumed: the output goes in its place
}

// padRows is the batch size an expert with c tokens runs at, gate being its gate
// matrix: c padded with zero rows to a multiple of 4 when that saves passes over the
// expert's weights. Kernels that take the rows beyond a multiple of 4 one by one stream
// the weights once per such row (measured on the mini shape: ~10 % less MoE time in
// Q8_0 with the padding for a remainder of 3; a remainder of 2 is a wash). Kernels that
// take them in one pass (the repacked ones) only lose to the padding's zero rows: on
// the 20-layer mini q4_k file with 512-bit kernels, unpadded ran the 1-row and all-rows
// forwards 5–7 % faster.
func padRows(c int, gate kernels.Matrix) int {
	if gate.OnePassTail() {
		return c
	}
	if r := c % 4; r >= padMin {
		return c - r + 4
	}
	return c
}

// padMin is the smallest remainder (rows mod 4) worth padding away.
const padMin = 3

// routeToken picks the experts of token t of the current moe call from its router
// logits (in s.router) into its assignments; tokens are independent, each with scratch
// of its own, so they run in parallel.
func (s *State) routeToken(t int) {
	E, K := s.m.cfg.NumExperts, s.m.cfg.NumExpertsPerTok
	logits := s.router[t*E : (t+1)*E]
	experts, wts := s.assignE[t*K:(t+1)*K], s.assignW[t*K:(t+1)*K]
	if s.m.cfg.ScoreFunction == "softmax" {
		s.routeSoftmax(&s.routes[t], logits, experts, wts)
	} else {
		s.route(&s.routes[t], s.moeW, logits, experts, wts)
	}
}

// routeScratch is one token's scratch for routing.
type routeScratch struct {
	sig, sel   []float32 // [experts]
	groupScore []float32 // [groups]
	keepGroup  []bool
	topGroups  []int
	topExperts []int // [experts per token]
}

// route picks the experts of one token from its router logits and writes their indices
// and combine weights.
func (s *State) route(r *routeScratch, w *MoE, logits []float32, experts []int32, wts []float32) {
	cfg := &s.m.cfg
	E, K := cfg.NumExperts, cfg.NumExpertsPerTok
	G := max(1, cfg.NumGroups)
	TG := cfg.TopKGroups
	if TG <= 0 || TG > G {
		TG = G
	}
	per := E / G
	sig, sel := r.sig, r.sel
	for e, z := range logits {
		sig[e] = sigmoid(z)
		sel[e] = sig[e] + w.ExpertBias[e]
	}
	if TG < G {
		// Group score = sum of the two best biased scores in the group; groups outside the
		// best TG are excluded from selection.
		for g := 0; g < G; g++ {
			a, b := float32(math.Inf(-1)), float32(math.Inf(-1))
			for _, v := range sel[g*per : (g+1)*per] {
				if v > a {
					a, b = v, a
				} else if v > b {
					b = v
				}
			}
			if per == 1 {
				b = 0
			}
			r.groupScore[g] = a + b
		}
		clear(r.keepGroup)
		for _, g := range kernels.TopK(r.topGroups, r.groupScore, TG) {
			r.keepGroup[g] = true
		}
		ninf := float32(math.Inf(-1))
		for g := 0; g < G; g++ {
			if !r.keepGroup[g] {
				for e := g * per; e < (g+1)*per; e++ {
					sel[e] = ninf
				}
			}
		}
	}
	// HF normalizes whenever top_k > 1 (llada2-spec.md §2.4), with 1e-20 guarding zero.
	s.choose(r, sel, sig, experts, wts, K > 1, 1e-20)
}

// choose writes the len(experts) experts of highest sel and their weights: each one's
// score, divided by the sum of the chosen scores (+ eps) when norm, then times
// routed_scaling_factor — the references' order, so their rounding too.
func (s *State) choose(r *routeScratch, sel, score []float32, experts []int32, wts []float32, norm bool, eps float32) {
	var sum float32
	for i, e := range kernels.TopK(r.topExperts, sel, len(experts)) {
		experts[i] = int32(e)
		wts[i] = score[e]
		sum += score[e]
	}
	rsf := float32(s.m.cfg.RoutedScalingFactor)
	if rsf == 0 {
		rsf = 1 // absent from the config
	}
	for i := range wts {
		if norm {
			wts[i] /= sum + eps
		}
		wts[i] *= rsf
	}
}

// routeSoftmax picks the experts of one token as OLMoE, Qwen3-MoE and LLaDA-MoE do:
// softmax over all router logits (evaluated in float64 and rounded once; the references
// compute it in float32), the top k probabilities, and as weights those probabilities,
// renormalised over the k when norm_topk_prob, times routed_scaling_factor.
func (s *State) routeSoftmax(r *routeScratch, logits []float32, experts []int32, wts []float32) {
	cfg := &s.m.cfg
	p := r.sig
	mx := logits[0]
	for _, z := range logits {
		mx = max(mx, z)
	}
	var sum float64
	for _, z := range logits {
		sum += math.Exp(float64(z) - float64(mx))
	}
	for e, z := range logits {
		p[e] = float32(math.Exp(float64(z)-float64(mx)) / sum)
	}
	s.choose(r, p, p, experts, wts, cfg.NormTopKProb, 0)
}

// sigmoid is the logistic function, evaluated in float64 and rounded once.
func sigmoid(z float32) float32 {
	return float32(1 / (1 + math.Exp(-float64(z))))
}
