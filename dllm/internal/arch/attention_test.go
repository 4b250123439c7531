package arch

import (
	"path/filepath"
	"slices"
	"testing"
)

// TestAttendWaves: attention's tiling (groups and rows in waves when the scratch is
// short, tiles per thread, a wave's values copied in pieces of components) does not
// change a bit of the logits: a prompt and a block
// computed with the scratch cut down to one KV group, or to a few score rows, at 1, 2
// and 3 threads, give the logits of the default state.
func TestAttendWaves(t *testing.T) {
	base := openModel(t, filepath.Join(microDir, "hf"))
	tokens := loadGolden(t, "logits_long_block32").Tokens
	D, V := base.Config().HeadDim, base.Config().VocabSize
	Jp := padKeys(64) // the widest key range below
	logits := func(threads int, cut func(*State)) []float32 {
		t.Helper()
		s, err := base.WithThreads(threads).NewState(StateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		cut(s)
		out := make([]float32, 64*V)
		if err := s.Forward(tokens[:32], 32, true, span(0, 32), out[:32*V]); err != nil {
			t.Fatal(err)
		}
		if err := s.Forward(tokens[32:64], 32, false, span(0, 32), out[32*V:]); err != nil {
			t.Fatal(err)
		}
		return out
	}
	keep := func(*State) {}
	want := logits(2, keep)
	cases := []struct {
		name    string
		threads int
		cut     func(*State)
	}{
		{"1 thread", 1, keep},
		{"3 threads", 3, keep},
		{"values of one group at a time", 2, func(s *State) { s.vT = s.vT[:D*Jp] }},
		{"7 score rows at a time", 3, func(s *State) { s.scores = s.scores[:7*Jp] }},
		{"1 output row at a time", 2, func(s *State) { s.y = s.y[:D] }},
	}
	for _, c := range cases {
		if got := logits(c.threads, c.cut); !slices.Equal(got, want) {
			t.Errorf("%s: logits differ from the default state's", c.name)
		}
	}
}
