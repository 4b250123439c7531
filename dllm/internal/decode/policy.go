package decode

import "slices"

// Schedule is the LLaDA2.0 transfer schedule: the minimum number of masks committed at
// each of `steps` steps of a block of `block` positions. The remainder of block/steps goes
// to the first steps, as in the reference (chatllm.cpp puts it last — a deviation), and the
// entries sum to block, so a block is always finished after `steps` forwards.
func Schedule(block, steps int) []int {
	s := make([]int, steps)
	base, rem := block/steps, block%steps
	for i := range s {
		s[i] = base
		if i < rem {
			s[i]++
		}
	}
	return s
}

// effectiveSteps applies the reference's clamp steps = min(steps, gen_length // minimal_topk).
func effectiveSteps(o *Options) int {
	return min(o.Steps, o.GenLength/o.MinimalTopK)
}

// pickTransfer is the mask→token rule shared by both variants. cand are the masked
// positions (any order), conf their confidences (same index). Every candidate whose
// confidence is strictly above tau is chosen if there are at least need of them;
// otherwise the min(need, len(cand)) most confident are (ties to the lower position,
// a deterministic stand-in for torch.topk's unspecified order). The chosen indices into
// cand are returned in increasing position order, with the count above tau and whether
// the fallback decided. out and order are scratch.
func pickTransfer(cand []int, conf []float32, tau float64, need int, out, order []int) (picked []int, above int, fallback bool) {
	out = out[:0]
	for i := range cand {
		if float64(conf[i]) > tau {
			out = append(out, i)
		}
	}
	above = len(out)
	if above >= need {
		slices.SortFunc(out, func(a, b int) int { return cand[a] - cand[b] })
		return out, above, false
	}
	order = order[:0]
	for i := range cand {
		order = append(order, i)
	}
	slices.SortFunc(order, func(a, b int) int {
		switch {
		case conf[a] > conf[b]:
			return -1
		case conf[a] < conf[b]:
			return 1
		}
		return cand[a] - cand[b]
	})
	k := min(need, len(cand))
	out = append(out[:0], order[:k]...)
	slices.SortFunc(out, func(a, b int) int { return cand[a] - cand[b] })
	return out, above, true
}
