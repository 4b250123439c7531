package decode

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
)

// replayModel is a WindowModel built from a golden's own trace: for the canvas before
// each recorded forward it returns, for every position the golden predicted there,
// logits that make the decoder predict the recorded token with the recorded confidence
// (exactly as far as float32 logits allow). Running the real decoders on it checks every
// recorded decision of the official code — schedules, transfer counts, rankings,
// thresholds, the random streams (MT19937 Gumbel noise, uniforms, replayed draws) and the
// driver loop — without the model.
type replayModel struct {
	g        *famGolden
	vocab    int
	canvases [][]int32                // canvas before each golden forward
	preds    []map[int]replayPred     // per forward: position → prediction
	noise    func(f, p int) []float64 // LLaDA Gumbel: the noise row of position p at step f
	from     int
	cfg      float64
	lp       int
	dream    bool
	alg      DreamAlg
	temp     float64
	topK     int
}

type replayPred struct {
	tok  int
	conf float64
}

func newReplayModel(t testing.TB, g *famGolden, vocab int) *replayModel {
	t.Helper()
	m := &replayModel{g: g, vocab: vocab, lp: len(g.PromptIDs), dream: g.dream()}
	x := slices.Clone(g.FinalCanvas)
	mask := int32(-1)
	if m.dream {
		o := g.dreamOptions()
		mask, m.alg, m.temp, m.topK = o.MaskID, o.Alg, o.Temperature, o.TopK
	} else {
		o := g.lladaOptions()
		mask, m.cfg, m.temp = o.MaskID, o.CFGScale, o.Temperature
		if o.Temperature > 0 {
			L, V := len(x), vocab
			per := 2 * L * V
			if o.Remasking == RandomRemasking {
				per += L
			}
			seed := g.seed()
			m.noise = func(f, p int) []float64 {
				mt := NewMT19937(uint32(seed))
				mt.Skip(f*per + 2*p*V)
				u := make([]float64, V)
				for i := range u {
					u[i] = mt.TorchFloat64()
				}
				return u
			}
		}
	}
	for p := len(g.PromptIDs); p < len(x); p++ {
		x[p] = mask
	}
	for _, s := range g.Trace {
		m.canvases = append(m.canvases, slices.Clone(x))
		pr := map[int]replayPred{}
		for _, c := range s.Candidates {
			pr[int(c[0])] = replayPred{int(c[1]), c[2]}
		}
		for _, sm := range s.Sampled {
			// Rows in increasing position order of the positions given to sample_tokens.
			pos := s.Masked
			if m.dream && m.alg == DreamOrigin {
				pos = originRows(g, s)
			}
			if g.cache() != CacheNone {
				if s.Kind == "full" {
					// The record is cut short: the one commit is the prediction used.
					for _, c := range s.Committed {
						pr[int(c[0])] = replayPred{int(c[1]), 0.5}
					}
					continue
				}
				pos = blockSampled(g, &s)
			}
			if len(pos) != sm.Rows {
				t.Fatalf("%s forward %d: %d sampled rows for %d positions", g.File, s.Forward, sm.Rows, len(pos))
			}
			for j, p := range pos {
				pr[p] = replayPred{sm.X0[j], sm.Confidence[j]}
			}
		}
		m.preds = append(m.preds, pr)
		for _, c := range s.Committed {
			x[int(c[0])] = int32(c[1])
		}
	}
	return m
}

// originRows are the positions Dream's origin step sampled: those whose uniform fell
// under p_transfer, which the decoder recomputes from the timesteps.
func originRows(g *famGolden, s famTrace) []int {
	ts := DreamTimesteps(int(g.num("steps", 0)), g.num("eps", 1e-3))
	i := s.Forward
	p := float32(1)
	if i < len(ts)-2 {
		p = 1 - ts[i+1]/ts[i]
	}
	var out []int
	for j, u := range s.Rand {
		if float32(u) < p {
			out = append(out, s.Masked[j])
		}
	}
	return out
}

func (m *replayModel) Window(tokens []int32, rows []int, logits []float32) error {
	uncond := m.cfg > 0 && m.lp > 0 && tokens[0] != m.g.PromptIDs[0]
	match := func(c []int32) bool {
		if uncond {
			return slices.Equal(c[m.lp:], tokens[m.lp:])
		}
		return slices.Equal(c, tokens)
	}
	for f := m.from; f < len(m.canvases); f++ {
		if !match(m.canvases[f]) {
			continue
		}
		m.from = f
		V := m.vocab
		for i, p := range rows {
			row := logits[i*V : (i+1)*V]
			pr, ok := m.pred(f, p)
			if !ok {
				return fmt.Errorf("replay: no recorded prediction for position %d at forward %d", p, f)
			}
			if uncond {
				clear(row) // guided logits = 0 + (s+1)·(cond − 0)
				continue
			}
			if err := m.fill(row, f, p, pr); err != nil {
				return err
			}
			if m.cfg > 0 {
				for v := range row {
					row[v] /= float32(m.cfg + 1)
				}
			}
		}
		return nil
	}
	return fmt.Errorf("replay: canvas matches no recorded forward from %d on", m.from)
}

