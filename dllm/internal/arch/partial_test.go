package arch

import (
	"math"
	"path/filepath"
	"slices"
	"testing"
)

// TestForwardPartial: the in-block cached forward of the LLaDA2 block cache. Over every
// row it is Forward bit for bit; over a subset with nothing changed it gives the full
// forward's logits; a changed token moves its own row's logits but the kept rows' K/V
// stay; it needs a kept run of the same geometry; it allocates nothing.
func TestForwardPartial(t *testing.T) {
	m := openModel(t, filepath.Join(microDir, "hf")).WithThreads(2)
	V := m.Config().VocabSize
	tokens := loadGolden(t, "logits_long_block32").Tokens
	s, err := m.NewState(StateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Forward(tokens[:32], 32, true, nil, nil); err != nil {
		t.Fatal(err)
	}
	blk := slices.Clone(tokens[32:64])
	all := span(0, 32)
	if err := s.ForwardPartial(blk, 32, all, nil, nil); err == nil {
		t.Error("partial forward without a kept run accepted")
	}
	full := make([]float32, 32*V)
	if err := s.Forward(blk, 32, false, all, full); err != nil {
		t.Fatal(err)
	}
	out := make([]float32, 32*V)
	if err := s.ForwardPartial(blk, 32, all, all, out); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(out, full) {
		t.Error("partial forward over every row differs from Forward")
	}
	maxDiff := func(a, b []float32) (d float64) {
		for i := range a {
			d = max(d, math.Abs(float64(a[i]-b[i])))
		}
		return d
	}
	sub := []int{1, 5, 6, 20, 31}
	rows := []int{31, 5}
	part := make([]float32, len(rows)*V)
	step := func() {
		if err := s.ForwardPartial(blk, 32, sub, rows, part); err != nil {
			t.Fatal(err)
		}
	}
	step()
	for i, r := range rows {
		if d := maxDiff(part[i*V:(i+1)*V], full[r*V:(r+1)*V]); d > 1e-4 {
			t.Errorf("row %d of a partial forward over an unchanged block: max|diff| %g from Forward", r, d)
		}
	}
	for _, site := range allocSites(t, 5, step, "github.com/dllm-go/dllm/dllm/internal/arch.") {
		t.Errorf("allocation in this package: %s", site)
	}
	if a := testing.AllocsPerRun(5, step); a != 0 && !raceEnabled() {
		t.Errorf("%.1f allocations per partial forward, want 0", a)
	}
	// Change a kept position: the partial forward does not see it (its K/V are kept),
	// the full one does.
	blk[10] = (blk[10] + 3) % int32(V)
	step()
	for i, r := range rows {
		if d := maxDiff(part[i*V:(i+1)*V], full[r*V:(r+1)*V]); d > 1e-4 {
			t.Errorf("row %d: a change outside the partial run moved its logits by %g", r, d)
		}
	}
	// Running it refreshes its K/V: the rows now see the change.
	if err := s.ForwardPartial(blk, 32, []int{5, 10, 31}, nil, nil); err != nil {
		t.Fatal(err)
	}
	step()
	if d := maxDiff(part[:V], full[31*V:32*V]); d == 0 {
		t.Error("row 31 did not see the refreshed K/V of position 10")
	}
	for _, bad := range []struct {
		run, rows []int
	}{{nil, nil}, {[]int{3, 2}, nil}, {[]int{32}, nil}, {[]int{1, 2}, []int{3}}} {
		if err := s.ForwardPartial(blk, 32, bad.run, bad.rows, out); err == nil {
			t.Errorf("run %v rows %v accepted", bad.run, bad.rows)
		}
	}
	if err := s.ForwardPartial(blk[:31], 32, []int{0}, nil, nil); err == nil {
		t.Error("partial forward over a shorter run accepted")
	}
	if err := s.Forward(blk, 32, true, nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.ForwardPartial(blk, 32, []int{0}, nil, nil); err == nil {
		t.Error("partial forward after a commit accepted")
	}
}
