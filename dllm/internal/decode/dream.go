package decode

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"slices"
)

// GenerateDream decodes one prompt with Dream's diffusion_generate (the `_sample` loop
// of Dream's generation_utils.py), or with Fast-dLLM's confidence_threshold alg:
//
//   - the canvas is prompt + GenLength masks; timesteps = linspace(1, Eps, Steps+1) in
//     float32, as torch computes it (DreamTimesteps);
//   - each step runs the whole canvas; the model returns shifted logits (position i reads
//     row i−1); every masked position is a candidate;
//   - origin: each masked position is revealed with probability 1 − s/t (a float32
//     uniform per position; the last step reveals all) with a token sampled then;
//     maskgit_plus / topk_margin / entropy: tokens and confidences for every masked
//     position (temperature, top-p, top-k as sample_tokens applies them), then the
//     int(masked · (1 − s/t)) most confident (float32 arithmetic; the last step all) are
//     revealed, or with AlgTemp > 0 as many drawn from softmax(confidence/AlgTemp);
//   - randomness: uniforms exactly as torch (origin reproduces torch.manual_seed runs);
//     token sampling (Temperature > 0) and AlgTemp draws go through Source.Categorical
//     and Source.Multinomial (torch's own cannot be reproduced: see TorchSource).
//
// Steps that cannot change the canvas skip their forward: origin steps where no
// position is revealed, and greedy steps whose transfer count is 0. The error and
// Reason follow Decoder.Generate.
func (d *WindowDecoder) GenerateDream(ctx context.Context, prompt []int32, o DreamOptions) (WindowResult, error) {
	if err := o.validate(prompt, d.vocab, d.capacity); err != nil {
		return WindowResult{}, err
	}
	if err := d.cacheable(o.Cache); err != nil {
		return WindowResult{}, err
	}
	r := d.newRun(ctx, prompt, o.GenLength, &o.WindowCommon)
	if o.Cache != CacheNone || o.BlockLength > 0 {
		return r.end(r.dreamBlocks(&o))
	}
	return r.end(r.dream(&o))
}

// dreamBlocks is Fast-dLLM's block-wise cached sampler (dream/model/
// generation_utils_block.py, _sample), approximate: per block of BlockLength, a full
// forward refreshes the cache and commits its x0 at the block's first position
// unconditionally; then forwards over the suffix (CachePrefix) or the block (CacheDual),
// whose logits are shifted within the forward's input, until the block has no mask —
// the loop checks after each forward, so every block runs at least one. Each step:
//
//   - confidence_threshold: tokens for every masked position of the input (the
//     probability of x0 as confidence); of the block's masked positions the most
//     confident and every other one ≥ Threshold are committed;
//   - any other alg: the block's masked positions, confidence = Σ p·log(p + 1e-10)
//     (neg_entropy, whatever alg says), the top int(masked · (1 − s/t)) by the per-block
//     timesteps linspace(1, Eps, Steps/blocks + 1) (the block's last step all), or drawn
//     with AlgTemp; the step count is checked after the forward, as the official loop
//     does.
//
// With CacheNone (BlockLength > 0) every forward runs the whole canvas: the exact
// counterpart of the cached sampler, which Fast-dLLM does not ship but which is what its
// caches approximate (the logits are shifted over the canvas then).
//
// The block's first forward only computes the first position's logits (the official
// code samples every row and keeps that one): with Temperature > 0 the random stream
// therefore differs from a torch run.
func (r *wrun) dreamBlocks(o *DreamOptions) error {
	d, V, L := r.d, r.d.vocab, len(r.x)
	bl := o.blockLength()
	nb := o.GenLength / bl
	spb := o.Steps / nb
	ts := DreamTimesteps(spb, o.Eps)
	smp := &dreamSampler{temp: o.Temperature, topP: o.TopP, topK: o.TopK}
	thr := o.Alg == DreamConfidenceThreshold
	var masked []int
	for b := range nb {
		start := r.lp + b*bl
		end := start + bl
		for i := 0; ; i++ {
			from, to, kind := r.cacheSpan(o.Cache, i, start, end)
			masked = r.masked(masked, 0, L)
			ws := WindowStep{Block: b, Step: i, Masked: slices.Clone(masked), NumTransfer: -1, Kind: kind, Input: [2]int{from, to}}
			var rows []int
			var logits []float32
			var err error
			if i == 0 {
				rows = []int{start}
			} else {
				hi := end // sample_tokens' rows: the block's masks, or the input's
				if thr && o.Cache != CacheNone {
					hi = to
				}
				rows = r.masked(nil, from, hi)
			}
			if from == 0 && to == L {
				logits, err = r.forward(r.x, rows, &d.logits)
			} else {
				logits, err = r.forwardCached(from, to, rows, &d.logits)
			}
			if err != nil {
				return err
			}
			ws.Calls = 1
			if i > 0 && !thr && i == spb {
				_, err := r.step(ws) // its logits are dropped: the official loop ends here
				if err != nil {
					return err
				}
				break
			}
			alg := o.Alg
			if i > 0 && !thr {
				alg = DreamEntropy
			} else if i == 0 {
				alg = DreamMaskGitPlus // sample_tokens' default confidence, unused
			}
			conf := make([]float64, len(rows))
			ws.Candidates = make([]Commit, len(rows))
			for j, p := range rows {
				tok, c, err := smp.row(logits[j*V:(j+1)*V], r.src, j, alg)
				if err != nil {
					return err
				}
				conf[j] = c
				ws.Candidates[j] = Commit{Pos: p, Token: int32(tok), Conf: float32(c)}
			}
			var sel []int // indices into rows, in selection order
			switch {
			case i == 0:
				sel = []int{0}
			case thr:
				var in []int // the candidates in the block
				for j, p := range rows {
					if p < end {
						in = append(in, j)
					}
				}
				pos, cf := make([]int, len(in)), make([]float64, len(in))
				for k, j := range in {
					pos[k], cf[k] = rows[j], conf[j]
				}
				ws.NumTransfer = len(in) // torch.topk's k: the block's masks
				for _, k := range lladaSelect(pos, cf, len(in), o.Threshold) {
					sel = append(sel, in[k])
				}
			default:
				ws.NumTransfer = DreamTransferCount(len(rows), ts[i], ts[i+1], i == spb-1)
				if ws.NumTransfer == 0 {
					break
				}
				if sel, err = r.dreamPick(rows, conf, ws.NumTransfer, o.AlgTemp); err != nil {
					return err
				}
			}
			r.reveal(&ws, sel)
			stop, err := r.step(ws)
			if err != nil || stop {
				return err
			}
			if i > 0 && len(r.masked(masked, start, end)) == 0 {
				break
			}
		}
	}
	return nil
}

