package decode

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"testing"
)

// RND1 goldens (testdata/families/rnd1/README.md): one model.generate call each, which
// runs rnd/sampling.py's diffusion_sample; a trace entry per forward.

func (g *famGolden) rnd1Options() RND1Options {
	o := RND1Options{
		Steps:       int(g.num("num_diffusion_steps", 0)),
		GenLength:   int(g.num("max_new_tokens", 0)),
		Suffix:      g.SuffixIDs,
		Temperature: g.num("temperature", 1),
		Greedy:      g.GenConfig["greedy"] == true,
		AddEOSAtEnd: g.GenConfig["add_eos_at_end"] == true,
		EOSID:       int32(g.num("eos_token_id", -1)),
		PadID:       int32(g.num("pad_token_id", -1)),
	}
	if g.Infill != nil { // generate: seq_len = prefix + infill_length + suffix
		o.GenLength = *g.Infill + len(g.SuffixIDs)
	}
	if _, ok := g.GenConfig["eb_gamma"]; ok {
		o.EntropyBounded, o.EBGamma = true, g.num("eb_gamma", 0)
	}
	o.MaskID = int32(g.num("mask_token_id", -1))
	o.Seed = g.seed()
	if !o.Greedy {
		o.Source = NewReplaySource(g.seed(), g.rnd1Replay(), nil)
	}
	return o
}

// rnd1Replay lists the tokens Categorical().sample() drew, in the order the decoder asks
// for them: per forward, the positions left in position order. Only the committed ones
// were recorded (and only they matter); the others get token 0.
func (g *famGolden) rnd1Replay() []int {
	var out []int
	for _, s := range g.Trace {
		for _, p := range s.Masked {
			tok := 0
			for _, c := range s.Committed {
				if int(c[0]) == p {
					tok = int(c[1])
				}
			}
			out = append(out, tok)
		}
	}
	return out
}

// compareRND1Step checks one RND1 step: the positions left, the commits (position
// order), the number kept masked, the entropies (schedule) or log-probabilities
// (entropy-bounded) within tol relative to 1 + |value|.
func compareRND1Step(s WindowStep, w *famTrace, tol float64) error {
	if !slices.Equal(s.Masked, w.Masked) {
		return fmt.Errorf("masked %v, want %v", s.Masked, w.Masked)
	}
	got := make([][2]int, len(s.Committed))
	for i, c := range s.Committed {
		got[i] = [2]int{c.Pos, int(c.Token)}
	}
	if want := w.committedOf(); !slices.Equal(got, want) {
		return fmt.Errorf("committed %v, want %v", got, want)
	}
	near := func(a, b float64) bool { return math.Abs(a-b) <= tol*(1+math.Abs(b)) }
	if k := w.KeepMaskedTopK; k != nil {
		if want := len(w.Masked) - min(k.K, len(w.Masked)); s.NumTransfer != want {
			return fmt.Errorf("num_transfer %d, want %d (keep %d)", s.NumTransfer, want, k.K)
		}
		for i, p := range s.Masked {
			want, ok := k.Entropy[strconv.Itoa(p)]
			if !ok || !near(float64(s.Entropy[i]), want) {
				return fmt.Errorf("entropy at %d: %v, want %v", p, s.Entropy[i], want)
			}
		}
	}
	if e := w.EBOrder; e != nil && len(e.Order) > 0 {
		if s.NumTransfer != -1 {
			return fmt.Errorf("num_transfer %d under eb_gamma", s.NumTransfer)
		}
		for i, p := range s.Masked {
			want, ok := e.NegLogprob[strconv.Itoa(p)]
			if !ok || !near(-float64(s.Candidates[i].Conf), want) {
				return fmt.Errorf("-log p at %d: %v, want %v", p, -s.Candidates[i].Conf, want)
			}
		}
	}
	return nil
}

// rnd1Replay is a WindowModel built from an RND1 golden's trace: for the canvas before
// each recorded forward, rows whose tempered distribution has the recorded token (the
// committed one, else token 0) on top and the recorded entropy (schedule), or the
// recorded −log p(token) and entropies chosen so that the entropy-bounded rule reveals
// exactly the recorded positions (the goldens do not record those entropies).
type rnd1ReplayModel struct {
	vocab    int
	temp     float64
	canvases [][]int32
	rows     []map[int][]float32 // per forward: position → logits
	from     int
}

func newRND1Replay(t testing.TB, g *famGolden, vocab int) *rnd1ReplayModel {
	t.Helper()
	o := g.rnd1Options()
	m := &rnd1ReplayModel{vocab: vocab, temp: max(o.Temperature, 1e-8)}
	x := slices.Clone(g.FinalCanvas)
	for _, s := range g.Trace {
		for _, p := range s.Masked {
			x[p] = o.MaskID
		}
		break
	}
	for _, s := range g.Trace {
		m.canvases = append(m.canvases, slices.Clone(x))
		tok := map[int]int{}
		for _, c := range s.Committed {
			tok[int(c[0])] = int(c[1])
		}
		rows := map[int][]float32{}
		switch {
		case s.KeepMaskedTopK != nil:
			for _, p := range s.Masked {
				h := s.KeepMaskedTopK.Entropy[strconv.Itoa(p)]
				rows[p] = m.row(tok[p], entropyTop(h, float64(vocab)), -1)
			}
		case s.EBOrder != nil && len(s.EBOrder.Order) > 0:
			ent, err := ebEntropies(s, float64(vocab), o.EBGamma)
			if err != nil {
				t.Fatalf("%s forward %d: %v", g.File, s.Forward, err)
			}
			for _, p := range s.Masked {
				lp := math.Exp(-s.EBOrder.NegLogprob[strconv.Itoa(p)])
				rows[p] = m.row(tok[p], lp, secondMass(lp, ent[p], float64(vocab)))
			}
		default: // nothing ranks: only the token matters
			for _, p := range s.Masked {
				rows[p] = m.row(tok[p], 0.9, -1)
			}
		}
		m.rows = append(m.rows, rows)
		for _, c := range s.Committed {
			x[int(c[0])] = int32(c[1])
		}
	}
	return m
}

