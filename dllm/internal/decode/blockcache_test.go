package decode

import (
	"context"
	"errors"
	"slices"
	"testing"
)

// TestBlockCacheGoldens runs every LLaDA2.0 generation golden with the approximate
// block cache. Two settings must be exact, and are checked against the goldens trace for
// trace: a full forward at every step (Refresh 1), and a vicinity as long as the block
// (every partial step then runs every row, which ForwardPartial computes bit for bit as
// Forward does). The recommended setting (Vicinity 2, no refresh) is approximate: the
// test reports how many golden outputs it reproduces and how many output positions
// agree.
func TestBlockCacheGoldens(t *testing.T) {
	total, same, agree, positions := 0, 0, 0, 0
	rows, forwards := 0, 0
	for _, fx := range fixtures {
		m := fixtureModel(t, fx)
		for _, g := range loadGoldens(t, fx) {
			if g.Variant != "2.0" {
				continue
			}
			d := newDecoder(t, m)
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
			o := g.options()
			o.BlockCache, o.Vicinity = true, 2
			res, err := d.Generate(context.Background(), g.PromptIDs, o)
			if err != nil {
				t.Fatal(err)
			}
			total++
			if slices.Equal(res.Tokens, g.OutputIDs) {
				same++
			}
			n := max(len(res.Tokens), len(g.OutputIDs))
			for i := range min(len(res.Tokens), len(g.OutputIDs)) {
				if res.Tokens[i] == g.OutputIDs[i] {
					agree++
				}
			}
			positions += n
			rows += res.Stats.RowsComputed
			forwards += res.Stats.Forwards
			if res.Stats.RowsComputed > res.Stats.Forwards*o.BlockLength {
				t.Errorf("%s/%s: %d rows in %d forwards of %d", fx, g.Name, res.Stats.RowsComputed, res.Stats.Forwards, o.BlockLength)
			}
		}
	}
	t.Logf("block cache (vicinity 2): %d of %d LLaDA2.0 goldens' outputs token for token; %d of %d output positions agree (%.1f %%); %.1f rows per forward",
		same, total, agree, positions, 100*float64(agree)/float64(positions), float64(rows)/float64(forwards))
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
