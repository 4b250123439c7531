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

// TestWindowCached: a cached forward over an unchanged canvas sees the same keys and
// values as the full window, so its rows equal Window's (prefix: the run to the end;
// dual: a block in the middle), shifted rows included, except Dream's first run row,
// which reads its own logits; after a change of the canvas in the run and a new Window,
// the cached run agrees again. It allocates nothing.
func TestWindowCached(t *testing.T) {
	for _, fx := range familyFixtures {
		m := openModel(t, filepath.Join(familiesDir, fx.dir, "hf")).WithThreads(1)
		shift := m.Config().ShiftLogits
		g := loadGoldenAt(t, filepath.Join(familiesDir, fx.dir), fx.goldens[len(fx.goldens)-1])
		n, V := len(g.Tokens), m.Config().VocabSize
		s, err := m.NewWindowState(n)
		if err != nil {
			t.Fatal(err)
		}
		toks := append([]int32(nil), g.Tokens...)
		if err := s.WindowCached(toks, 0, n, nil, nil); err == nil {
			t.Errorf("%s: cached forward before any Window accepted", fx.family)
		}
		full := make([]float32, n*V)
		if err := s.Window(toks, span(0, n), full); err != nil {
			t.Fatal(err)
		}
		for _, c := range [][2]int{{n / 2, n}, {n / 3, n/3 + 8}, {0, n}} {
			from, to := c[0], c[1]
			rows := span(from, to)
			out := make([]float32, len(rows)*V)
			if err := s.WindowCached(toks, from, to, rows, out); err != nil {
				t.Fatal(err)
			}
			for i, r := range rows {
				want := full[r*V : (r+1)*V]
				if shift && r == from && r > 0 {
					continue // its own row, not the one before
				}
				var d float64
				for j := range V {
					d = max(d, math.Abs(float64(out[i*V+j]-want[j])))
				}
				if d > 1e-4 {
					t.Errorf("%s: cached [%d,%d) row %d: max|diff| %g from the full window", fx.family, from, to, r, d)
				}
			}
		}
		if err := s.WindowCached(toks[:n-1], 0, n-1, nil, nil); err == nil {
			t.Errorf("%s: cached forward over a shorter canvas accepted", fx.family)
		}
		if err := s.WindowCached(toks, 4, 8, []int{8}, full); err == nil {
			t.Errorf("%s: row outside the cached run accepted", fx.family)
		}
		// Any other forward overwrites the kept K/V: cached forwards need a new Window.
		if err := s.Forward(toks[:8], 0, false, nil, nil); err != nil {
			t.Fatal(err)
		}
		if err := s.WindowCached(toks, 4, 8, nil, nil); err == nil {
			t.Errorf("%s: cached forward after a plain Forward accepted", fx.family)
		}
		if err := s.Window(toks, nil, nil); err != nil {
			t.Fatal(err)
		}
		// Change the canvas in the run: the run's own K/V follow, the kept ones do not.
		from := n / 2
		for p := from; p < n; p += 3 {
			toks[p] = (toks[p] + 7) % int32(V)
		}
		rows := span(from, n)
		out := make([]float32, len(rows)*V)
		step := func() {
			if err := s.WindowCached(toks, from, n, rows, out); err != nil {
				t.Fatal(err)
			}
		}
		step()
		if err := s.Window(toks, span(0, n), full); err != nil {
			t.Fatal(err)
		}
		step()
		var d float64
		for i, r := range rows[1:] {
			for j := range V {
				d = max(d, math.Abs(float64(out[(i+1)*V+j]-full[r*V+j])))
			}
		}
		if d > 1e-4 {
			t.Errorf("%s: prefix run after a full window of the same canvas: max|diff| %g", fx.family, d)
		}
		for _, site := range allocSites(t, 5, step, "github.com/dllm-go/dllm/dllm/internal/arch.") {
			t.Errorf("%s: allocation in this package: %s", fx.family, site)
		}
		if a := testing.AllocsPerRun(5, step); a != 0 && !raceEnabled() {
			t.Errorf("%s: %.1f allocations per cached forward, want 0", fx.family, a)
		}
	}
}
