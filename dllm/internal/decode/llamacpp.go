package decode

import (
	"cmp"
	"context"
	"math"
	"slices"
)

// LlamaCppSchedule is llama-diffusion-cli's transfer schedule.
type LlamaCppSchedule uint8

const (
	// LlamaCppTimestep: one pass over the canvas, (int)(masked · (1 − s/t)) per step with
	// llama.cpp's own float32 timesteps (--diffusion-eps).
	LlamaCppTimestep LlamaCppSchedule = iota
	// LlamaCppBlock: blocks of BlockLength after the prompt, Steps spread over a nominal
	// block count that includes the prompt ((prompt+GenLength)/BlockLength), each block's
	// masks spread over its steps as LLaDA's get_num_transfer_tokens
	// (--diffusion-block-length).
	LlamaCppBlock
)

// LlamaCppAlg is llama.cpp's --diffusion-algorithm.
type LlamaCppAlg uint8

const (
	LlamaCppOrigin     LlamaCppAlg = iota // 0: reveal with probability transfer/masked
	LlamaCppEntropy                       // 1: −Σ p log p, so the MOST uncertain first
	LlamaCppMargin                        // 2: p of the sampler list's first two entries
	LlamaCppRandom                        // 3: a uniform draw
	LlamaCppConfidence                    // 4: probability of the sampled token
)

// LlamaCppOptions parameterise the decoding loop of llama.cpp's diffusion-cli
// (examples/diffusion, llama.cpp de3ff815), which llama.cpp runs for LLaDA, LLaDA-MoE,
// Dream and RND1. It is not any family's published algorithm (shared/docs/peers.md
// §1.10); it exists to compare with llama.cpp.
//
// Reproduced exactly: the schedules, the step structure (a step per callback, blocks
// past the canvas included), the commit order (confidence descending, ties to the lower
// position), and the std::mt19937(seed) uniforms of origin and random (libstdc++'s
// uniform_real_distribution<float>). Token sampling is exact only when it is greedy,
// TopK == 1 (then every confidence of alg 4 is 1 and entropy 0); otherwise tokens come
// from Source.Categorical over llama.cpp's sampler chain (top-k, top-p, temperature,
// softmax), which is not llama.cpp's RNG.
type LlamaCppOptions struct {
	Schedule    LlamaCppSchedule
	Alg         LlamaCppAlg
	Steps       int
	GenLength   int // the canvas (n_ubatch) minus the prompt
	BlockLength int
	Eps         float32
	// Temperature > 0 adds llama.cpp's temperature sampler; 0 adds none (sampling is then
	// at T = 1 unless TopK is 1: llama.cpp is never greedy at temperature 0).
	Temperature float64
	TopK        int     // 0: no top-k sampler
	TopP        float64 // 1 (or 0): no top-p sampler

	// WindowCommon.Seed (its low 32 bits) seeds std::mt19937 for the origin / random
	// draws, as --seed does; Source (default NewTorchSource(Seed)) samples tokens when
	// TopK != 1.
	WindowCommon
}

func (o *LlamaCppOptions) validate(prompt []int32, vocab, capacity int) error {
	switch {
	case o.Schedule > LlamaCppBlock:
		return invalid("unknown llama.cpp schedule %d", o.Schedule)
	case o.Alg > LlamaCppConfidence:
		return invalid("unknown llama.cpp algorithm %d", o.Alg)
	case o.Steps <= 0:
		return invalid("steps %d must be > 0", o.Steps)
	case o.Schedule == LlamaCppTimestep && !(o.Eps > 0 && o.Eps < 1):
		return invalid("eps %v outside (0, 1)", o.Eps)
	case o.Schedule == LlamaCppBlock && o.BlockLength <= 0:
		return invalid("block length %d must be > 0", o.BlockLength)
	case o.Schedule == LlamaCppBlock && o.GenLength > 0 && (len(prompt)+o.GenLength)%o.BlockLength != 0:
		return invalid("prompt %d + generation length %d is not a multiple of the block length %d (llama.cpp asserts it)",
			len(prompt), o.GenLength, o.BlockLength)
	case o.Schedule == LlamaCppBlock && o.GenLength > 0 && o.Steps%((len(prompt)+o.GenLength)/o.BlockLength) != 0:
		return invalid("steps %d is not a multiple of the %d nominal blocks ((prompt + generation length) / block length)",
			o.Steps, (len(prompt)+o.GenLength)/o.BlockLength)
	case !finiteNonNeg(o.Temperature):
		return invalid("temperature %v must be a finite number >= 0", o.Temperature)
	case o.TopK < 0:
		return invalid("top-k %d must be >= 0", o.TopK)
	case math.IsNaN(o.TopP) || o.TopP < 0 || o.TopP > 1:
		return invalid("top-p %v outside [0, 1]", o.TopP)
	}
	return o.WindowCommon.validate(prompt, o.GenLength, vocab, capacity)
}

