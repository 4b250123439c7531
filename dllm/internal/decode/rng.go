package decode

import "math"

// MT19937 is the 32-bit Mersenne Twister with Matsumoto and Nishimura's init_genrand
// seeding: the generator behind torch's CPU default generator (torch.manual_seed),
// numpy.random.RandomState and C++ std::mt19937.
type MT19937 struct {
	mt [mtN]uint32
	i  int
}

const (
	mtN = 624
	mtM = 397
)

// NewMT19937 seeds a generator with init_genrand(seed). torch.manual_seed keeps the low
// 32 bits of its 64-bit seed, and so does the caller of this function.
func NewMT19937(seed uint32) *MT19937 {
	g := &MT19937{i: mtN}
	g.mt[0] = seed
	for j := 1; j < mtN; j++ {
		p := g.mt[j-1]
		g.mt[j] = 1812433253*(p^(p>>30)) + uint32(j)
	}
	return g
}

func (g *MT19937) twist() {
	const upper, lower, matrixA = 0x80000000, 0x7fffffff, 0x9908b0df
	mt := &g.mt
	for k := 0; k < mtN; k++ {
		y := mt[k]&upper | mt[(k+1)%mtN]&lower
		v := mt[(k+mtM)%mtN] ^ y>>1
		if y&1 != 0 {
			v ^= matrixA
		}
		mt[k] = v
	}
	g.i = 0
}

// Uint32 returns the next 32-bit output.
func (g *MT19937) Uint32() uint32 {
	if g.i >= mtN {
		g.twist()
	}
	y := g.mt[g.i]
	g.i++
	y ^= y >> 11
	y ^= y << 7 & 0x9d2c5680
	y ^= y << 15 & 0xefc60000
	y ^= y >> 18
	return y
}

// Skip discards the next n outputs (without tempering them).
func (g *MT19937) Skip(n int) {
	for n > 0 {
		if g.i >= mtN {
			g.twist()
		}
		k := min(n, mtN-g.i)
		g.i += k
		n -= k
	}
}

// TorchFloat64 is torch's CPU float64 uniform in [0, 1): two outputs a then b,
// ((a<<32 | b) & (2^53-1)) · 2^-53.
func (g *MT19937) TorchFloat64() float64 {
	a, b := uint64(g.Uint32()), uint64(g.Uint32())
	return float64((a<<32|b)&(1<<53-1)) * 0x1p-53
}

// TorchFloat32 is torch's CPU float32 uniform in [0, 1): one output a,
// (a & (2^24-1)) · 2^-24.
func (g *MT19937) TorchFloat32() float32 {
	return float32(g.Uint32()&(1<<24-1)) * 0x1p-24
}

// Source is the randomness of one generation of the bidirectional families. The
// decoders ask for exactly the draws, in exactly the order, that the official Python
// code makes from torch's generator, so a torch-compatible Source reproduces a seeded
// official run:
//
//   - Uniform64: torch.rand_like(…, dtype=float64) of LLaDA's Gumbel noise, one value per
//     canvas position and vocabulary entry, row-major; Skip64 passes over rows nobody reads.
//   - Uniform32: torch.rand(…) float32, LLaDA's `random` remasking and Dream's `origin`
//     transfer test, one per position.
//   - Categorical: Dream's dists.Categorical(probs).sample() (torch.multinomial, one
//     sample per row), called row by row; row is the row's index within one batched
//     call, so row 0 starts a call.
//   - Multinomial: Dream's torch.multinomial(weights, k) without replacement (alg_temp).
//
// Categorical and Multinomial return an index of p / w, or -1 if the source has none
// to give (a replay that ran out); the decoder then fails.
type Source interface {
	Uniform64(u []float64)
	Skip64(n int)
	Uniform32(u []float32)
	Categorical(p []float64, row int) int
	Multinomial(w []float64, k int, out []int) []int
}

// TorchSource draws uniforms exactly as torch's CPU generator does after
// torch.manual_seed(seed). torch.multinomial cannot be reproduced outside torch (on CPU
// it draws from MKL's generator), so Categorical and Multinomial are dllm's own: an
// inverse-CDF draw per row (Categorical) or per pick (Multinomial, renormalised over what
// is left) from one float64 uniform of the same stream. A seed therefore reproduces
// LLaDA's seeded generate and Dream's `origin` at temperature 0 bit for bit, and every
// other seeded run identically within dllm, but not torch's sampled tokens.
type TorchSource struct{ g *MT19937 }

