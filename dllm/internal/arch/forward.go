package arch

import (
	"errors"
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/dllm-go/dllm/kernels"
)

// StateOptions sizes a State.
type StateOptions struct {
	// Capacity is the most positions the KV cache may hold; 0 means
	// max_position_embeddings, which is also the upper limit.
	Capacity int
	// MaxRun is the most tokens one internal pass processes (scratch buffers are sized for
	// it); 0 means 512. Longer Forward runs are split at block boundaries.
	MaxRun int
	// KVF16 stores keys and values as IEEE half precision, halving cache memory.
	KVF16 bool
}

// State is one session's mutable half of the model: the KV cache and every scratch
// buffer a forward needs, preallocated so that steady-state forwards do not allocate.
// A State is used by one goroutine at a time; many States may share a Model.
type State struct {
	m      *Model
	maxRun int
	n      int // committed positions
	kv     *kvCache

	// scratch, sized for maxRun tokens
	h, x       []float32 // residual stream and normed input [maxRun, hidden]
	qkv        []float32 // [maxRun, (Nq+2Nkv)·D]
	q          []float32 // [Nq, maxRun, D]
	vT         []float32 // an attention wave's KV groups' values, transposed [D, padded keys] each
	y          []float32 // attention output of score tiles, [tile rows, D] each
	attn       []float32 // [maxRun, Nq·D]
	scores     []float32
	at         attendArgs     // arguments of attendTask
	qk         qkArgs         // arguments of qkTask
	qkTask     func(i int)    // s.qkItem, bound once
	valueRuns  []float32      // [KV heads·value pieces, valueRun] scratch of qkValues
	attendTask func(i int)    // s.attendTile, bound once
	valuesTask func(i int)    // s.valuesPiece, bound once
	gate, up   []float32      // [maxRun, widest dense or shared FFN]
	router     []float32      // [maxRun, experts]
	routes     []routeScratch // [maxRun] routing scratch of each token
	routeTask  func(t int)    // s.routeToken, bound once
	assignE    []int32        // [maxRun·K] expert of each assignment
	assignW    []float32      // [maxRun·K] its weight
	count      []int32        // [experts]
	offs, fill []int32        // [experts+1]
	order      []int32        // [maxRun·K] token of each assignment, grouped by expert
	orderW     []float32
	active     []int32       // [experts] experts with tokens this layer, ascending
	base       []int32       // [experts] first scratch row of each active expert in its wave
	pieces     []expertPiece // a wave's experts in the pieces they run as, in the order they run
	expRows    int           // scratch rows of one wave of experts
	gather     []float32     // [expRows, hidden] expert inputs, then outputs
	egate, eup []float32     // [expRows, moe width] expert activations
	moeW       *MoE          // the layer of the running moe call (for routeTask, expertTask)
	moeN       int           // its rows
	expertTask func(i int)   // s.expertLane, bound once
	pieceEnds  ends          // the pieces not yet claimed
	probe      *probe        // set while locating a non-finite value
	work       *Work         // set by SetWork: forwards record their ops there
	shifted    []int         // Window's rows, shifted
	window     int           // tokens of the last Window whose K/V the cache holds (0: none)
	keyEnd     int           // while > 0, attention sees keys 0…keyEnd-1 (WindowCached, ForwardPartial)
	runPos     []int         // while set, the absolute positions of the run's rows (ForwardPartial)
	subTok     []int32       // ForwardPartial's scratch: the tokens it runs …
	subPos     []int         // … their positions …
	subRows    []int         // … and the logits rows as indices into them
	keptAt     int           // the uncommitted K/V of the last forward: its first position …
	keptLen    int           // … and its length (0: none)

	// The combine of a wave of experts: per token, the scratch rows of its assignments
	// in the wave (K slots a token, in expert order), their weights and their count.
	tokRows     []int32
	tokW        []float32
	tokN        []int32
	combineTask func(t int) // s.combine, bound once

	// allFinite's call: the rows it checks, their width, and whether one failed.
	scan     []float32
	scanW    int
	scanBad  atomic.Bool
	scanTask func(r int) // s.scanRow, bound once

	norm     normArgs    // arguments of normTask
	normTask func(r int) // s.normRow, bound once
}

