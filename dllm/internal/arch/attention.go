package arch

import (
	"math"

	"github.com/dllm-go/dllm/kernels"
)

// scoreBudget bounds the attention score scratch (in floats): query rows are processed in
// tiles so that a tile's scores against every key fit in it. 4M floats = 16 MiB holds a
// whole 32-token block of a 4-head GQA group against a 32k context.
const scoreBudget = 1 << 22

// attentionScratch is the floats of a state's attention scores and transposed values
// (attend's waves) for heads of D components, Nq query and Nkv KV heads, capacity
// positions and runs of up to maxRun tokens: as many KV groups as fit in scoreBudget
// each, and at least one (a group's score rows against every key, then its values). At
// short contexts that is every group, so a layer's attention is two pool calls rather
// than two per group.
func attentionScratch(D, Nq, Nkv, capacity, maxRun int) (scores, valuesT int) {
	Jp := padKeys(capacity)
	scores = max(Jp, min(Nq*maxRun*Jp, scoreBudget))
	valuesT = D * Jp * max(1, min(Nkv, scoreBudget/(D*Jp)))
	return scores, valuesT
}

// keyPad is the granularity of the key dimension in the value product: score rows and
// transposed values are laid out with a stride of J rounded up to it, zero-filled. The
// SIMD dot products then see each visible key at the same vector lane whatever the
// number of keys, so a block computed against the cache has exactly the bits of the same
// block inside a full-window recompute (where more keys follow, masked to zero).
const keyPad = 64

func padKeys(j int) int { return (j + keyPad - 1) / keyPad * keyPad }

// attention runs the attention sub-block of layer li for the n tokens of the current chunk,
// at absolute positions start…start+n-1, reading s.x (normed input, [n, hidden]) and
// adding the projected output to the residual stream s.h.
//
// Keys and values of the chunk are written into the cache slots start…start+n-1 first, so
// every query attends to one contiguous key range 0…start+n-1 of which it sees a prefix:
// the whole cache plus the chunk keys of its own and earlier blocks (block-causal mask,
// llada2-spec.md §2.3). Because blocks are contiguous position ranges, the mask never
// needs materializing. With attend false only the keys and values are computed and stored.
func (s *State) attention(li, start, n, block int, attend bool) {
	m := s.m
	cfg := &m.cfg
	l := &m.Layers[li]
	D, Nq, Nkv := cfg.HeadDim, cfg.NumHeads, cfg.NumKVHeads
	width := (Nq + 2*Nkv) * D

	// Where token t's heads start (see qkArgs).
	var q0, k0, v0, qs, ks int
	x := s.x[:n*cfg.HiddenSize]
	qkv := s.qkv[:n*width]
	if l.QKV.Rows > 0 {
		m.pool.MatMul(qkv, x, l.QKV)
		s.matOp(OpQKV, li, n, l.QKV)
		s.lap(OpQKV)
		q0, k0, v0, qs, ks = 0, Nq*D, (Nq+Nkv)*D, width, width
	} else {
		q0, k0, v0, qs, ks = 0, n*Nq*D, n*(Nq+Nkv)*D, Nq*D, Nkv*D
		s.project(qkv[q0:k0], x, l.Q, l.QBias, li, start, "attention.q_proj")
		s.project(qkv[k0:v0], x, l.K, l.KBias, li, start, "attention.k_proj")
		s.project(qkv[v0:], x, l.V, l.VBias, li, start, "attention.v_proj")
		s.lap(OpQKV)
	}
	if attend {
		s.normOp(li, n*Nq, l.QNorm)
	}
	s.normOp(li, n*Nkv, l.KNorm)
	if l.QKV.Rows > 0 {
		s.watch(qkv, width, start, nil, "attention.query_key_value.weight")
	}
	rope := kernels.RoPENeoX
	if cfg.RopeInterleaved {
		rope = kernels.RoPEInterleaved
	}
	// 1/sqrt(D) is folded into the query so the scores come out of the matmul scaled.
	scale := float32(1 / math.Sqrt(float64(D)))
	s.qk = qkArgs{li: li, start: start, n: n, attend: attend, q0: q0, k0: k0, v0: v0, qs: qs, ks: ks,
		rope: rope, scale: scale}
	m.pool.Run(n+Nkv*valuePieces(D), s.qkTask)
	if !attend {
		s.lap(OpAttend)
		return
	}
	// Keys visible to the chunk: cache plus the chunk itself, and with keyEnd (a cached
	// window forward, WindowCached, or a partial block forward, ForwardPartial) the kept
	// keys after and between the chunk's positions as well.
	J := max(start+n, s.keyEnd)
	s.attendOp(li, Nq*n, J)
	s.attend(li, n, start, block, J)
	attn := s.attn[:n*Nq*D]
	// Scores and values have no weight of their own: a bad value here comes from the
	// query/key norms or from keys and values already in the cache.
	s.watch(attn, Nq*D, start, nil, "attention (query_layernorm, key_layernorm or cached keys/values)")
	s.lap(OpAttend)
	m.pool.MatMulAdd(s.h[:n*cfg.HiddenSize], attn, l.Out)
	s.matOp(OpOut, li, n, l.Out)
	s.lap(OpOut)
	s.watch(s.h[:n*cfg.HiddenSize], cfg.HiddenSize, start, nil, "attention.dense.weight")
}

