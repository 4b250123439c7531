package decode

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
)

// GenerateRND1 decodes one prompt with RND1's diffusion_sample (RadicalNumerics/RND1
// rnd/sampling.py, called as RND1GenerationMixin.generate calls it):
//
//   - the canvas is prompt + GenLength positions: masks, then Suffix, then one slot
//     reserved for the end holding PadID (EOSID with AddEOSAtEnd); only the masks are
//     ever written;
//   - each forward runs the whole canvas; the model returns shifted logits (position i
//     reads row i−1); for every position still to decode, in float64: z = logits /
//     max(Temperature, 1e-8), log-softmax, the token (argmax with Greedy, else drawn with
//     Source.Categorical), its log-probability and the entropy −Σ p·log p;
//   - steps s = Steps−1 … 1 use the scores of the latest forward: the
//     int(total·s/Steps) positions (float32, as torch; total is the initial number of
//     masks) with the highest entropy stay masked and every other takes its token; with
//     EntropyBounded, positions in order of increasing −log p(token) take their token
//     while the running entropy sum minus its running maximum is ≤ EBGamma; a forward
//     follows while anything is left; after the last step every position left takes its
//     token, so at most Steps forwards;
//   - ties (equal entropies, equal log-probabilities), which torch.topk and torch.sort
//     leave unspecified, go to the earlier position: it is revealed first. They are the
//     rule at Temperature 0 (clamped to 1e-8, every entropy is 0), where decoding then
//     runs left to right.
//
// A step that reveals nothing leaves the canvas as it was, so the next one reuses its
// logits instead of running the model again (Calls 0; tokens are drawn anew when not
// Greedy, as the official code's repeated forward would). A position whose token is the
// mask id keeps it and counts as decoded, as in the official code. Trace steps are one
// per forward of the official code: Masked the positions left before it, Candidates
// [position, token, log p(token)], Entropy, NumTransfer the schedule's count (-1 under
// EntropyBounded), Committed in position order. The error and Reason follow
// Decoder.Generate.
func (d *WindowDecoder) GenerateRND1(ctx context.Context, prompt []int32, o RND1Options) (WindowResult, error) {
	if err := o.validate(prompt, d.vocab, d.capacity); err != nil {
		return WindowResult{}, err
	}
	r := d.newRun(ctx, prompt, o.GenLength, &o.WindowCommon)
	end := len(r.x) - 1
	copy(r.x[end-len(o.Suffix):end], o.Suffix)
	r.x[end] = o.PadID
	if o.AddEOSAtEnd {
		r.x[end] = o.EOSID
	}
	r.open = make([]bool, len(r.x))
	for p := r.lp; p < end-len(o.Suffix); p++ {
		r.open[p] = true
	}
	return r.end(r.rnd1(&o))
}

func (r *wrun) rnd1(o *RND1Options) error {
	d, V := r.d, r.d.vocab
	total := 0
	for _, b := range r.open {
		if b {
			total++
		}
	}
	var rows, order []int
	var logits []float32
	changed := true // the canvas differs from the last forward's
	for f := 0; ; f++ {
		step := o.Steps - 1 - f // the official loop's step; ≤ 0: the final fill
		if changed {
			rows = rows[:0]
			for p, b := range r.open {
				if b {
					rows = append(rows, p)
				}
			}
		}
		n := len(rows)
		ws := WindowStep{Step: f, Masked: slices.Clone(rows), NumTransfer: -1}
		if changed {
			var err error
			if logits, err = r.forward(r.x, rows, &d.logits); err != nil {
				return err
			}
			ws.Calls = 1
		} else if err := r.alive(); err != nil {
			return err
		}
		ws.Candidates = make([]Commit, n)
		ws.Entropy = make([]float32, n)
		logp := make([]float64, n)
		ent := make([]float64, n)
		for j, p := range rows {
			tok, lp, h, err := r.rnd1Score(logits[j*V:(j+1)*V], o, j)
			if err != nil {
				return fmt.Errorf("decode: position %d: %w", p, err)
			}
			logp[j], ent[j] = lp, h
			ws.Candidates[j] = Commit{Pos: p, Token: int32(tok), Conf: float32(lp)}
			ws.Entropy[j] = float32(h)
		}
		order = order[:0]
		for j := range n {
			order = append(order, j)
		}
		var sel []int // indices into rows
		switch {
		case step <= 0:
			ws.NumTransfer = n
			sel = order
		case o.EntropyBounded:
			sel = ebSelect(order, logp, ent, o.EBGamma)
		default:
			keep := min(RND1Keep(total, step, o.Steps), n)
			ws.NumTransfer = n - keep
			// Highest entropy first, ties to the later position: those stay masked.
			slices.SortStableFunc(order, func(a, b int) int {
				if c := cmp.Compare(ent[b], ent[a]); c != 0 {
					return c
				}
				return b - a
			})
			sel = order[keep:]
		}
		slices.Sort(sel) // position order, as xt[to_unmask] = pred_i[to_unmask]
		for _, j := range sel {
			c := ws.Candidates[j]
			r.x[c.Pos] = c.Token
			r.open[c.Pos] = false
			ws.Committed = append(ws.Committed, c)
		}
		changed = len(sel) > 0
		stop, err := r.step(ws)
		if err != nil || stop || step <= 0 || len(sel) == n {
			return err
		}
	}
}