// GenerateLlamaCpp decodes one prompt as llama-diffusion-cli does (LlamaCppOptions).
// Steps that find no mask in their block skip the forward llama.cpp runs anyway.
func (d *WindowDecoder) GenerateLlamaCpp(ctx context.Context, prompt []int32, o LlamaCppOptions) (WindowResult, error) {
	if err := o.validate(prompt, d.vocab, d.capacity); err != nil {
		return WindowResult{}, err
	}
	r := d.newRun(ctx, prompt, o.GenLength, &o.WindowCommon)
	return r.end(r.llamacpp(&o))
}

// llamaUniform is libstdc++'s uniform_real_distribution<float>(0, 1) on std::mt19937:
// generate_canonical<float, 24> from one output, (float)a / 2^32, below 1.
func llamaUniform(g *MT19937) float32 {
	u := float32(g.Uint32()) / 0x1p32
	if u >= 1 {
		u = math.Nextafter32(1, 0)
	}
	return u
}

// LlamaCppTransferCount is calculate_transfer_count of the timestep schedule:
// t = 1 − step/total·(1 − eps), s likewise for step+1, (int)(masked · (1 − s/t)), the
// last step all; every operation rounded to float32 (llama.cpp compiles the examples
// without -march=native, so nothing is fused: checked on the binary that made the goldens).
func LlamaCppTransferCount(step, total, masked int, eps float32) int {
	if step >= total-1 {
		return masked
	}
	t := 1 - float32(float32(step)/float32(total)*(1-eps))
	s := 1 - float32(float32(step+1)/float32(total)*(1-eps))
	p := 1 - s/t
	return int(float32(masked) * p)
}

func (r *wrun) llamacpp(o *LlamaCppOptions) error {
	d, L, V := r.d, len(r.x), r.d.vocab
	g := NewMT19937(uint32(o.Seed))
	nb, spb := 1, o.Steps
	if o.Schedule == LlamaCppBlock {
		nb = L / o.BlockLength
		spb = o.Steps / nb
	}
	var masked []int
	var sched []int
	for b := range nb {
		start, end := 0, L
		if o.Schedule == LlamaCppBlock {
			start = min(r.lp+b*o.BlockLength, L)
			end = min(r.lp+(b+1)*o.BlockLength, L)
			sched = Schedule(len(r.masked(nil, start, end)), spb)
		}
		for step := range spb {
			masked = r.masked(masked, start, end)
			n := len(masked)
			ws := WindowStep{Block: b, Step: step, Masked: slices.Clone(masked), NumTransfer: -1}
			if n == 0 {
				// llama.cpp runs the forward, then leaves the block: nothing to do.
				if _, err := r.step(ws); err != nil {
					return err
				}
				break
			}
			k := 0
			if o.Schedule == LlamaCppBlock {
				k = sched[step] // the fallback for steps past the schedule cannot occur
			} else {
				k = LlamaCppTransferCount(step, spb, n, o.Eps)
			}
			rows := masked
			var ur []float32
			if o.Alg == LlamaCppOrigin {
				p := float32(k) / float32(n)
				ur = make([]float32, n)
				rows = nil
				for j := range ur {
					ur[j] = llamaUniform(g)
					if ur[j] < p {
						rows = append(rows, masked[j])
					}
				}
				ws.Rand = ur
			} else {
				ws.NumTransfer = k
			}
			if len(rows) > 0 {
				logits, err := r.forward(r.x, rows, &d.logits)
				if err != nil {
					return err
				}
				ws.Calls = 1
				conf := make([]float64, len(rows))
				ws.Candidates = make([]Commit, len(rows))
				for j, p := range rows {
					tok, pr, c, err := r.llamaSample(o, logits[j*V:(j+1)*V], j)
					if err != nil {
						return err
					}
					if o.Alg == LlamaCppRandom {
						c = float64(llamaUniform(g))
					} else if o.Alg != LlamaCppEntropy && o.Alg != LlamaCppMargin {
						c = pr
					}
					conf[j] = c
					ws.Candidates[j] = Commit{Pos: p, Token: int32(tok), Conf: float32(c)}
				}
				sel := make([]int, len(rows))
				for j := range sel {
					sel[j] = j
				}
				if o.Alg != LlamaCppOrigin {
					// std::partial_sort on (confidence desc, index asc), as float32.
					slices.SortFunc(sel, func(a, b int) int {
						if c := cmp.Compare(float32(conf[b]), float32(conf[a])); c != 0 {
							return c
						}
						return a - b
					})
					sel = sel[:min(k, len(sel))]
				}
				for _, j := range sel {
					c := ws.Candidates[j]
					r.x[c.Pos] = c.Token
					ws.Committed = append(ws.Committed, c)
				}
			}
			stop, err := r.step(ws)
			if err != nil || stop {
				return err
			}
		}
	}
	return nil
}