// qkArgs are the arguments of qkTask: the layer and chunk, whether the queries are
// needed, where token t's query, key and value heads start in s.qkv (q0 + t·qs,
// k0 + t·ks, v0 + t·ks: interleaved rows of one fused projection, or three blocks), the
// model's RoPE and the queries' scale.
type qkArgs struct {
	li, start, n       int
	attend             bool
	q0, k0, v0, qs, ks int
	rope               func(x, cos, sin []float32)
	scale              float32
}

// valuePieces is how many pieces of a KV head's value components qkItem stores apart.
func valuePieces(dim int) int { return (dim + valuePiece - 1) / valuePiece }

// valuePiece: value components per piece, a quarter of a 128-wide head.
const valuePiece = 32

// qkItem runs item i of the current attention call: token i (qkToken) for i below the
// chunk's tokens, then the pieces of the KV heads' values (qkValues). None depends on
// another, so they run in parallel.
func (s *State) qkItem(i int) {
	if i < s.qk.n {
		s.qkToken(i)
		return
	}
	s.qkValues(i - s.qk.n)
}

// qkValues stores value piece v of the current attention call in the cache: a
// valuePiece of one KV head's components, of the chunk's tokens (piece v is head
// v/valuePieces, components from v%valuePieces·valuePiece). The cache holds values
// transposed, a row per component, so taking the tokens component by component writes
// each row's few slots together, where storing a token at a time would touch every row
// of the head for each token.
func (s *State) qkValues(v int) {
	a := &s.qk
	D := s.m.cfg.HeadDim
	g, d0 := v/valuePieces(D), v%valuePieces(D)*valuePiece
	run := s.valueRuns[v*valueRun : (v+1)*valueRun]
	s.kv.putValues(a.li, g, d0, min(D, d0+valuePiece), s.qkv[a.v0+g*D:], a.ks, a.n, a.start, s.runPos, run)
}