// WindowCached checks that the decoder asks for the golden's cached forward (its kind
// and input), then answers as Window: the replay keys on the whole canvas.
func (m *replayModel) WindowCached(tokens []int32, from, to int, rows []int, logits []float32) error {
	if err := m.Window(tokens, rows, logits); err != nil {
		return err
	}
	w := m.g.Trace[m.from]
	kind := "prefix_cache_suffix"
	if to < len(tokens) || w.Kind == "dual_cache_block" && to == len(tokens) { // the last block: the same forward
		kind = "dual_cache_block"
	}
	if w.Kind != kind || !slices.Equal(w.Input, []int{from, to}) {
		return fmt.Errorf("replay: forward %d is %s over %v, the decoder ran %s over [%d %d]", m.from, w.Kind, w.Input, kind, from, to)
	}
	return nil
}

// pred finds the recorded prediction of p on this canvas (a later forward over the same
// canvas counts: the model is deterministic).
func (m *replayModel) pred(f, p int) (replayPred, bool) {
	for ; f < len(m.canvases); f++ {
		if !slices.Equal(m.canvases[f], m.canvases[m.from]) {
			break
		}
		if pr, ok := m.preds[f][p]; ok {
			return pr, true
		}
	}
	return replayPred{}, false
}

// fill writes logits for one position. One-parameter rows (z at the token, 0 elsewhere)
// give every confidence the decoders compute a monotone function of z, solved here; for
// LLaDA's Gumbel-max the other logits follow the noise so that the recorded token wins.
func (m *replayModel) fill(row []float32, f, p int, pr replayPred) error {
	V := float64(m.vocab)
	c := pr.conf
	if m.noise != nil { // LLaDA Gumbel-max
		if m.g.Params["remasking"] == "random" {
			c = 0.5 // the confidence is the uniform draw: any probability will do
		}
		u := m.noise(f, p)
		g := make([]float64, len(u))
		var sum float64
		for v := range u {
			g[v] = math.Pow(-math.Log(u[v]), m.temp)
			if v != pr.tok {
				sum += g[v]
			}
		}
		// exp(l_v) ∝ g_v for v ≠ tok, so every other Gumbel score ties at e^k, below
		// the token's: e^0/g_tok > e^k ⟺ g_tok·(1−c) < c·Σg.
		if g[pr.tok]*(1-c) >= c*sum*0.999 {
			return fmt.Errorf("replay: cannot make token %d win the Gumbel draw at position %d with confidence %g", pr.tok, p, c)
		}
		k := math.Log((1 - c) / (c * sum))
		for v := range row {
			row[v] = float32(math.Log(g[v]) + k)
		}
		row[pr.tok] = 0
		return nil
	}
	// With Dream's top-k (50 by default) only N tokens stay: the token, N−1 others at 0,
	// the rest far below (removed, or negligible without top-k).
	N := m.vocab
	if m.dream && m.topK > 0 && m.topK < N {
		N = m.topK
	}
	V = float64(N)
	var z float64
	switch {
	case !m.dream && m.g.Params["remasking"] == "random":
		z = 5 // the confidence is a uniform: only the argmax matters
	case m.dream && m.alg == DreamTopKMargin:
		// margin = (e^z − 1)/(e^z + V − 1)
		z = math.Log((1 + c*(V-1)) / (1 - c))
	case m.dream && m.alg == DreamEntropy:
		lo, hi := 0.0, 60.0
		for range 200 {
			mid := (lo + hi) / 2
			if negEntropy1(mid, V) < c {
				lo = mid
			} else {
				hi = mid
			}
		}
		z = (lo + hi) / 2
	default: // the probability of the token
		z = math.Log(c * (V - 1) / (1 - c))
	}
	if m.dream && m.temp > 0 {
		z *= m.temp
	}
	for v := range row {
		row[v] = -1e4
	}
	for v, k := 0, 0; k < N-1; v++ {
		if v != pr.tok {
			row[v] = 0
			k++
		}
	}
	row[pr.tok] = float32(z)
	return nil
}

// negEntropy1 is Σ p log(p + 1e-10) of softmax([z, 0, …, 0]) over V entries.
func negEntropy1(z, V float64) float64 {
	e := math.Exp(z)
	s := e + V - 1
	p1, p0 := e/s, 1/s
	return p1*math.Log(p1+1e-10) + (V-1)*p0*math.Log(p0+1e-10)
}

// TestFamilyGoldensReplay runs the decoders on every supported golden with the replay
// model: all recorded decisions must come out the same.
func TestFamilyGoldensReplay(t *testing.T) {
	total := 0
	for _, fx := range famFixtures {
		for _, g := range loadFamGoldens(t, fx) {
			name := fx + "/" + strings.TrimSuffix(g.File, ".json")
			t.Run(name, func(t *testing.T) {
				var m WindowModel
				if g.rnd1() {
					m = newRND1Replay(t, g, 1024)
				} else {
					m = newReplayModel(t, g, 1024)
				}
				res, err := g.run(m, 1024, nil)
				if err != nil {
					t.Fatal(err)
				}
				tol := 1e-5
				if g.Params["alg"] == "origin" && g.num("top_p", 0) > 0 {
					// origin never ranks: its rows here only carry the token, and top-p
					// changes the probability the one-parameter row was built for.
					tol = 1
				}
				if err := checkFamGolden(g, res, tol); err != nil {
					t.Fatal(err)
				}
				total++
			})
		}
	}
	t.Logf("%d goldens reproduced", total)
}