func (r *wrun) dream(o *DreamOptions) error {
	d, L := r.d, len(r.x)
	ts := DreamTimesteps(o.Steps, o.Eps)
	smp := &dreamSampler{temp: o.Temperature, topP: o.TopP, topK: o.TopK}
	steps := o.Steps
	var perStep, left int
	if o.Alg == DreamConfidenceThreshold {
		perStep = len(r.masked(nil, 0, L)) / steps
	}
	var masked []int
	for i := 0; i < steps; i++ {
		masked = r.masked(masked, 0, L)
		n := len(masked)
		if n == 0 {
			break // every later step would be a no-op, without random draws
		}
		last := i == steps-1
		ws := WindowStep{Step: i, Masked: slices.Clone(masked), NumTransfer: -1}
		var rows []int
		switch o.Alg {
		case DreamOrigin:
			p := float32(1)
			if !last {
				p = 1 - float32(ts[i+1]/ts[i])
			}
			ws.Rand = make([]float32, n)
			r.src.Uniform32(ws.Rand)
			for j, u := range ws.Rand {
				if u < p {
					rows = append(rows, masked[j])
				}
			}
		case DreamConfidenceThreshold:
			ws.NumTransfer = min(perStep+left, n)
			left = 0
			rows = masked
		default:
			ws.NumTransfer = DreamTransferCount(n, ts[i], ts[i+1], last)
			if ws.NumTransfer > 0 || o.Temperature > 0 {
				rows = masked
			}
		}
		if len(rows) > 0 {
			logits, err := r.forward(r.x, rows, &d.logits)
			if err != nil {
				return err
			}
			ws.Calls = 1
			conf := make([]float64, len(rows))
			ws.Candidates = make([]Commit, len(rows))
			V := d.vocab
			for j, p := range rows {
				tok, c, err := smp.row(logits[j*V:(j+1)*V], r.src, j, o.Alg)
				if err != nil {
					return err
				}
				conf[j] = c
				ws.Candidates[j] = Commit{Pos: p, Token: int32(tok), Conf: float32(c)}
			}
			var sel []int // indices into rows, in selection order
			switch o.Alg {
			case DreamOrigin:
				sel = make([]int, len(rows))
				for j := range sel {
					sel[j] = j
				}
			case DreamConfidenceThreshold:
				sel = lladaSelect(rows, conf, ws.NumTransfer, 0)
				kept := sel[:1]
				for _, j := range sel[1:] {
					if conf[j] < o.Threshold {
						// As Fast-dLLM: on the last step the first refusal adds a step
						// (steps grows, so later refusals of this step only carry over).
						if i == steps-1 {
							perStep = 0
							steps++
						}
						left++
						continue
					}
					kept = append(kept, j)
				}
				sel = kept
			default:
				if ws.NumTransfer == 0 {
					break
				}
				if sel, err = r.dreamPick(rows, conf, ws.NumTransfer, o.AlgTemp); err != nil {
					return err
				}
			}
			r.reveal(&ws, sel)
		}
		stop, err := r.step(ws)
		if err != nil || stop {
			return err
		}
	}
	return nil
}