// NewState allocates a session state for m.
func (m *Model) NewState(opts StateOptions) (*State, error) {
	cfg := &m.cfg
	capacity := opts.Capacity
	if capacity == 0 {
		capacity = cfg.MaxPositionEmbeddings
	}
	if capacity < 0 || capacity > cfg.MaxPositionEmbeddings {
		return nil, fmt.Errorf("llada2: capacity %d not in 1…max_position_embeddings (%d)", capacity, cfg.MaxPositionEmbeddings)
	}
	maxRun := opts.MaxRun
	if maxRun == 0 {
		maxRun = 512
	}
	if maxRun < 0 {
		return nil, fmt.Errorf("llada2: MaxRun %d, want > 0", maxRun)
	}
	maxRun = min(maxRun, capacity)

	H, D, Nq, Nkv := cfg.HiddenSize, cfg.HeadDim, cfg.NumHeads, cfg.NumKVHeads
	E, K := cfg.NumExperts, cfg.NumExpertsPerTok
	hasMoE := cfg.FirstKDenseReplace < cfg.NumLayers
	if !hasMoE {
		E, K = 0, 0
	}
	width := 0
	if cfg.FirstKDenseReplace > 0 {
		width = cfg.IntermediateSize
	}
	if hasMoE {
		width = max(width, cfg.MoEIntermediateSize*max(1, cfg.NumSharedExperts))
	}
	nScores, nVT := attentionScratch(D, Nq, Nkv, capacity, maxRun)

	s := &State{
		m:       m,
		maxRun:  maxRun,
		kv:      newKVCache(cfg.NumLayers, Nkv, D, capacity, 2*maxRun, opts.KVF16),
		h:       make([]float32, maxRun*H),
		x:       make([]float32, maxRun*H),
		qkv:     make([]float32, maxRun*(Nq+2*Nkv)*D),
		q:       make([]float32, Nq*maxRun*D),
		vT:      make([]float32, nVT),
		y:       make([]float32, D*Nq*maxRun),
		attn:    make([]float32, maxRun*Nq*D),
		scores:  make([]float32, nScores),
		gate:    make([]float32, maxRun*width),
		up:      make([]float32, maxRun*width),
		subTok:  make([]int32, 0, maxRun),
		subPos:  make([]int, 0, maxRun),
		subRows: make([]int, 0, maxRun),
	}
	s.attendTask = s.attendTile
	s.valuesTask = s.valuesPiece
	s.scanTask = s.scanRow
	s.normTask = s.normRow
	s.qkTask = s.qkItem
	s.valueRuns = make([]float32, cfg.NumKVHeads*valuePieces(cfg.HeadDim)*valueRun)
	if hasMoE {
		G := max(1, cfg.NumGroups)
		s.router = make([]float32, maxRun*E)
		s.routes = make([]routeScratch, maxRun)
		for t := range s.routes {
			s.routes[t] = routeScratch{sig: make([]float32, E), sel: make([]float32, E),
				groupScore: make([]float32, G), keepGroup: make([]bool, G), topGroups: make([]int, G),
				topExperts: make([]int, K)}
		}
		s.routeTask = s.routeToken
		s.assignE = make([]int32, maxRun*K)
		s.assignW = make([]float32, maxRun*K)
		s.count = make([]int32, E)
		s.offs = make([]int32, E+1)
		s.fill = make([]int32, E+1)
		s.order = make([]int32, maxRun*K)
		s.orderW = make([]float32, maxRun*K)
		// A wave holds any single expert (at most maxRun tokens, padded) and, up to 64-token
		// runs, every assignment of the run with padding.
		s.expRows = max(maxRun+3, min(maxRun, 64)*K*4/3+4)
		s.active = make([]int32, E)
		s.base = make([]int32, E)
		s.pieces = make([]expertPiece, E+maxRun*K/4) // pieces of 4 rows or more, but of one expert
		s.gather = make([]float32, s.expRows*H)
		s.egate = make([]float32, s.expRows*cfg.MoEIntermediateSize)
		s.eup = make([]float32, s.expRows*cfg.MoEIntermediateSize)
		s.expertTask = s.expertLane
		s.tokRows = make([]int32, maxRun*K)
		s.tokW = make([]float32, maxRun*K)
		s.tokN = make([]int32, maxRun)
		s.combineTask = s.combine
	}
	return s, nil
}

