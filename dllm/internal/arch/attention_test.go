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

// TestAttendScratch: at a short context a state holds the scores and transposed values
// of every KV group at once, so that a layer's attention runs in one wave (two pool
// calls); at a long one the budget bounds them, one group's values at least; and a
// state's scratch is what attentionScratch says.
func TestAttendScratch(t *testing.T) {
	cfg := MiniConfig(2)
	D, Nq, Nkv := cfg.HeadDim, cfg.NumHeads, cfg.NumKVHeads
	for _, c := range []struct {
		capacity, maxRun int
		scores, valuesT  int
	}{
		{96, 32, Nq * 32 * padKeys(96), Nkv * D * padKeys(96)},
		{4096, 512, scoreBudget, Nkv * D * padKeys(4096)},
		{32768, 512, scoreBudget, D * padKeys(32768)},
		{65536, 32, max(padKeys(65536), scoreBudget), D * padKeys(65536)},
	} {
		scores, valuesT := attentionScratch(D, Nq, Nkv, c.capacity, c.maxRun)
		if scores != c.scores || valuesT != c.valuesT {
			t.Errorf("capacity %d, runs of %d: %d scores and %d transposed values, want %d and %d", c.capacity, c.maxRun, scores, valuesT, c.scores, c.valuesT)
		}
	}
	m := openModel(t, filepath.Join(microDir, "hf"))
	mc := m.Config()
	s, err := m.NewState(StateOptions{Capacity: 96, MaxRun: 32})
	if err != nil {
		t.Fatal(err)
	}
	scores, valuesT := attentionScratch(mc.HeadDim, mc.NumHeads, mc.NumKVHeads, 96, 32)
	if len(s.scores) != scores || len(s.vT) != valuesT {
		t.Errorf("micro state: %d scores, %d transposed values; want %d and %d", len(s.scores), len(s.vT), scores, valuesT)
	}
}