// dreamPick chooses k of the rows by confidence: the k most confident, or with algTemp
// > 0 a draw (dreamDraw). It returns indices into rows in selection order.
func (r *wrun) dreamPick(rows []int, conf []float64, k int, algTemp float64) ([]int, error) {
	if algTemp > 0 {
		return r.dreamDraw(rows, conf, k, algTemp)
	}
	return lladaSelect(rows, conf, k, 0), nil
}

// reveal writes the selected candidates of ws (indices into its Candidates) into the
// canvas and records them as committed; a candidate that is the mask reveals nothing.
func (r *wrun) reveal(ws *WindowStep, sel []int) {
	for _, j := range sel {
		c := ws.Candidates[j]
		if c.Token == r.c.MaskID {
			continue // written back as a mask: nothing revealed
		}
		r.x[c.Pos] = c.Token
		ws.Committed = append(ws.Committed, c)
	}
}

// dreamDraw is the alg_temp branch: softmax(confidence/algTemp) over the canvas (−inf
// at unmasked positions) and k positions drawn without replacement. It returns indices
// into rows in draw order.
func (r *wrun) dreamDraw(rows []int, conf []float64, k int, algTemp float64) ([]int, error) {
	L := len(r.x)
	w := make([]float64, L)
	m := math.Inf(-1)
	for j := range rows {
		m = max(m, conf[j]/algTemp)
	}
	var sum float64
	for j, p := range rows {
		w[p] = math.Exp(conf[j]/algTemp - m)
		sum += w[p]
	}
	for j := range w {
		w[j] /= sum
	}
	at := make(map[int]int, len(rows))
	for j, p := range rows {
		at[p] = j
	}
	picks := r.src.Multinomial(w, k, make([]int, 0, k))
	sel := make([]int, 0, len(picks))
	seen := make(map[int]bool, len(picks))
	for _, p := range picks {
		j, ok := at[p]
		if !ok || seen[p] {
			return nil, fmt.Errorf("decode: random source drew position %d, not an unrevealed masked position", p)
		}
		seen[p] = true
		sel = append(sel, j)
	}
	if len(sel) != k {
		return nil, fmt.Errorf("decode: random source drew %d positions, want %d", len(sel), k)
	}
	return sel, nil
}

// DreamTimesteps is torch.linspace(1, eps, steps+1) in float32 as torch 2.x computes it
// on CPU: step = (eps − 1)/steps in float32; entries below the midpoint are
// fma(step, i, 1), the others fma(−step, steps−i, eps), each rounded once to float32 (the
// kernel is compiled with FMA contraction). Checked bit for bit against torch 2.5.1
// for up to 1025 entries, and against every Dream golden's recorded timesteps.
func DreamTimesteps(steps int, eps float64) []float32 {
	return torchLinspace32(1, float32(eps), steps+1)
}

func torchLinspace32(start, end float32, n int) []float32 {
	out := make([]float32, n)
	if n == 1 {
		out[0] = start
		return out
	}
	step := (end - start) / float32(n-1)
	for i := range out {
		if i < n/2 {
			out[i] = fma32(step, float32(i), start)
		} else {
			out[i] = fma32(-step, float32(n-i-1), end)
		}
	}
	return out
}

// fma32 is a·b + c rounded once to float32.
func fma32(a, b, c float32) float32 {
	x := new(big.Float).SetPrec(128).SetFloat64(float64(a))
	x.Mul(x, new(big.Float).SetFloat64(float64(b)))
	x.Add(x, new(big.Float).SetFloat64(float64(c)))
	f, _ := x.Float32()
	return f
}

// DreamTransferCount is how many positions a maskgit_plus / topk_margin / entropy step
// reveals: int(masked · (1 − s/t)) in float32, all of them on the last step.
func DreamTransferCount(masked int, t, s float32, last bool) int {
	if last {
		return masked
	}
	ratio := 1 - float32(s/t)
	return int(float32(float32(masked) * ratio))
}

// dreamSampler is Dream's sample_tokens for one row, in float64.
type dreamSampler struct {
	temp float64
	topP float64
	topK int
	z    []float64
	idx  []int
	heap []float64
}

