package decode

import (
	"context"
	"math"
	"slices"
)

// GenerateLLaDA decodes one prompt with ML-GSAI's generate() (LLaDA, LLaDA-MoE), or
// with Fast-dLLM's threshold variant when o.Threshold > 0:
//
//   - the canvas is prompt + GenLength masks; blocks of BlockLength follow the prompt;
//     Steps/blocks steps per block, the block's masks spread over them by
//     get_num_transfer_tokens (Schedule: the remainder to the first steps);
//   - each step runs the whole canvas (and, with CFGScale > 0, the canvas with the prompt
//     masked), predicts x0 (argmax, or Gumbel-max in float64 at Temperature > 0),
//     scores the masked positions of the current block (low_confidence: softmax
//     probability of x0; random: a uniform draw), and commits the top NumTransfer in
//     top-k order; positions after the block are never candidates;
//   - randomness is drawn exactly as torch does (a [canvas, vocab] float64 noise tensor per
//     step, a [canvas] float32 tensor for random remasking), so NewTorchSource(seed)
//     reproduces torch.manual_seed(seed) runs.
//
// A step whose schedule asks for nothing skips its forward (its draws are still taken).
// The error and Reason follow Decoder.Generate.
func (d *WindowDecoder) GenerateLLaDA(ctx context.Context, prompt []int32, o LLaDAOptions) (WindowResult, error) {
	if err := o.validate(prompt, d.vocab, d.capacity); err != nil {
		return WindowResult{}, err
	}
	if err := d.cacheable(o.Cache); err != nil {
		return WindowResult{}, err
	}
	r := d.newRun(ctx, prompt, o.GenLength, &o.WindowCommon)
	return r.end(r.llada(&o))
}

func (r *wrun) llada(o *LLaDAOptions) error {
	nb := o.GenLength / o.BlockLength
	spb := o.Steps / nb
	var un []int32
	if o.CFGScale > 0 {
		un = make([]int32, len(r.x))
	}
	var masked []int
	for b := range nb {
		start := r.lp + b*o.BlockLength
		end := start + o.BlockLength
		sched := Schedule(len(r.masked(nil, start, end)), spb)
		for i := 0; ; i++ {
			masked = r.masked(masked, start, end)
			k := len(masked)
			if o.Threshold > 0 || o.Cache != CacheNone {
				// Fast-dLLM: until the block has no mask (the cache functions also with
				// the step schedule, which empties the block in its last step).
				if k == 0 || o.Threshold <= 0 && i == spb {
					break
				}
				if o.Threshold <= 0 {
					k = sched[i]
				}
			} else {
				if i == spb {
					break
				}
				k = sched[i]
			}
			ws, err := r.lladaStep(o, b, i, masked, k, un)
			if err != nil {
				return err
			}
			stop, err := r.step(ws)
			if err != nil || stop {
				return err
			}
		}
	}
	return nil
}

