package decode

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
)

// TestBlockCacheGoldens runs every LLaDA2.0 generation golden with the approximate
// block cache. Two settings must be exact, and are checked against the goldens trace for
// trace: a full forward at every step (Refresh 1), and a vicinity as long as the block
// (every partial step then runs every row, which ForwardPartial computes bit for bit as
// Forward does). The recommended setting (Vicinity 2, no refresh) is approximate: the
// test reports how many golden outputs it reproduces and how many output positions
// agree, and so do the decoding windows "window:12" and "window:4".
func TestBlockCacheGoldens(t *testing.T) {
	modes := []struct {
		name string
		mode BlockCacheMode
	}{{"block", BlockCacheMode{}}, {"window:12", BlockCacheMode{Window: 12}}, {"window:4", BlockCacheMode{Window: 4}}}
	type tally struct{ total, same, agree, positions, rows, forwards int }
	tallies := make([]tally, len(modes))
	eachV20Golden(t, func(fx string, g *genGolden, d *Decoder) {
		for _, c := range []struct{ refresh, vicinity int }{{1, 0}, {0, g.Params.BlockLength}} {
			o := g.options()
			o.BlockCache, o.Refresh, o.Vicinity = true, c.refresh, c.vicinity
			res, err := d.Generate(context.Background(), g.PromptIDs, o)
			if err != nil {
				t.Fatal(err)
			}
			if err := checkGolden(g, res); err != nil {
				t.Errorf("%s/%s refresh %d vicinity %d: %v", fx, g.Name, c.refresh, c.vicinity, err)
			}
			if c.refresh == 0 && res.Stats.Forwards > len(res.Blocks) && res.Stats.PartialForwards == 0 {
				t.Errorf("%s/%s: no partial forward in %d forwards over %d blocks", fx, g.Name, res.Stats.Forwards, len(res.Blocks))
			}
		}
		for k, m := range modes {
			o := g.options()
			m.mode.Apply(&o)
			res, err := d.Generate(context.Background(), g.PromptIDs, o)
			if err != nil {
				t.Fatal(err)
			}
			tl := &tallies[k]
			tl.total++
			if slices.Equal(res.Tokens, g.OutputIDs) {
				tl.same++
			}
			for i := range min(len(res.Tokens), len(g.OutputIDs)) {
				if res.Tokens[i] == g.OutputIDs[i] {
					tl.agree++
				}
			}
			tl.positions += max(len(res.Tokens), len(g.OutputIDs))
			tl.rows += res.Stats.RowsComputed
			tl.forwards += res.Stats.Forwards
			if res.Stats.RowsComputed > res.Stats.Forwards*o.BlockLength {
				t.Errorf("%s/%s %s: %d rows in %d forwards of %d", fx, g.Name, m.name, res.Stats.RowsComputed, res.Stats.Forwards, o.BlockLength)
			}
		}
	})
	for k, m := range modes {
		tl := tallies[k]
		t.Logf("%s: %d of %d LLaDA2.0 goldens' outputs token for token; %d of %d output positions agree (%.1f %%); %.1f rows per forward",
			m.name, tl.same, tl.total, tl.agree, tl.positions, 100*float64(tl.agree)/float64(tl.positions), float64(tl.rows)/float64(tl.forwards))
	}
}

// TestBlockCacheRefusals: the block cache decodes LLaDA2.0 with a cache only, on a
// model with a partial forward.
func TestBlockCacheRefusals(t *testing.T) {
	m := fixtureModel(t, "llada2-micro")
	g := loadGoldens(t, "llada2-micro")[0]
	d := newDecoder(t, m)
	for _, f := range []func(*Options){
		func(o *Options) { o.Variant, o.EditThreshold, o.NumToTransfer = V21, 0.5, 1 },
		func(o *Options) { o.NoCache = true },
		func(o *Options) { o.Refresh = -1 },
		func(o *Options) { o.Vicinity = -1 },
		func(o *Options) { o.Window = -1 },
		func(o *Options) { o.BlockCache, o.Window = false, 4 },
	} {
		o := g.options()
		o.BlockCache = true
		f(&o)
		if _, err := d.Generate(context.Background(), g.PromptIDs, o); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: %v, want ErrInvalid", o, err)
		}
	}
	o := g.options()
	o.BlockCache = true
	plain := New(fullOnly{d.m}, d.vocab, d.capacity, d.maxBlock)
	if _, err := plain.Generate(context.Background(), g.PromptIDs, o); !errors.Is(err, ErrInvalid) {
		t.Errorf("a model without a partial forward: %v, want ErrInvalid", err)
	}
}

