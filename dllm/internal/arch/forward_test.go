package arch

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dllm-go/dllm/dllm/internal/weights"
	"github.com/dllm-go/dllm/kernels"
)

func maxAbsDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var d float64
	for i := range a {
		x := math.Abs(float64(a[i] - b[i]))
		if x > d || math.IsNaN(x) {
			d = x
		}
	}
	return d
}

func span(a, b int) []int {
	r := make([]int, 0, b-a)
	for i := a; i < b; i++ {
		r = append(r, i)
	}
	return r
}

// genericKernels switches the kernels to the pure-Go reference for the rest of the test.
// Its matmul computes every output row with the same sequential dot product whatever the
// batch size, so two paths that feed a row the same inputs give the same bits; the SIMD
// kernels choose micro-kernels and K-chunking by batch size and tile, which moves a row's
// result by an ulp or two depending on how many rows were multiplied with it.
func genericKernels(t testing.TB) {
	restore, err := kernels.Use("generic")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(restore)
}

// TestCacheEqualsRecompute runs every block of a window the way the diffusion decoder
// does — prefill committed, the current block re-run without commit, then committed — and
// checks each block's logits against recomputing the whole window from position 0 with
// the block-causal mask, as the reference does. The two paths must agree to 1e-5 with
// the reference kernels and with the machine's SIMD kernels alike: a row of a matrix
// product has the same bits whatever the batch it is computed in, so the cache holds
// exactly the keys and values the recompute produces.
func TestCacheEqualsRecompute(t *testing.T) {
	t.Run("generic", func(t *testing.T) {
		genericKernels(t)
		testCacheEqualsRecompute(t, 1e-5, 1e-5)
	})
	t.Run("active", func(t *testing.T) { testCacheEqualsRecompute(t, 1e-5, 1e-5) })
}

func testCacheEqualsRecompute(t *testing.T, tol32, tol16 float64) {
	m := openModel(t, filepath.Join(microDir, "hf"))
	V := m.Config().VocabSize
	all := loadGolden(t, "logits_long_block32").Tokens // 70 tokens
	for _, kvf16 := range []bool{false, true} {
		for _, B := range []int{1, 8, 32} {
			tokens := all
			if B == 1 {
				tokens = all[:40] // one recompute per token: quadratic
			}
			cached, err := m.NewState(StateOptions{KVF16: kvf16})
			if err != nil {
				t.Fatal(err)
			}
			fresh, err := m.NewState(StateOptions{KVF16: kvf16, MaxRun: 64}) // recompute runs longer than MaxRun are split
			if err != nil {
				t.Fatal(err)
			}
			var worst float64
			for start := 0; start < len(tokens); start += B {
				end := min(len(tokens), start+B)
				rows := span(0, end-start)
				got := make([]float32, len(rows)*V)
				for rep := 0; rep < 2; rep++ { // re-running the block must not disturb the cache
					if err := cached.Forward(tokens[start:end], B, false, rows, got); err != nil {
						t.Fatal(err)
					}
				}
				if cached.Len() != start {
					t.Fatalf("non-committing forward moved Len to %d", cached.Len())
				}
				if err := fresh.Truncate(0); err != nil {
					t.Fatal(err)
				}
				want := make([]float32, len(rows)*V)
				if err := fresh.Forward(tokens[:end], B, false, span(start, end), want); err != nil {
					t.Fatal(err)
				}
				worst = max(worst, maxAbsDiff(got, want))
				commit := make([]float32, len(rows)*V)
				if err := cached.Forward(tokens[start:end], B, true, rows, commit); err != nil {
					t.Fatal(err)
				}
				if d := maxAbsDiff(commit, got); d != 0 {
					t.Errorf("B=%d block at %d: commit forward differs from the non-commit one by %g", B, start, d)
				}
			}
			t.Logf("kvf16=%v B=%d: cache vs recompute max|diff| %.3g", kvf16, B, worst)
			tol := tol32
			if kvf16 {
				tol = tol16
			}
			if worst > tol {
				t.Errorf("kvf16=%v B=%d: cache vs recompute max|diff| %g > %g", kvf16, B, worst, tol)
			}
		}
	}
}