// Len returns the number of committed positions in the cache.
func (s *State) Len() int { return s.n }

// Run calls fn(0) … fn(n−1) on the model's threads and returns when all are done: work
// between forwards (a decoder's sampling) gets the threads the forward had.
func (s *State) Run(n int, fn func(i int)) { s.m.pool.Run(n, fn) }

// Capacity returns the most positions the cache may hold.
func (s *State) Capacity() int { return s.kv.capacity }

// MaxRun returns the most tokens one internal pass processes, hence the longest block a
// Forward can run.
func (s *State) MaxRun() int { return s.maxRun }

// Truncate drops committed positions n… from the cache (chat prefix reuse).
func (s *State) Truncate(n int) error {
	if n < 0 || n > s.n {
		return fmt.Errorf("llada2: truncate to %d, cache holds %d positions", n, s.n)
	}
	s.n = n
	s.keptLen = 0
	return nil
}

// Forward runs tokens at absolute positions s.Len() … s.Len()+len(tokens)-1 against the
// committed cache.
//
// Attention: every query sees the whole cache, and inside the run query i sees key j iff
// floor(pos_j/block) <= floor(pos_i/block) (block <= 0 means bidirectional over the run;
// block 1 = causal). If commit, the run's K/V are appended to the cache. logits receives
// len(rows)*vocab floats: the logits of run rows rows[0], rows[1], … (indices into the
// run); rows may be empty (no LM head).
//
// Runs longer than MaxRun are processed in pieces that end on block boundaries, which is
// exact because no query sees keys of a later block; a long run with block <= 0 or a
// block longer than MaxRun is an error. Logits holding a NaN or an infinity are a
// *NonFiniteError naming the step that first produced one (found by running the forward
// again with a check after every step). On error the state is unchanged.
func (s *State) Forward(tokens []int32, block int, commit bool, rows []int, logits []float32) error {
	s.window = 0 // its K/V overwrite a Window's (windowRun restores what it keeps)
	s.keptLen = 0
	cfg := &s.m.cfg
	V := cfg.VocabSize
	n := len(tokens)
	for i, t := range tokens {
		if t < 0 || int(t) >= V {
			return fmt.Errorf("llada2: token %d at run index %d is outside the vocabulary (%d)", t, i, V)
		}
	}
	for _, r := range rows {
		if r < 0 || r >= n {
			return fmt.Errorf("llada2: logits row %d outside the run of %d tokens", r, n)
		}
	}
	if len(logits) < len(rows)*V {
		return fmt.Errorf("llada2: logits buffer holds %d floats, need %d rows × %d", len(logits), len(rows), V)
	}
	if n == 0 {
		return nil
	}
	end := s.n + n
	if end > s.kv.capacity {
		return fmt.Errorf("llada2: run of %d tokens at position %d exceeds the cache capacity %d", n, s.n, s.kv.capacity)
	}
	// Plan the pieces before touching anything, so an error leaves the state unchanged.
	if n > s.maxRun {
		if block <= 0 {
			return fmt.Errorf("llada2: bidirectional run of %d tokens exceeds MaxRun %d", n, s.maxRun)
		}
		for p := s.n; p < end; {
			q := s.pieceEnd(p, end, block)
			if q == p {
				return fmt.Errorf("llada2: block %d at position %d does not fit MaxRun %d", block, p, s.maxRun)
			}
			p = q
		}
	}
	if err := s.kv.ensure(end); err != nil {
		return err
	}
	if s.work != nil {
		s.work.Reset()
	}
	err := s.run(tokens, block, rows, logits)
	// One pass over the logits (and the router's, see moe); only when it finds something
	// does the forward run again with a check after every step, to say where the value
	// came from.
	if errors.Is(err, errNonFiniteRouting) || err == nil && !s.allFinite(logits[:len(rows)*V], len(rows)) {
		return s.locate(tokens, block, rows, logits)
	}
	if err != nil {
		return err
	}
	if commit {
		s.n = end
	} else {
		s.keptAt, s.keptLen = s.n, n
	}
	return nil
}

