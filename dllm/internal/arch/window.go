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
// The cache is only scratch here: whatever was committed is dropped, nothing is kept.
// The window must fit MaxRun (see NewWindowState).
func (s *State) Window(tokens []int32, rows []int, logits []float32) error {
	n := len(tokens)
	for _, r := range rows {
		if r < 0 || r >= n {
			return fmt.Errorf("%s: logits row %d outside the window of %d tokens", errPrefix(s.m.cfg.Family), r, n)
		}
	}
	src := rows
	if s.m.cfg.ShiftLogits {
		s.shifted = append(s.shifted[:0], rows...)
		for i, r := range s.shifted {
			s.shifted[i] = max(r-1, 0)
		}
		src = s.shifted
	}
	s.n = 0
	return s.Forward(tokens, 0, false, src, logits)
}