// fullOnly hides a model's partial forward.
type fullOnly struct{ Model }

// runRecorder records, for every partial forward, the block's masked rows and those of
// them it ran.
type runRecorder struct {
	PartialModel
	maskID    int32
	masked    [][]int // block-relative
	maskedRun [][]int
}

func (r *runRecorder) ForwardPartial(tokens []int32, block int, run, rows []int, logits []float32) error {
	m, mr := []int{}, []int{}
	for i, t := range tokens {
		if t == r.maskID {
			m = append(m, i)
		}
	}
	for _, i := range run {
		if tokens[i] == r.maskID {
			mr = append(mr, i)
		}
	}
	r.masked, r.maskedRun = append(r.masked, m), append(r.maskedRun, mr)
	return r.PartialModel.ForwardPartial(tokens, block, run, rows, logits)
}

// TestBlockCacheWindow: a Window covering the whole block decodes exactly as the block
// cache without one; a small Window commits, at each step, only among the block's first
// Window masked positions (or the step's scheduled count, if larger) and, at a partial
// step, runs no masked row after them except within Vicinity of the previous step's
// commits.
func TestBlockCacheWindow(t *testing.T) {
	eachV20Golden(t, func(fx string, g *genGolden, d *Decoder) {
		o := g.options()
		BlockCacheMode{}.Apply(&o)
		want, err := d.Generate(context.Background(), g.PromptIDs, o)
		if err != nil {
			t.Fatal(err)
		}
		BlockCacheMode{Window: o.BlockLength}.Apply(&o)
		got, err := d.Generate(context.Background(), g.PromptIDs, o)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Tokens, want.Tokens) || got.Stats.RowsComputed != want.Stats.RowsComputed {
			t.Errorf("%s/%s: window = block length: %v in %d rows, block cache %v in %d", fx, g.Name,
				got.Tokens, got.Stats.RowsComputed, want.Tokens, want.Stats.RowsComputed)
		}

		const window = 3
		rec := &runRecorder{PartialModel: d.m.(PartialModel), maskID: o.MaskID}
		wd := New(rec, d.vocab, d.capacity, d.maxBlock)
		BlockCacheMode{Window: window}.Apply(&o)
		res, err := wd.Generate(context.Background(), g.PromptIDs, o)
		if err != nil {
			t.Fatal(err)
		}
		if res.Stats.PartialForwards == 0 && res.Stats.Forwards > len(res.Blocks) {
			t.Errorf("%s/%s: no partial forward", fx, g.Name)
		}
		partial := 0
		for k, ts := range res.Trace {
			// The step's candidates: the first max(window, scheduled) masks of the
			// block before the step, which the trace's commits let us rebuild.
			n := min(ts.Masked, max(window, ts.Scheduled))
			if ts.Above > n {
				t.Errorf("%s/%s block %d step %d: %d above the threshold among %d candidates", fx, g.Name, ts.Block, ts.Step, ts.Above, n)
			}
			if len(ts.Committed) > n {
				t.Errorf("%s/%s block %d step %d: %d commits from %d candidates", fx, g.Name, ts.Block, ts.Step, len(ts.Committed), n)
			}
			if ts.Step > 0 {
				if partial >= len(rec.masked) {
					t.Fatalf("%s/%s: %d partial forwards recorded, the trace has more", fx, g.Name, len(rec.masked))
				}
				// The candidates end at the n-th masked position before the step.
				start := ts.Block * o.BlockLength
				if len(rec.masked[partial]) != ts.Masked {
					t.Fatalf("%s/%s block %d step %d: %d masked rows, the trace says %d", fx, g.Name, ts.Block, ts.Step, len(rec.masked[partial]), ts.Masked)
				}
				last := rec.masked[partial][n-1]
				for _, i := range rec.maskedRun[partial] {
					if i > last && !nearCommit(res.Trace[k-1], start+i, o.Vicinity) {
						t.Errorf("%s/%s block %d step %d: a partial forward ran masked row %d, after the candidates (last %d) and not next to a commit", fx, g.Name, ts.Block, ts.Step, i, last)
					}
				}
				partial++
			}
		}
		if partial != len(rec.masked) {
			t.Errorf("%s/%s: %d partial forwards recorded, %d in the trace", fx, g.Name, len(rec.masked), partial)
		}
	})
}

