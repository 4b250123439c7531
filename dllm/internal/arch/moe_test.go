package arch

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/dllm-go/dllm/dllm/internal/weights"
	"github.com/dllm-go/dllm/kernels"
)

// TestMoEThreadsBitIdentical: the routed experts run in parallel across experts (those
// with the most rows first, in pieces of rows where one has more than a thread's share)
// and are combined in expert order, so a block forward gives the same bits whatever the
// number of threads, however the active experts are split into waves and their rows
// into pieces.
func TestMoEThreadsBitIdentical(t *testing.T) {
	tiny := tinyGGUF(t, weights.Q8_0, 1)
	for name, path := range map[string]string{"micro": filepath.Join(microDir, "hf"), "tiny-q8_0": tiny} {
		t.Run(name, func(t *testing.T) {
			m := openModel(t, path)
			V := m.Config().VocabSize
			tokens := make([]int32, 64)
			for i := range tokens {
				tokens[i] = int32(i * 997 % (V - 8))
			}
			rows := span(0, 32)
			run := func(threads int, minWaves bool) []float32 {
				s, err := m.WithThreads(threads).NewState(StateOptions{Capacity: 64, MaxRun: 32})
				if err != nil {
					t.Fatal(err)
				}
				if minWaves {
					s.expRows = s.maxRun + 3 // the smallest wave that holds any one expert
				}
				if err := s.Forward(tokens[:32], 32, true, nil, nil); err != nil {
					t.Fatal(err)
				}
				out := make([]float32, 32*V)
				if err := s.Forward(tokens[32:], 32, false, rows, out); err != nil {
					t.Fatal(err)
				}
				return out
			}
			want := run(1, false)
			defer func(f func(int, int) int) { pieceRows = f }(pieceRows)
			shared := pieceRows
			for _, piece := range []int{0, 8, 4} { // the threads' shares, then small pieces
				pieceRows = func(routed, threads int) int {
					if piece == 0 || threads == 1 {
						return shared(routed, threads)
					}
					return piece
				}
				for _, threads := range []int{1, 2, 3} {
					for _, minWaves := range []bool{false, true} {
						got := run(threads, minWaves)
						for i := range want {
							if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
								t.Fatalf("threads=%d minWaves=%v pieces of %d: logit %d = %v, want %v (1 thread)",
									threads, minWaves, piece, i, got[i], want[i])
							}
						}
					}
				}
			}
		})
	}
}

// TestPadRows: an expert's remainder of 3 rows (beyond a multiple of 4) is padded to 4
// where its kernels take the remainder one row at a time, and left as it is where they
// take it in one pass (the repacked kernels); 1 or 2 rows are never padded.
func TestPadRows(t *testing.T) {
	m, err := kernels.NewMatrix(kernels.Q4_K, 16, 256, make([]byte, 16*144))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		w    kernels.Matrix
		name string
		want [8]int // padRows(0…7)
	}{
		{m.Plain(), "plain", [8]int{0, 1, 2, 4, 4, 5, 6, 8}},
		{m, "as loaded", [8]int{0, 1, 2, 4, 4, 5, 6, 8}},
	} {
		if c.name == "as loaded" && m.OnePassTail() {
			c.want = [8]int{0, 1, 2, 3, 4, 5, 6, 7}
		}
		for rows, want := range c.want {
			if got := padRows(rows, c.w); got != want {
				t.Errorf("%s (one-pass tail %v): padRows(%d) = %d, want %d", c.name, c.w.OnePassTail(), rows, got, want)
			}
		}
	}
}
