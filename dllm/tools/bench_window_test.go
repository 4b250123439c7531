package tools

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"
)

func TestAgreement(t *testing.T) {
	for _, c := range []struct {
		a, b []int32
		want float64
	}{
		{nil, nil, 1},
		{[]int32{1, 2, 3}, []int32{1, 2, 3}, 1},
		{[]int32{1, 2, 3, 4}, []int32{1, 0, 3, 0}, 0.5},
		{[]int32{1, 2}, []int32{1, 2, 3, 4}, 0.5}, // missing positions disagree
		{[]int32{5}, nil, 0},
	} {
		if got := Agreement(c.a, c.b); got != c.want {
			t.Errorf("Agreement(%v, %v) = %v, want %v", c.a, c.b, got, c.want)
		}
		if got := Agreement(c.b, c.a); got != c.want {
			t.Errorf("Agreement(%v, %v) = %v, want %v (symmetric)", c.b, c.a, got, c.want)
		}
	}
}

// TestBenchWindow: on every bidirectional family fixture Bench measures the
// whole-window forward (prompt + whole blocks of masks) instead of the block forwards
// and prefill, and, except for RND1 (no cache mode), the fast comparison: exact, prefix,
// dual, each with its forwards, tokens per forward = generated ÷ forwards, exact's
// speed-up and agreement exactly 1, the others' agreement in [0, 1]; the result survives
// a JSON round trip. Nothing here is timed against anything.
func TestBenchWindow(t *testing.T) {
	for _, fx := range []string{"llada", "llada-moe", "dream", "rnd1"} {
		m := loadModel(t, filepath.Join(familiesDir, fx, "hf"))
		r, err := Bench(context.Background(), m, BenchOptions{Reps: 1, Warmup: -1, BlockLength: 8, GenTokens: 12})
		if err != nil {
			t.Fatalf("%s: %v", fx, err)
		}
		w := r.Window
		if w == nil || w.GenTokens != 16 || w.PromptTokens <= 0 || w.Tokens != w.PromptTokens+16 || w.Reps != 1 || w.FLOPs <= 0 {
			t.Fatalf("%s: window %+v", fx, w)
		}
		checkOpTimes(t, fx+" window", w.BenchWork)
		if r.BlockForward.Reps != 0 || len(r.Prefill) != 0 || r.Decode != nil || r.Layers != 2 {
			t.Errorf("%s: block-forward figures for a window family: %+v", fx, r)
		}
		if fx == "rnd1" {
			if r.Fast != nil {
				t.Errorf("rnd1: fast comparison %+v", r.Fast)
			}
			continue
		}
		f := r.Fast
		if f == nil || f.GenTokens != 16 || f.PromptTokens != w.PromptTokens || f.Decoder == "" || len(f.Modes) != 3 {
			t.Fatalf("%s: fast %+v", fx, f)
		}
		for i, want := range []string{"exact", "prefix", "dual"} {
			md := f.Modes[i]
			if md.Mode != want || md.Forwards <= 0 || md.Tokens != 16 || md.Reps != 1 || md.MedianSec <= 0 || md.Speedup <= 0 {
				t.Errorf("%s: mode %d %+v", fx, i, md)
			}
			if md.TokensPerForward != 16/float64(md.Forwards) || md.Agreement < 0 || md.Agreement > 1 {
				t.Errorf("%s: %s: %+v", fx, want, md)
			}
		}
		if e := f.Modes[0]; e.Agreement != 1 || e.Speedup != 1 {
			t.Errorf("%s: exact against itself: agreement %v, speed-up %v", fx, e.Agreement, e.Speedup)
		}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var back BenchResult
		if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(&back, r) {
			t.Fatalf("%s: JSON round trip: %v", fx, err)
		}
	}
}