// lladaStep runs one step over the masked positions of the current block and commits.
//
// In a cache mode the forward covers [from, to) of the canvas (Fast-dLLM: the noise and
// uniform tensors are the shape of that forward's logits), and a prefix-cache step after
// the block's first draws one noise tensor more, unused, as generate_with_prefix_cache
// does.
func (r *wrun) lladaStep(o *LLaDAOptions, b, i int, masked []int, k int, un []int32) (WindowStep, error) {
	d := r.d
	V, n := d.vocab, len(masked)
	ws := WindowStep{Block: b, Step: i, Masked: slices.Clone(masked), NumTransfer: k}
	from, to := 0, len(r.x)
	if o.Cache != CacheNone {
		start := r.lp + b*o.BlockLength
		from, to, ws.Kind = r.cacheSpan(o.Cache, i, start, start+o.BlockLength)
		ws.Input = [2]int{from, to}
	}
	L := to - from
	if o.Threshold > 0 {
		ws.NumTransfer = -1
	}
	if k == 0 || n == 0 {
		// Nothing can change: skip the forward, keep the random stream in step.
		if o.Temperature > 0 {
			r.src.Skip64(L * V)
		}
		if o.Remasking == RandomRemasking {
			r.src.Uniform32(make([]float32, L))
		}
		return ws, nil
	}
	var logits []float32
	var err error
	if from == 0 && to == len(r.x) {
		logits, err = r.forward(r.x, masked, &d.logits)
	} else {
		logits, err = r.forwardCached(from, to, masked, &d.logits)
		if o.Cache == CachePrefix && o.Temperature > 0 {
			r.src.Skip64(L * V)
		}
	}
	if err != nil {
		return ws, err
	}
	ws.Calls = 1
	var ulogits []float32
	if o.CFGScale > 0 {
		copy(un, r.x)
		for p := range r.lp {
			un[p] = r.c.MaskID
		}
		if ulogits, err = r.forward(un, masked, &d.ulogits); err != nil {
			return ws, err
		}
		ws.Calls = 2
	}
	tok := make([]int32, n)
	conf := make([]float64, n)
	d.row = grow64(d.row, V)
	if o.Temperature > 0 {
		d.u64 = grow64(d.u64, V)
	}
	next := from // the canvas row whose noise comes next
	for j, p := range masked {
		z, c := d.row, logits[j*V:(j+1)*V]
		if ulogits != nil {
			u, s := ulogits[j*V:(j+1)*V], o.CFGScale+1
			for v := range z {
				z[v] = float64(u[v]) + s*(float64(c[v])-float64(u[v]))
			}
		} else {
			for v := range z {
				z[v] = float64(c[v])
			}
		}
		if o.Temperature > 0 {
			r.src.Skip64((p - next) * V)
			r.src.Uniform64(d.u64)
			next = p + 1
			tok[j] = int32(gumbelArgmax(z, d.u64, o.Temperature))
		} else {
			tok[j] = int32(argmax64(z))
		}
		if o.Remasking == LowConfidence {
			conf[j] = softmaxProb(z, int(tok[j]))
		}
	}
	if o.Temperature > 0 {
		r.src.Skip64((to - next) * V)
	}
	if o.Remasking == RandomRemasking {
		u := make([]float32, L)
		r.src.Uniform32(u)
		for j, p := range masked {
			conf[j] = float64(u[p-from])
		}
	}
	ws.Candidates = make([]Commit, n)
	for j, p := range masked {
		ws.Candidates[j] = Commit{Pos: p, Token: tok[j], Conf: float32(conf[j])}
	}
	for _, j := range lladaSelect(masked, conf, k, o.Threshold) {
		r.x[masked[j]] = tok[j]
		ws.Committed = append(ws.Committed, ws.Candidates[j])
	}
	return ws, nil
}

// lladaSelect returns the indices (into pos/conf) of the positions a step commits, in
// top-k order: the k most confident, or with threshold > 0 (Fast-dLLM) the most confident
// and every other one whose confidence is >= threshold.
func lladaSelect(pos []int, conf []float64, k int, threshold float64) []int {
	order := make([]int, len(pos))
	for j := range order {
		order[j] = j
	}
	rankOrder(order, pos, conf)
	if threshold > 0 {
		k = 1
		for k < len(order) && conf[order[k]] >= threshold {
			k++
		}
	}
	return order[:min(k, len(order))]
}

// gumbelArgmax is ML-GSAI's add_gumbel_noise + argmax in float64:
// argmax exp(z) / (−log u)^temperature.
func gumbelArgmax(z, u []float64, temperature float64) int {
	score := func(v int) float64 {
		g := -math.Log(u[v])
		if temperature != 1 {
			g = math.Pow(g, temperature)
		}
		return math.Exp(z[v]) / g
	}
	best, bestScore := 0, score(0)
	for v := 1; v < len(z); v++ {
		if s := score(v); s > bestScore {
			best, bestScore = v, s
		}
	}
	return best
}
