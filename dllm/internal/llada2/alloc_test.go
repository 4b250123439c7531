package llada2

import (
	"path/filepath"
	"testing"

	"github.com/dllm-go/dllm/kernels"
)

// TestForwardAllocs: the steady state of diffusion decoding — the same block re-run
// against a fixed cache — must not allocate. This package allocates nothing per forward;
// if the kernels' matmul itself allocates (the pure-Go reference does, per tile and per
// pool dispatch), the figure is logged instead of failed, since it is not ours to fix.
func TestForwardAllocs(t *testing.T) {
	m := openModel(t, filepath.Join(microDir, "hf"))
	V := m.Config().VocabSize
	tokens := loadGolden(t, "logits_long_block32").Tokens
	for _, threads := range []int{1, 2} {
		mt := m.WithThreads(threads)
		probe := matMulAllocs(mt.pool)
		s, err := mt.NewState(StateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Forward(tokens[:32], 32, true, nil, nil); err != nil {
			t.Fatal(err)
		}
		rows := span(0, 32)
		out := make([]float32, 32*V)
		allocs := testing.AllocsPerRun(20, func() {
			if err := s.Forward(tokens[32:64], 32, false, rows, out); err != nil {
				t.Fatal(err)
			}
		})
		t.Logf("threads=%d: %.1f allocations per 32-token block forward (kernels MatMul alone: %.1f per call)", threads, allocs, probe)
		if probe == 0 && allocs != 0 {
			t.Errorf("threads=%d: %.1f allocations per forward, want 0", threads, allocs)
		}
	}
}

// matMulAllocs measures the allocations of one small bf16 and one f32 matmul.
func matMulAllocs(p *kernels.Pool) float64 {
	x := make([]float32, 4*64)
	y := make([]float32, 4*48)
	w32 := kernels.F32Matrix(make([]float32, 48*64), 48, 64)
	w16, _ := kernels.NewMatrix(kernels.BF16, 48, 64, make([]byte, 2*48*64))
	return testing.AllocsPerRun(10, func() {
		p.MatMul(y, x, w32)
		p.MatMul(y, x, w16)
	})
}
