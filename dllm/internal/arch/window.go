package arch

import "fmt"

// NewWindowState allocates a state for Window over up to n tokens: a run of n fits one
// pass, as bidirectional attention needs.
func (m *Model) NewWindowState(n int) (*State, error) {
	if n <= 0 {
		return nil, fmt.Errorf("%s: window of %d tokens, want > 0", errPrefix(m.cfg.Family), n)
	}
	return m.NewState(StateOptions{Capacity: n, MaxRun: n})
}

// Window runs one forward pass over tokens at absolute positions 0…len(tokens)-1, every
// position seeing every other, and writes len(rows)·vocab floats into logits: the
// decoding logits of the listed rows, in that order. They are the model's own logits
// except for families with shifted logits (Dream), where row i gets the raw logits of
// row i−1 (row 0 its own), as Dream's generate does. It implements decode.WindowModel.
//
// Nothing is committed, but the keys and values of every position stay in the cache
// until the next Window: WindowCached runs against them (Fast-dLLM's prefix and dual
// caches). The window must fit MaxRun (see NewWindowState).
func (s *State) Window(tokens []int32, rows []int, logits []float32) error {
	s.window = 0
	if err := s.windowRun(tokens, 0, len(tokens), rows, logits); err != nil {
		return err
	}
	s.window = len(tokens)
	return nil
}

// WindowCached is Fast-dLLM's approximate cached forward: it runs only tokens[from:to]
// (absolute positions from…to-1), whose queries see their own keys and values, freshly
// computed, and the ones the last Window left in the cache for every position outside
// [from, to). With to = len(tokens) it is the prefix cache (generate_with_prefix_cache:
// a forward over x[block_start:] with the prefix's past_key_values); with to <
// len(tokens) the dual cache (generate_with_dual_cache: the current block with
// replace_position, its keys replacing the cached ones). The kept K/V were computed
// over the canvas as it was then, so the logits differ from a full Window: it is an
// approximation, exact only at the positions the official code computes the same way.
//
// rows are absolute positions in [from, to); with shifted logits (Dream) row i reads the
// raw logits of row i−1 except row from, which reads its own (Dream's block sampler
// shifts the logits of the forward's input). tokens must be as long as the last Window's.
// The kept K/V of [from, to) are overwritten (replace_position does the same), the
// others stay.
func (s *State) WindowCached(tokens []int32, from, to int, rows []int, logits []float32) error {
	switch {
	case s.window == 0 || len(tokens) != s.window:
		return fmt.Errorf("%s: cached forward over %d tokens, the cache holds a window of %d (run Window first)",
			errPrefix(s.m.cfg.Family), len(tokens), s.window)
	case from < 0 || from >= to || to > len(tokens):
		return fmt.Errorf("%s: cached forward over [%d, %d) of a %d-token window", errPrefix(s.m.cfg.Family), from, to, len(tokens))
	}
	return s.windowRun(tokens, from, to, rows, logits)
}

// windowRun runs tokens[from:to] at their positions, attending to keys 0…len(tokens)-1
// (those outside the run from the cache), with rows absolute.
func (s *State) windowRun(tokens []int32, from, to int, rows []int, logits []float32) error {
	for _, r := range rows {
		if r < from || r >= to {
			return fmt.Errorf("%s: logits row %d outside the forward's positions [%d, %d)", errPrefix(s.m.cfg.Family), r, from, to)
		}
	}
	s.shifted = append(s.shifted[:0], rows...)
	for i, r := range s.shifted {
		if s.m.cfg.ShiftLogits {
			r = max(r-1, from)
		}
		s.shifted[i] = r - from
	}
	s.n = from
	s.keyEnd = len(tokens)
	w := s.window
	err := s.Forward(tokens[from:to], 0, false, s.shifted, logits)
	s.n, s.keyEnd, s.window = 0, 0, w
	return err
}