// TestBlockwiseEqualsOneRun: committing block by block equals one run with the block mask
// (what `dllm logits --mask block:N` relies on), and a run split by a small MaxRun equals
// an unsplit one.
func TestBlockwiseEqualsOneRun(t *testing.T) {
	genericKernels(t)
	m := openModel(t, filepath.Join(microDir, "hf"))
	V := m.Config().VocabSize
	tokens := loadGolden(t, "logits_long_block32").Tokens
	const B = 8
	one := runAll(t, m, tokens, B)

	s, err := m.NewState(StateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	blockwise := make([]float32, len(tokens)*V)
	for start := 0; start < len(tokens); start += B {
		end := min(len(tokens), start+B)
		if err := s.Forward(tokens[start:end], B, true, span(0, end-start), blockwise[start*V:end*V]); err != nil {
			t.Fatal(err)
		}
	}
	if d := maxAbsDiff(one, blockwise); d > 1e-5 {
		t.Errorf("block by block vs one run: max|diff| %g", d)
	}

	split, err := m.NewState(StateOptions{MaxRun: 20})
	if err != nil {
		t.Fatal(err)
	}
	// Rows out of order and repeated, to exercise the batching of the LM head.
	rows := []int{69, 3, 4, 5, 17, 16, 0, 0, 40}
	got := make([]float32, len(rows)*V)
	if err := split.Forward(tokens, B, true, rows, got); err != nil {
		t.Fatal(err)
	}
	for k, r := range rows {
		if d := maxAbsDiff(got[k*V:(k+1)*V], one[r*V:(r+1)*V]); d > 1e-5 {
			t.Errorf("split run row %d: max|diff| %g", r, d)
		}
	}
	if split.Len() != len(tokens) {
		t.Errorf("Len after a split committed run = %d, want %d", split.Len(), len(tokens))
	}
}

// TestForwardErrors: bad input is an error that leaves the state usable, never a panic.
func TestForwardErrors(t *testing.T) {
	m := openModel(t, filepath.Join(microDir, "hf"))
	V := m.Config().VocabSize
	s, err := m.NewState(StateOptions{Capacity: 40, MaxRun: 16})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float32, V)
	cases := []struct {
		name   string
		tokens []int32
		block  int
		rows   []int
		logits []float32
		want   string
	}{
		{"token too large", []int32{1, int32(V)}, 8, nil, nil, "outside the vocabulary"},
		{"negative token", []int32{-1}, 8, nil, nil, "outside the vocabulary"},
		{"row outside run", []int32{1, 2}, 8, []int{2}, out, "outside the run"},
		{"short logits", []int32{1, 2}, 8, []int{0, 1}, out, "logits buffer"},
		{"capacity", make([]int32, 41), 8, nil, nil, "capacity"},
		{"bidirectional longer than MaxRun", make([]int32, 17), 0, nil, nil, "MaxRun"},
		{"block longer than MaxRun", make([]int32, 17), 32, nil, nil, "MaxRun"},
	}
	for _, c := range cases {
		err := s.Forward(c.tokens, c.block, true, c.rows, c.logits)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to mention %q", c.name, err, c.want)
		}
		if s.Len() != 0 {
			t.Fatalf("%s: failed forward changed Len to %d", c.name, s.Len())
		}
	}
	if err := s.Forward(make([]int32, 30), 8, true, nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Forward(make([]int32, 11), 8, false, nil, nil); err == nil {
		t.Error("run past the capacity accepted")
	}
	if err := s.Truncate(31); err == nil {
		t.Error("Truncate past Len accepted")
	}
	if err := s.Truncate(8); err != nil || s.Len() != 8 {
		t.Errorf("Truncate(8): %v, Len %d", err, s.Len())
	}
	if _, err := m.NewState(StateOptions{Capacity: m.Config().MaxPositionEmbeddings + 1}); err == nil {
		t.Error("capacity beyond max_position_embeddings accepted")
	}
}