// ebSelect is eb_gamma's rule: order (indices into logp/ent) sorted by increasing
// −log p(token), ties to the earlier position, and the leading entries whose running
// entropy sum minus running maximum is ≤ gamma (counted as valid.sum() counts them).
func ebSelect(order []int, logp, ent []float64, gamma float64) []int {
	slices.SortStableFunc(order, func(a, b int) int {
		if c := cmp.Compare(logp[b], logp[a]); c != 0 {
			return c
		}
		return a - b
	})
	var acc, mx float64
	k := 0
	for i, j := range order {
		acc += ent[j]
		if i == 0 || ent[j] > mx {
			mx = ent[j]
		}
		if acc-mx <= gamma {
			k++
		}
	}
	return order[:k]
}

// RND1Keep is how many positions an RND1 step keeps masked: int(total·step/steps), the
// product taken in float32 as torch does for an int64 tensor times a Python float.
func RND1Keep(total, step, steps int) int {
	return int(float32(total) * float32(float64(step)/float64(steps)))
}

// rnd1Score is forward_scores for one row: the token, its log-probability and the
// entropy of softmax(logits/max(temperature, 1e-8)), in float64, with one exp per entry:
// with e = exp(z − max) and S = Σe, log p = z − max − log S and the entropy is
// log S − Σ e·(z − max)/S. Tokens of probability 0 add nothing to it (the official code
// agrees wherever the logits are finite; a −inf logit would make its entropy NaN).
// j is the row's index within the forward (Source.Categorical's row).
func (r *wrun) rnd1Score(logits []float32, o *RND1Options, j int) (tok int, logp, ent float64, err error) {
	d := r.d
	t := max(o.Temperature, 1e-8)
	d.row = grow64(d.row, len(logits))
	z := d.row
	m := math.Inf(-1)
	for v, l := range logits {
		z[v] = float64(l) / t
		if z[v] > m {
			m, tok = z[v], v // the first largest: torch.argmax
		}
	}
	if !o.Greedy {
		d.u64 = grow64(d.u64, len(z))
	}
	var s, w float64
	for v, x := range z {
		e := math.Exp(x - m)
		s += e
		if e > 0 {
			w += e * (x - m)
		}
		if !o.Greedy {
			d.u64[v] = e
		}
	}
	ls := math.Log(s)
	if math.IsNaN(m+ls) || math.IsInf(m+ls, 0) {
		return 0, 0, 0, fmt.Errorf("logits are not finite")
	}
	if !o.Greedy {
		for v := range d.u64 {
			d.u64[v] /= s
		}
		if tok = r.src.Categorical(d.u64, j); tok < 0 || tok >= len(z) {
			return 0, 0, 0, errSource
		}
	}
	return tok, z[tok] - m - ls, ls - w/s, nil
}