// qkToken readies token t of the current attention call: its query heads normed, rotated
// and scaled into the head-major s.q, its key heads normed and rotated in place, and its
// keys stored in the cache.
func (s *State) qkToken(t int) {
	a := &s.qk
	cfg := &s.m.cfg
	l := &s.m.Layers[a.li]
	D, Nq, Nkv, rot := cfg.HeadDim, cfg.NumHeads, cfg.NumKVHeads, cfg.RotaryDim
	eps := float32(cfg.RMSNormEps)
	n, rope := a.n, a.rope
	qkv := s.qkv
	pos := s.posAt(a.start, t)
	cos, sin := s.m.rope.at(pos)
	for h := 0; h < Nq && a.attend; h++ {
		// Query heads go to a head-major [Nq][n][D] layout so that the heads sharing a KV
		// head form one contiguous block of rows for the score matmul.
		q := s.q[(h*n+t)*D : (h*n+t+1)*D]
		src := qkv[a.q0+t*a.qs+h*D : a.q0+t*a.qs+(h+1)*D]
		if l.QNorm != nil {
			kernels.RMSNorm(q, src, l.QNorm, eps)
		} else {
			copy(q, src)
		}
		if rot > 0 {
			rope(q[:rot], cos, sin)
		}
		kernels.Scale(q, a.scale)
	}
	for g := 0; g < Nkv; g++ {
		k := qkv[a.k0+t*a.ks+g*D : a.k0+t*a.ks+(g+1)*D]
		if l.KNorm != nil {
			kernels.RMSNorm(k, k, l.KNorm, eps)
		}
		if rot > 0 {
			rope(k[:rot], cos, sin)
		}
		s.kv.putKey(a.li, g, pos, k)
	}
}

// attend writes the attention output of every query head of the chunk's n rows into
// s.attn, against keys 0…J-1 of layer li. Each task takes a tile of one KV group's query
// rows (the group's heads × the chunk's tokens) through scores, probabilities and the
// value product on its own goroutine with the single-threaded kernels: the products are
// small (a 32-token block's group is 128 rows against 64–96 keys in the bench's
// forwards), and handing each one to the pool would cost more than it computes. Tasks
// of every group run in one wave when
// the groups' transposed values and score tiles fit the scratch; with long contexts the
// groups, then the rows of a group, go in waves. A row's scores and output do not depend
// on the tiling (the kernels compute each row alike whatever the batch), so the result is
// the same for any number of threads.
func (s *State) attend(li, n, start, block, J int) {
	cfg := &s.m.cfg
	D, Nkv := cfg.HeadDim, cfg.NumKVHeads
	rows := cfg.NumHeads / Nkv * n // query rows of one KV group
	Jp := padKeys(J)
	fit := min(len(s.scores)/Jp, len(s.y)/D) // query rows whose scores fit at once
	groups := max(1, min(Nkv, len(s.vT)/(D*Jp), fit/rows))
	span := min(rows, fit)
	a := &s.at
	*a = attendArgs{li: li, n: n, start: start, block: block, J: J, Jp: Jp, rows: rows}
	for g0 := 0; g0 < Nkv; g0 += groups {
		g1 := min(Nkv, g0+groups)
		// Every tile waits for its group's values: copied in pieces of components, at
		// least one task per thread (a long context's wave is a single group).
		a.g0 = g0
		a.pieces = (s.m.pool.Threads() + g1 - g0 - 1) / (g1 - g0)
		s.m.pool.Run((g1-g0)*a.pieces, s.valuesTask)
		// About two tasks per thread, spread over the wave's groups.
		perGroup := max(1, (2*s.m.pool.Threads()+g1-g0-1)/(g1-g0))
		for r0 := 0; r0 < rows; r0 += span {
			r1 := min(rows, r0+span)
			a.g0, a.r0, a.r1 = g0, r0, r1
			a.tile = max(1, (r1-r0+perGroup-1)/perGroup)
			a.tiles = (r1 - r0 + a.tile - 1) / a.tile
			s.m.pool.Run((g1-g0)*a.tiles, s.attendTask)
		}
	}
}