var errSource = fmt.Errorf("decode: random source gave no token (replay exhausted?)")

// row returns the token and the confidence alg ranks by: the probability of the token
// (origin, maskgit_plus, confidence_threshold), top1 − top2 probability (topk_margin) or
// Σ p·log(p + 1e-10) (entropy). r is the row's index in its batched sampling call.
func (s *dreamSampler) row(logits []float32, src Source, r int, alg DreamAlg) (tok int, conf float64, err error) {
	V := len(logits)
	s.z = grow64(s.z, V)
	z := s.z
	for v, l := range logits {
		z[v] = float64(l)
		if s.temp > 0 {
			z[v] /= s.temp
		}
	}
	const removed = -math.MaxFloat64 // torch.finfo(float64).min
	if s.topP > 0 && s.topP < 1 {
		s.topPFilter(z, removed)
	}
	if s.topK > 0 && s.topK < V {
		kth := s.kthLargest(z, s.topK)
		for v := range z {
			if z[v] < kth {
				z[v] = removed
			}
		}
	}
	softmax64(z)
	if s.temp > 0 {
		tok = src.Categorical(z, r)
		if tok < 0 || tok >= V {
			return 0, 0, errSource
		}
	} else {
		tok = argmax64(z)
	}
	conf = z[tok]
	switch alg {
	case DreamTopKMargin:
		a, b := math.Inf(-1), math.Inf(-1)
		for _, p := range z {
			if p > a {
				a, b = p, a
			} else if p > b {
				b = p
			}
		}
		conf = a - b
	case DreamEntropy:
		conf = 0
		for _, p := range z {
			conf += p * math.Log(p+1e-10)
		}
	}
	return tok, conf, nil
}

// topPFilter is Dream's top_p_logits: in order of decreasing logit, drop every token
// whose preceding cumulative probability exceeds topP (the first is always kept). The
// order is produced lazily with a heap, so only the kept head is ranked.
func (s *dreamSampler) topPFilter(z []float64, removed float64) {
	V := len(z)
	if cap(s.idx) < V {
		s.idx = make([]int, V)
	}
	h := s.idx[:V]
	for i := range h {
		h[i] = i
	}
	// Max-heap on (z desc, index asc): torch.sort leaves ties unordered; this fixes one.
	less := func(a, b int) bool { return z[a] > z[b] || (z[a] == z[b] && a < b) }
	down := func(i, n int) {
		for {
			l, m := 2*i+1, i
			if l < n && less(h[l], h[m]) {
				m = l
			}
			if l+1 < n && less(h[l+1], h[m]) {
				m = l + 1
			}
			if m == i {
				return
			}
			h[i], h[m] = h[m], h[i]
			i = m
		}
	}
	for i := V/2 - 1; i >= 0; i-- {
		down(i, V)
	}
	m := z[h[0]]
	var sum float64
	for _, v := range z {
		sum += math.Exp(v - m)
	}
	var cum float64
	n := V
	for n > 0 {
		if n < V && cum > s.topP {
			break // h[:n] holds exactly the tokens not yet ranked: all removed
		}
		top := h[0]
		cum += math.Exp(z[top]-m) / sum
		n--
		h[0], h[n] = h[n], h[0]
		down(0, n)
	}
	for _, i := range h[:n] {
		z[i] = removed
	}
}

// kthLargest returns the k-th largest value of z (1 ≤ k ≤ len(z)) with a min-heap of k.
func (s *dreamSampler) kthLargest(z []float64, k int) float64 {
	h := s.heap[:0]
	down := func(i int) {
		for {
			l, m := 2*i+1, i
			if l < len(h) && h[l] < h[m] {
				m = l
			}
			if l+1 < len(h) && h[l+1] < h[m] {
				m = l + 1
			}
			if m == i {
				return
			}
			h[i], h[m] = h[m], h[i]
			i = m
		}
	}
	for _, v := range z {
		switch {
		case len(h) < k:
			h = append(h, v)
			for i := len(h) - 1; i > 0; {
				p := (i - 1) / 2
				if h[p] <= h[i] {
					break
				}
				h[p], h[i] = h[i], h[p]
				i = p
			}
		case v > h[0]:
			h[0] = v
			down(0)
		}
	}
	s.heap = h
	return h[0]
}

// softmax64 turns z into probabilities in place (exp(z − max) / Σ).
func softmax64(z []float64) {
	m := math.Inf(-1)
	for _, v := range z {
		m = max(m, v)
	}
	var sum float64
	for i, v := range z {
		z[i] = math.Exp(v - m)
		sum += z[i]
	}
	for i := range z {
		z[i] /= sum
	}
}