// ForwardPartial is the approximate in-block cached forward (the LLaDA2 decoder's block
// cache, decode.CacheBlock): of the run tokens at positions s.Len()…s.Len()+len(tokens)-1
// it computes only the run indices listed in run (ascending), whose queries see the whole
// cache, their own fresh keys and values, and for every other position of the run the
// keys and values that earlier forwards left in its slot: the last Forward of this run
// (same start, same length, not committed) and the ForwardPartial calls since, each
// having written the positions it ran. The block-causal mask is Forward's. rows are run
// indices, each in run; logits receives their logits in that order. Nothing is committed.
//
// The kept keys and values were computed over the run as it was then, so the result
// differs from Forward's once the other positions' tokens or inputs changed: it is an
// approximation, exact when nothing outside run changed since the full forward. With run
// listing every index it is Forward, bit for bit. It is the same attention, feed-forward
// and expert code as Forward, on fewer rows (hence fewer experts), with the keys of the
// whole run visible (keyEnd) and the rows' positions listed (runPos); no copies of it.
// On error the kept keys and values are dropped: the next partial forward needs a full
// one first.
func (s *State) ForwardPartial(tokens []int32, block int, run, rows []int, logits []float32) error {
	n := len(tokens)
	switch {
	case s.keptLen == 0 || s.keptAt != s.n || s.keptLen != n:
		return fmt.Errorf("llada2: partial forward over a run of %d tokens at position %d, the cache keeps none such (run Forward first)", n, s.n)
	case len(run) == 0 || len(run) > s.maxRun:
		return fmt.Errorf("llada2: partial forward of %d rows, want 1…%d", len(run), s.maxRun)
	}
	prev := -1
	for _, i := range run {
		if i <= prev || i >= n {
			return fmt.Errorf("llada2: partial forward rows must ascend inside the run of %d tokens, got %d after %d", n, i, prev)
		}
		prev = i
	}
	s.subTok, s.subPos, s.subRows = s.subTok[:0], s.subPos[:0], s.subRows[:0]
	for _, r := range rows {
		k, ok := slices.BinarySearch(run, r)
		if !ok {
			return fmt.Errorf("llada2: logits row %d is not one of the partial forward's rows", r)
		}
		s.subRows = append(s.subRows, k)
	}
	for _, i := range run {
		s.subTok = append(s.subTok, tokens[i])
		s.subPos = append(s.subPos, s.n+i)
	}
	at, kept := s.keptAt, s.keptLen
	s.runPos, s.keyEnd = s.subPos, s.n+n
	err := s.Forward(s.subTok, block, false, s.subRows, logits)
	s.runPos, s.keyEnd = nil, 0
	if err == nil {
		s.keptAt, s.keptLen = at, kept
	}
	return err
}

// posAt is the absolute position of row t of a piece starting at start.
func (s *State) posAt(start, t int) int {
	if s.runPos != nil {
		return s.runPos[t]
	}
	return start + t
}

// run computes the forward of tokens piece by piece (see Forward), without committing.
func (s *State) run(tokens []int32, block int, rows []int, logits []float32) error {
	n := len(tokens)
	end := s.n + n
	for p := s.n; p < end; {
		q := end
		if n > s.maxRun {
			q = s.pieceEnd(p, end, block)
		}
		need := false // does this piece produce logits?
		for _, r := range rows {
			need = need || r >= p-s.n && r < q-s.n
		}
		if err := s.piece(tokens[p-s.n:q-s.n], p, block, need); err != nil {
			return err
		}
		s.head(rows, logits, p-s.n, q-s.n)
		p = q
	}
	return nil
}

// locate runs again a forward that produced a non-finite value, checking after every
// step, and returns where such a value first appeared. Forwards are deterministic, so
// the run reproduces it; nothing is committed.
func (s *State) locate(tokens []int32, block int, rows []int, logits []float32) error {
	s.probe = &probe{layer: -1}
	defer func() { s.probe = nil }()
	if s.work != nil {
		s.work.Reset()
	}
	if err := s.run(tokens, block, rows, logits); err != nil {
		return err
	}
	if err := s.probe.err; err != nil {
		return err
	}
	return fmt.Errorf("llada2: %w at positions %d…%d, not reproduced when run again", ErrNonFinite, s.n, s.n+len(tokens)-1)
}