// NewTorchSource is the source of torch.manual_seed(seed) (low 32 bits, as torch).
func NewTorchSource(seed uint64) *TorchSource {
	return &TorchSource{g: NewMT19937(uint32(seed))}
}

// Uniform64 fills u with torch float64 uniforms.
func (s *TorchSource) Uniform64(u []float64) {
	for i := range u {
		u[i] = s.g.TorchFloat64()
	}
}

// Skip64 passes over n float64 uniforms.
func (s *TorchSource) Skip64(n int) { s.g.Skip(2 * n) }

// Uniform32 fills u with torch float32 uniforms.
func (s *TorchSource) Uniform32(u []float32) {
	for i := range u {
		u[i] = s.g.TorchFloat32()
	}
}

// Categorical draws an index with probability proportional to p[i].
func (s *TorchSource) Categorical(p []float64, _ int) int {
	return inverseCDF(p, s.g.TorchFloat64(), nil)
}

// Multinomial draws k distinct indices, each with probability proportional to its
// weight among those not yet drawn; fewer if fewer have a positive weight.
func (s *TorchSource) Multinomial(w []float64, k int, out []int) []int {
	out = out[:0]
	taken := make([]bool, len(w))
	for range k {
		i := inverseCDF(w, s.g.TorchFloat64(), taken)
		if i < 0 {
			break
		}
		taken[i] = true
		out = append(out, i)
	}
	return out
}

// inverseCDF returns the index where u·Σp falls in the running sum of the positive,
// finite weights not taken, or -1 if there is none.
func inverseCDF(p []float64, u float64, taken []bool) int {
	var total float64
	last := -1
	for i, q := range p {
		if q > 0 && !math.IsInf(q, 0) && (taken == nil || !taken[i]) {
			total += q
			last = i
		}
	}
	if last < 0 {
		return -1
	}
	x := u * total
	var acc float64
	for i, q := range p {
		if q > 0 && !math.IsInf(q, 0) && (taken == nil || !taken[i]) {
			acc += q
			if x < acc {
				return i
			}
		}
	}
	return last // rounding at the very end
}

// ReplaySource reproduces a recorded torch run: uniforms from the seed as TorchSource
// does, and the outcomes of torch.multinomial replayed from a record (the Dream goldens'
// sampled tokens and alg_temp picks), in call order. Each non-empty torch.multinomial
// call also takes SeedOutputs 32-bit outputs from the generator (its 64-bit seed for
// exponential_: 2 for float64 probabilities, 1 for float32), so later uniforms stay in
// step with torch.
type ReplaySource struct {
	g           *MT19937
	Tokens      []int // Categorical outcomes, row after row, call after call
	Picks       []int // Multinomial outcomes, call after call
	SeedOutputs int
}

// NewReplaySource replays tokens and picks on top of the seeded uniforms, with
// SeedOutputs 2 (the float64 goldens).
func NewReplaySource(seed uint64, tokens, picks []int) *ReplaySource {
	return &ReplaySource{g: NewMT19937(uint32(seed)), Tokens: tokens, Picks: picks, SeedOutputs: 2}
}

// Uniform64 fills u with torch float64 uniforms.
func (s *ReplaySource) Uniform64(u []float64) {
	for i := range u {
		u[i] = s.g.TorchFloat64()
	}
}

// Skip64 passes over n float64 uniforms.
func (s *ReplaySource) Skip64(n int) { s.g.Skip(2 * n) }

// Uniform32 fills u with torch float32 uniforms.
func (s *ReplaySource) Uniform32(u []float32) {
	for i := range u {
		u[i] = s.g.TorchFloat32()
	}
}

// Categorical returns the next recorded token.
func (s *ReplaySource) Categorical(p []float64, row int) int {
	if row == 0 {
		s.g.Skip(s.SeedOutputs)
	}
	if len(s.Tokens) == 0 {
		return -1
	}
	t := s.Tokens[0]
	s.Tokens = s.Tokens[1:]
	if t < 0 || t >= len(p) {
		return -1
	}
	return t
}

// Multinomial returns the next k recorded picks.
func (s *ReplaySource) Multinomial(w []float64, k int, out []int) []int {
	out = out[:0]
	if k <= 0 {
		return out
	}
	s.g.Skip(s.SeedOutputs)
	for range k {
		if len(s.Picks) == 0 {
			return append(out, -1)
		}
		i := s.Picks[0]
		s.Picks = s.Picks[1:]
		if i < 0 || i >= len(w) {
			i = -1
		}
		out = append(out, i)
	}
	return out
}