// TestTruncateReuse: after Truncate, re-running a different suffix gives the same logits
// as a fresh state (chat prefix reuse).
func TestTruncateReuse(t *testing.T) {
	genericKernels(t)
	m := openModel(t, filepath.Join(microDir, "hf"))
	V := m.Config().VocabSize
	tokens := loadGolden(t, "logits_long_block32").Tokens
	s, err := m.NewState(StateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Forward(tokens[:64], 32, true, nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Truncate(32); err != nil {
		t.Fatal(err)
	}
	other := append(append([]int32{}, tokens[:32]...), tokens[38:70]...)
	got := make([]float32, 32*V)
	if err := s.Forward(other[32:], 32, true, span(0, 32), got); err != nil {
		t.Fatal(err)
	}
	want := runAll(t, m, other, 32)[32*V:]
	if d := maxAbsDiff(got, want); d > 1e-5 {
		t.Errorf("after Truncate: max|diff| %g", d)
	}
}

// TestConcurrentStates: many States may run on one Model at once (run with -race).
func TestConcurrentStates(t *testing.T) {
	m := openModel(t, filepath.Join(microDir, "hf"))
	tokens := loadGolden(t, "logits_medium_block8").Tokens
	want := runAll(t, m, tokens, 8)
	errs := make(chan error, 4)
	for g := 0; g < 4; g++ {
		go func() {
			s, err := m.NewState(StateOptions{KVF16: g%2 == 1})
			if err == nil {
				out := make([]float32, len(want))
				err = s.Forward(tokens, 8, true, span(0, len(tokens)), out)
				// An f16 cache rounds keys and values to half precision (~0.03 here).
				if d := maxAbsDiff(out, want); err == nil && d > []float64{0, 0.1}[g%2] {
					err = fmt.Errorf("goroutine %d: max|diff| %g", g, d)
				}
			}
			errs <- err
		}()
	}
	for g := 0; g < 4; g++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestSmallMaxRun: tiny MaxRun values (expert batches padded past MaxRun rows, runs
// split into many pieces) give the same logits as the default, on a model whose every
// layer is MoE (so expert batches are the widest FFN scratch users).
func TestSmallMaxRun(t *testing.T) {
	genericKernels(t)
	cfg := smallConfig()
	cfg.FirstKDenseReplace, cfg.NumExpertsPerTok = 0, 4
	path := filepath.Join(t.TempDir(), "m")
	if err := WriteSyntheticSafetensors(path, SynthOptions{Config: cfg, DType: weights.BF16, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	m := openModel(t, path)
	V := m.Config().VocabSize
	tokens := []int32{7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 9, 9, 9, 9, 9, 9, 9, 9}
	want := runAll(t, m, tokens, 1)
	for maxRun := 1; maxRun <= 8; maxRun++ {
		s, err := m.NewState(StateOptions{MaxRun: maxRun})
		if err != nil {
			t.Fatal(err)
		}
		got := make([]float32, len(tokens)*V)
		if err := s.Forward(tokens, 1, true, span(0, len(tokens)), got); err != nil {
			t.Fatalf("MaxRun %d: %v", maxRun, err)
		}
		if d := maxAbsDiff(got, want); d > 1e-5 {
			t.Errorf("MaxRun %d: max|diff| %g", maxRun, d)
		}
	}
}

// TestRandomSessions drives States through random sequences of block runs, commits and
// truncations (block-aligned, as a decoder does) and checks every logits row against a
// recompute of the whole window on a fresh state.
func TestRandomSessions(t *testing.T) {
	genericKernels(t)
	m := openModel(t, filepath.Join(microDir, "hf"))
	V := m.Config().VocabSize
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 6; trial++ {
		B := []int{1, 4, 8}[trial%3]
		s, err := m.NewState(StateOptions{Capacity: 200, MaxRun: []int{512, 9}[trial/3], KVF16: false})
		if err != nil {
			t.Fatal(err)
		}
		var committed []int32
		for op := 0; op < 25; op++ {
			if rng.IntN(5) == 0 {
				n := rng.IntN(len(committed)/B+1) * B
				if err := s.Truncate(n); err != nil {
					t.Fatal(err)
				}
				committed = committed[:n]
				continue
			}
			L := (1 + rng.IntN(3)) * B
			commit := rng.IntN(2) == 0
			if !commit && B > 1 && rng.IntN(2) == 0 {
				L -= rng.IntN(B) // a partial last block
			}
			if len(committed)+L > 200 {
				break
			}
			run := make([]int32, L)
			for i := range run {
				run[i] = int32(rng.IntN(V))
			}
			var rows []int
			for i := 0; i < L; i++ {
				if rng.IntN(3) == 0 {
					rows = append(rows, i)
				}
			}
			got := make([]float32, len(rows)*V)
			if err := s.Forward(run, B, commit, rows, got); err != nil {
				t.Fatal(err)
			}
			window := append(append([]int32{}, committed...), run...)
			ref := runAll(t, m, window, B)
			for k, r := range rows {
				p := len(committed) + r
				if d := maxAbsDiff(got[k*V:(k+1)*V], ref[p*V:(p+1)*V]); d > 1e-5 {
					t.Fatalf("trial %d op %d (B=%d, position %d): max|diff| %g", trial, op, B, p, d)
				}
			}
			if commit {
				committed = window
			}
			if s.Len() != len(committed) {
				t.Fatalf("Len %d, want %d", s.Len(), len(committed))
			}
		}
	}
}

// TestModelLogits: Model.Logits in every mask mode equals one Forward over the input.
func TestModelLogits(t *testing.T) {
	genericKernels(t)
	m := openModel(t, filepath.Join(microDir, "hf"))
	tokens := loadGolden(t, "logits_long_block32").Tokens
	for _, mask := range []string{"block:32", "block:8", "causal", "bidir"} {
		block, err := ParseMask(mask)
		if err != nil {
			t.Fatal(err)
		}
		got, err := m.Logits(tokens, block)
		if err != nil {
			t.Fatal(err)
		}
		if d := maxAbsDiff(got, runAll(t, m, tokens, block)); d > 1e-5 {
			t.Errorf("%s: max|diff| %g", mask, d)
		}
	}
	// A block at least as long as the input is one bidirectional block, however large
	// the number written: buffers follow the input, not the mask's number.
	want, err := m.Logits(tokens, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, mask := range []string{"block:" + strconv.Itoa(len(tokens)), "block:2147483648", "block:9223372036854775807"} {
		block, err := ParseMask(mask)
		if err != nil {
			t.Fatal(err)
		}
		got, err := m.Logits(tokens, block)
		if err != nil {
			t.Fatalf("%s: %v", mask, err)
		}
		if d := maxAbsDiff(got, want); d > 1e-5 {
			t.Errorf("%s: max|diff| %g from bidir", mask, d)
		}
	}
	for _, bad := range []string{"block:0", "block:-2", "blocks:8", "", "causal ", "block:9223372036854775808"} {
		if _, err := ParseMask(bad); err == nil {
			t.Errorf("ParseMask(%q) accepted", bad)
		}
	}
	if _, err := m.Logits(nil, 8); err == nil {
		t.Error("no tokens accepted")
	}
}