// pieceEnd returns the end of the longest piece starting at p that fits maxRun and ends
// on a block boundary (or at end); p itself if no block boundary is reachable.
func (s *State) pieceEnd(p, end, block int) int {
	q := min(end, p+s.maxRun)
	if q == end {
		return q
	}
	if b := q / block * block; b > p {
		return b
	}
	return p
}

// piece runs the transformer layers over tokens at absolute positions start…, leaving the
// final hidden states (before the final norm) in s.h. Without logits to produce (a commit
// forward), the last layer only writes its keys and values: its attention output and
// feed-forward would feed nothing.
func (s *State) piece(tokens []int32, start, block int, logits bool) error {
	m := s.m
	cfg := &m.cfg
	H := cfg.HiddenSize
	n := len(tokens)
	for t, tok := range tokens {
		if err := m.embed(s.h[t*H:(t+1)*H], tok); err != nil {
			return err
		}
	}
	s.embedOp(tokens)
	s.lap(OpEmbed)
	h, x := s.h[:n*H], s.x[:n*H]
	s.probeAt(-1)
	s.watch(h, H, start, nil, "model.word_embeddings.weight")
	for li := range m.Layers {
		l := &m.Layers[li]
		s.probeAt(li)
		s.normRows(x, h, l.InputNorm)
		s.normOp(li, n, l.InputNorm)
		s.lap(OpNorm)
		s.watch(x, H, start, nil, "input_layernorm.weight")
		last := li == len(m.Layers)-1 && !logits
		s.attention(li, start, n, block, !last)
		if last {
			break
		}
		s.normRows(x, h, l.PostNorm)
		s.normOp(li, n, l.PostNorm)
		s.lap(OpNorm)
		s.watch(x, H, start, nil, "post_attention_layernorm.weight")
		if l.Dense != nil {
			s.mlp(l.Dense, OpDense, li, x, h, n, start, "mlp")
		} else if err := s.moe(l.MoE, li, n, start); err != nil {
			return err
		}
	}
	s.probeAt(-1)
	return nil
}

// head writes the logits of the requested rows that fall in the run slice [a, b) whose
// final hidden states are in s.h. Consecutive requests are batched into one matmul
// straight into the caller's buffer.
func (s *State) head(rows []int, logits []float32, a, b int) {
	cfg := &s.m.cfg
	H, V := cfg.HiddenSize, cfg.VocabSize
	eps := float32(cfg.RMSNormEps)
	for k := 0; k < len(rows); {
		if rows[k] < a || rows[k] >= b {
			k++
			continue
		}
		k0 := k
		for k < len(rows) && rows[k] >= a && rows[k] < b && k-k0 < s.maxRun {
			r := rows[k] - a
			kernels.RMSNorm(s.x[(k-k0)*H:(k-k0+1)*H], s.h[r*H:(r+1)*H], s.m.Norm, eps)
			k++
		}
		s.normOp(-1, k-k0, s.m.Norm)
		s.lap(OpNorm)
		s.watch(s.x[:(k-k0)*H], H, s.n, rows[k0:k], "model.norm.weight")
		s.m.pool.MatMul(logits[k0*V:k*V], s.x[:(k-k0)*H], s.m.LMHead)
		s.matOp(OpHead, -1, k-k0, s.m.LMHead)
		s.lap(OpHead)
		s.watch(logits[k0*V:k*V], V, s.n, rows[k0:k], "lm_head.weight")
	}
}

// normRows applies RMSNorm with weight w to every hidden-size row of src into dst, rows
// in parallel on the pool (81 norms a forward of the real model, each of its rows a
// few microseconds: together about a millisecond one after another).
func (s *State) normRows(dst, src, w []float32) {
	s.norm = normArgs{dst: dst, src: src, w: w}
	s.m.pool.Run(len(src)/s.m.cfg.HiddenSize, s.normTask)
	s.norm = normArgs{}
}

// normArgs are the arguments of normTask.
type normArgs struct{ dst, src, w []float32 }

// normRow normalizes row r of normRows' rows.
func (s *State) normRow(r int) {
	H, a := s.m.cfg.HiddenSize, &s.norm
	kernels.RMSNorm(a.dst[r*H:(r+1)*H], a.src[r*H:(r+1)*H], a.w, float32(s.m.cfg.RMSNormEps))
}