// row returns logits whose softmax at the model's temperature puts p on tok, q on one
// other token (q < 0: the rest uniform) and the rest spread evenly.
func (m *rnd1ReplayModel) row(tok int, p, q float64) []float32 {
	V := m.vocab
	other := (tok + 1) % V
	if q < 0 {
		q = (1 - p) / float64(V-1)
	}
	rest := (1 - p - q) / float64(V-2)
	out := make([]float32, V)
	for v := range out {
		out[v] = float32(m.temp * math.Log(rest))
	}
	out[other] = float32(m.temp * math.Log(q))
	out[tok] = float32(m.temp * math.Log(p))
	return out
}

// entropy3 is the entropy of [p, q, rest…] over V entries.
func entropy3(p, q, V float64) float64 {
	r := (1 - p - q) / (V - 2)
	return -p*math.Log(p) - q*math.Log(q) - (V-2)*r*math.Log(r)
}

// entropyTop is the top probability p of [p, (1−p)/(V−1)…] whose entropy is h.
func entropyTop(h, V float64) float64 {
	lo, hi := 1/V, 1.0
	for range 200 {
		mid := (lo + hi) / 2
		if entropy3(mid, (1-mid)/(V-1), V) > h {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

// entropyRange is the entropy range of [p, q, rest…] with q between the uniform rest
// (largest entropy) and nearly all the rest on one token below p (smallest).
func entropyRange(p, V float64) (lo, hi float64) {
	return entropy3(p, qMax(p), V), entropy3(p, (1-p)/(V-1), V)
}

func qMax(p float64) float64 { return min(1-p, p) * (1 - 1e-6) }

// secondMass is the q of [p, q, rest…] whose entropy is h (within entropyRange).
func secondMass(p, h, V float64) float64 {
	lo, hi := (1-p)/(V-1), qMax(p) // entropy decreases from lo to hi
	for range 200 {
		mid := (lo + hi) / 2
		if entropy3(p, mid, V) > h {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

// ebEntropies picks entropies for one entropy-bounded step: the first k positions of
// the recorded order (k committed) as high in their ranges as the bound allows with a
// margin, the (k+1)-th just high enough to break it, so that exactly k pass and a
// slightly larger gamma would pass more.
func ebEntropies(s famTrace, V, gamma float64) (map[int]float64, error) {
	order, k := s.EBOrder.Order, len(s.Committed)
	lo := make([]float64, len(order))
	hi := make([]float64, len(order))
	for i, p := range order {
		lo[i], hi[i] = entropyRange(math.Exp(-s.EBOrder.NegLogprob[strconv.Itoa(p)]), V)
	}
	next := 1.0                             // where the (k+1)-th sits in its range
	f := func(lam float64, n int) float64 { // running sum − running max of the first n
		var acc, mx float64
		for i := range n {
			e := lo[i] + lam*(hi[i]-lo[i])
			if i == k {
				e = lo[i] + next*(hi[i]-lo[i])
			}
			acc += e
			mx = max(mx, e)
		}
		return acc - mx
	}
	const margin = 1e-4
	if f(0, k) > gamma-margin {
		return nil, fmt.Errorf("no entropies let the first %d of %v pass", k, order)
	}
	a, b := 0.0, 1.0
	if f(1, k) <= gamma-margin {
		a = 1
	} else {
		for range 100 {
			mid := (a + b) / 2
			if f(mid, k) <= gamma-margin {
				a = mid
			} else {
				b = mid
			}
		}
	}
	if k < len(order) {
		if f(a, k+1) <= gamma+margin {
			return nil, fmt.Errorf("no entropies stop the bound after %d of %v (%v)", k, order, f(a, k+1))
		}
		c, d := 0.0, 1.0
		for range 100 {
			next = (c + d) / 2
			if f(a, k+1) > gamma+margin {
				d = next
			} else {
				c = next
			}
		}
		next = d
	}
	out := map[int]float64{}
	for i, p := range order {
		out[p] = lo[i] + a*(hi[i]-lo[i])
		if i == k {
			out[p] = lo[i] + next*(hi[i]-lo[i])
		} else if i > k {
			out[p] = hi[i]
		}
	}
	return out, nil
}

func (m *rnd1ReplayModel) Window(tokens []int32, rows []int, logits []float32) error {
	for f := m.from; f < len(m.canvases); f++ {
		if !slices.Equal(m.canvases[f], tokens) {
			continue
		}
		m.from = f
		V := m.vocab
		for i, p := range rows {
			row, ok := m.rows[f][p]
			if !ok {
				return fmt.Errorf("replay: no recorded prediction for position %d at forward %d", p, f)
			}
			copy(logits[i*V:(i+1)*V], row)
		}
		return nil
	}
	return fmt.Errorf("replay: canvas matches no recorded forward from %d on", m.from)
}