// llamaSample applies llama.cpp's sampler chain (top-k, top-p, temperature, dist) to one
// row: the token, its probability, and the entropy / margin confidences (alg 1 returns
// −Σ p log p; alg 2 the gap between the first two entries of the candidate list, which are
// the two most probable only when top-k or top-p sorted it).
func (r *wrun) llamaSample(o *LlamaCppOptions, logits []float32, row int) (tok int, p, conf float64, err error) {
	V := len(logits)
	d := r.d
	if o.TopK == 1 {
		tok = 0
		for v, l := range logits {
			if l > logits[tok] {
				tok = v
			}
		}
		switch o.Alg {
		case LlamaCppEntropy:
			return tok, 1, 0, nil
		default:
			return tok, 1, 1, nil
		}
	}
	type cand struct {
		id int
		z  float64
	}
	cs := make([]cand, V)
	for v, l := range logits {
		cs[v] = cand{v, float64(l)}
	}
	sorted := false
	if o.TopK > 0 && o.TopK < V {
		slices.SortStableFunc(cs, func(a, b cand) int { return cmp.Compare(b.z, a.z) })
		cs = cs[:o.TopK]
		sorted = true
	}
	probs := func() []float64 {
		ps := make([]float64, len(cs))
		m := math.Inf(-1)
		for _, c := range cs {
			m = max(m, c.z)
		}
		var s float64
		for i, c := range cs {
			ps[i] = math.Exp(c.z - m)
			s += ps[i]
		}
		for i := range ps {
			ps[i] /= s
		}
		return ps
	}
	if o.TopP > 0 && o.TopP < 1 {
		if !sorted {
			slices.SortStableFunc(cs, func(a, b cand) int { return cmp.Compare(b.z, a.z) })
			sorted = true
		}
		ps := probs()
		var cum float64
		keep := len(cs)
		for i, q := range ps {
			cum += q
			if cum >= o.TopP {
				keep = i + 1
				break
			}
		}
		cs = cs[:keep]
	}
	if o.Temperature > 0 {
		for i := range cs {
			cs[i].z /= o.Temperature
		}
	}
	ps := probs()
	d.row = grow64(d.row, len(ps))
	copy(d.row, ps)
	i := r.src.Categorical(d.row[:len(ps)], row)
	if i < 0 || i >= len(ps) {
		return 0, 0, 0, errSource
	}
	switch o.Alg {
	case LlamaCppEntropy:
		for _, q := range ps {
			conf -= q * math.Log(q+1e-10)
		}
	case LlamaCppMargin:
		conf = ps[0]
		if len(ps) > 1 {
			conf = ps[0] - ps[1]
		}
	}
	return cs[i].id, ps[i], conf, nil
}
