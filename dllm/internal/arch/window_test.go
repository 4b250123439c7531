package arch

import (
	"math"
	"path/filepath"
	"testing"
)

// TestWindowShift: Window gives each listed row the decoding logits — for Dream, whose
// logits are shifted, row i gets the golden's raw row i−1 (row 0 its own); for LLaDA
// and LLaDA-MoE the raw row itself — in the order asked, within the golden tolerance.
func TestWindowShift(t *testing.T) {
	for _, fx := range familyFixtures {
		m := openModel(t, filepath.Join(familiesDir, fx.dir, "hf"))
		shift := fx.family == "dream" || fx.family == "rnd1"
		if m.Config().ShiftLogits != shift {
			t.Fatalf("%s: ShiftLogits %v", fx.family, m.Config().ShiftLogits)
		}
		g := loadGoldenAt(t, filepath.Join(familiesDir, fx.dir), fx.goldens[len(fx.goldens)-1])
		n, V := len(g.Tokens), g.Shape[1]
		rows := []int{n - 1, 0, 1, n / 2, 1}
		s, err := m.NewWindowState(n)
		if err != nil {
			t.Fatal(err)
		}
		out := make([]float32, len(rows)*V)
		for range 2 { // a second call sees no trace of the first
			if err := s.Window(g.Tokens, rows, out); err != nil {
				t.Fatal(err)
			}
			for i, r := range rows {
				src := r
				if shift && r > 0 {
					src = r - 1
				}
				var d float64
				for j := 0; j < V; j++ {
					d = max(d, math.Abs(float64(out[i*V+j]-g.Logits[src*V+j])))
				}
				if d > 1e-3 {
					t.Errorf("%s: row %d (raw row %d): max|diff| %g", fx.family, r, src, d)
				}
			}
		}
		if s.Len() != 0 {
			t.Errorf("%s: Window committed %d positions", fx.family, s.Len())
		}
		if err := s.Window(g.Tokens, []int{n}, out); err == nil {
			t.Errorf("%s: row %d of a %d-token window accepted", fx.family, n, n)
		}
	}
}

// TestWindowAllocs: a window re-run — the steady state of decoding a bidirectional
// family — allocates nothing in this package, for every family (separate projections,
// biases, the softmax router, the shifted rows).
func TestWindowAllocs(t *testing.T) {
	for _, fx := range familyFixtures {
		m := openModel(t, filepath.Join(familiesDir, fx.dir, "hf")).WithThreads(1)
		g := loadGoldenAt(t, filepath.Join(familiesDir, fx.dir), fx.goldens[len(fx.goldens)-1])
		s, err := m.NewWindowState(len(g.Tokens))
		if err != nil {
			t.Fatal(err)
		}
		rows := span(0, len(g.Tokens))
		out := make([]float32, len(rows)*m.Config().VocabSize)
		step := func() {
			if err := s.Window(g.Tokens, rows, out); err != nil {
				t.Fatal(err)
			}
		}
		step()
		for _, site := range allocSites(t, 5, step, "github.com/dllm-go/dllm/dllm/internal/arch.") {
			t.Errorf("%s: allocation in this package: %s", fx.family, site)
		}
		if n := testing.AllocsPerRun(5, step); n != 0 && !raceEnabled() {
			t.Errorf("%s: %.1f allocations per window forward, want 0", fx.family, n)
		}
	}
}