// valuesPiece copies piece i of the current wave's values, transposed, into its place
// in s.vT: components of group a.g0 + i/a.pieces, the (i%a.pieces)-th of a.pieces runs.
func (s *State) valuesPiece(i int) {
	a := &s.at
	D := s.m.cfg.HeadDim
	gi, p := i/a.pieces, i%a.pieces
	d0, d1 := p*D/a.pieces, (p+1)*D/a.pieces
	s.kv.valuesT(a.li, a.g0+gi, d0, d1, a.J, a.Jp, s.vT[(gi*D+d0)*a.Jp:(gi*D+d1)*a.Jp])
}

// attendArgs are the arguments of attendTask and valuesTask for the current wave: layer,
// chunk and key range, and the wave's groups g0… and query rows r0…r1-1 of each, in
// tiles of tile rows.
type attendArgs struct {
	li, n, start, block, J, Jp, rows int
	g0, r0, r1, tile, tiles          int
	pieces                           int // runs of components a group's values are copied in
}

// attendTile runs tile i of the current wave (see attend): scores, softmax over each
// row's visible keys, value product, and the rows' outputs into s.attn.
func (s *State) attendTile(i int) {
	a := &s.at
	cfg := &s.m.cfg
	D, Nq := cfg.HeadDim, cfg.NumHeads
	gi, t := i/a.tiles, i%a.tiles
	g := a.g0 + gi
	r0 := a.r0 + t*a.tile
	r1 := min(a.r1, r0+a.tile)
	R, J, Jp := r1-r0, a.J, a.Jp
	u := gi*(a.r1-a.r0) + r0 - a.r0 // the tile's first row in the wave's scratch
	sc := s.scores[u*Jp : (u+R)*Jp]
	var one *kernels.Pool // nil: single-threaded on this goroutine
	q := s.q[(g*a.rows+r0)*D : (g*a.rows+r1)*D]
	// Scores in rows of stride Jp; then probabilities over each row's visible prefix, the
	// masked tail and the padding zeroed so the value product can run over all Jp keys.
	one.MatMulStride(sc[:(R-1)*Jp+J], Jp, q, s.kv.keys(a.li, g, J))
	for r := range R {
		row := sc[r*Jp : (r+1)*Jp]
		vis := visibleKeys(s.posAt(a.start, (r0+r)%a.n), J, a.block)
		kernels.Softmax(row[:vis])
		clear(row[vis:])
	}
	// out[r][d] = Σ_j p[r][j]·V[j][d]: the probabilities against the transposed values
	// as weight rows, both contiguous; each output row then goes to its token and head.
	y := s.y[u*D : (u+R)*D]
	one.MatMul(y, sc, kernels.F32Matrix(s.vT[gi*D*Jp:(gi+1)*D*Jp], D, Jp))
	attn := s.attn
	for r := r0; r < r1; r++ {
		tok, h := r%a.n, g*(Nq/cfg.NumKVHeads)+r/a.n
		copy(attn[(tok*Nq+h)*D:(tok*Nq+h+1)*D], y[(r-r0)*D:(r-r0+1)*D])
	}
}

// visibleKeys is the number of leading keys (of J) that the query at absolute position pos
// may attend to: all of them when block <= 0, else everything up to the end of its block.
func visibleKeys(pos, J, block int) int {
	if block <= 0 {
		return J
	}
	return min(J, (pos/block+1)*block)
}

// project writes x·Wᵀ (+ bias on every row) into dst: one of the separate query, key
// and value projections of layer li (recorded as OpQKV); name is the weight's prefix,
// for locating a non-finite value.
func (s *State) project(dst, x []float32, w kernels.Matrix, bias []float32, li, start int, name string) {
	s.m.pool.MatMul(dst, x, w)
	s.matOp(OpQKV, li, len(x)/w.Cols, w)
	if bias != nil {
		for r := 0; r < len(dst); r += w.Rows {
			kernels.Add(dst[r:r+w.Rows], dst[r:r+w.Rows], bias)
		}
	}
	if s.probe != nil { // names only when locating: no string work per forward
		s.watch(dst, w.Rows, start, nil, name+".weight")
	}
}