// eachV20Golden runs fn on every LLaDA2.0 generation golden of every fixture, with a
// fresh decoder on the fixture's model.
func eachV20Golden(t *testing.T, fn func(fx string, g *genGolden, d *Decoder)) {
	for _, fx := range fixtures {
		m := fixtureModel(t, fx)
		for _, g := range loadGoldens(t, fx) {
			if g.Variant == "2.0" {
				fn(fx, g, newDecoder(t, m))
			}
		}
	}
}

// nearCommit reports whether position p is within v of a commit of step ts.
func nearCommit(ts TraceStep, p, v int) bool {
	for _, c := range ts.Committed {
		if p >= c.Pos-v && p <= c.Pos+v {
			return true
		}
	}
	return false
}

// TestParseBlockCache: the block cache's names and what they set.
func TestParseBlockCache(t *testing.T) {
	for _, c := range []struct {
		s    string
		want BlockCacheMode
		ok   bool
	}{
		{"block", BlockCacheMode{}, true},
		{"block:4", BlockCacheMode{Refresh: 4}, true},
		{"window:8", BlockCacheMode{Window: 8}, true},
		{"window:8:4", BlockCacheMode{Window: 8, Refresh: 4}, true},
		{"window:100", BlockCacheMode{}, false},
		{"block:0", BlockCacheMode{}, false},
		{"block:", BlockCacheMode{}, false},
		{"block:+4", BlockCacheMode{}, false},
		{"block:04", BlockCacheMode{}, false},
		{"window", BlockCacheMode{}, false},
		{"window:", BlockCacheMode{}, false},
		{"window:8:", BlockCacheMode{}, false},
		{"window:8:4:2", BlockCacheMode{}, false},
		{"window:x", BlockCacheMode{}, false},
		{"blocks", BlockCacheMode{}, false},
		{"dual", BlockCacheMode{}, false},
	} {
		got, ok := ParseBlockCache(c.s, 64)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("ParseBlockCache(%q) = %+v, %v; want %+v, %v", c.s, got, ok, c.want, c.ok)
		}
	}
	var o Options
	BlockCacheMode{Window: 8, Refresh: 2}.Apply(&o)
	if !o.BlockCache || o.Window != 8 || o.Refresh != 2 || o.Vicinity != BlockCacheVicinity {
		t.Errorf("Apply: %+v", o)
	}
}

// FuzzParseBlockCache: any string is read without a panic, and one that is accepted is
// the canonical name of the mode it gives, with every number in [1, max].
func FuzzParseBlockCache(f *testing.F) {
	for _, s := range []string{"block", "block:4", "window:8", "window:8:4", "window:0", "block:-1", "window:1:2:3", "window:99999999999999999999", "block:+1", "window: 4"} {
		f.Add(s)
	}
	const max = 64
	f.Fuzz(func(t *testing.T, s string) {
		m, ok := ParseBlockCache(s, max)
		if !ok {
			return
		}
		want := "block"
		switch {
		case m.Window > 0 && m.Refresh > 0:
			want = fmt.Sprintf("window:%d:%d", m.Window, m.Refresh)
		case m.Window > 0:
			want = fmt.Sprintf("window:%d", m.Window)
		case m.Refresh > 0:
			want = fmt.Sprintf("block:%d", m.Refresh)
		}
		if s != want || m.Window < 0 || m.Window > max || m.Refresh < 0 || m.Refresh > max {
			t.Fatalf("ParseBlockCache(%q) = %+v, whose name is %q", s, m, want)
		}
	})
}
