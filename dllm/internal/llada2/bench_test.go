package llada2

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/dllm-go/dllm/dllm/internal/weights"
)

// benchModel returns a mini-shaped 2-layer synthetic GGUF of the given type (1 dense + 1
// MoE layer, the real LLaDA2.0-mini sizes). It is generated into the benchmark's temp dir,
// or, when DLLM_BENCH_DIR is set, cached there across runs (the files are 1.5–3 GB).
func benchModel(b *testing.B, dt weights.DType) string {
	b.Helper()
	dir := os.Getenv("DLLM_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	path := filepath.Join(dir, fmt.Sprintf("mini2-%s.gguf", dt))
	if _, err := os.Stat(path); err == nil {
		return path
	}
	b.Logf("generating %s", path)
	if err := WriteSyntheticGGUF(path, SynthOptions{Config: MiniConfig(2), DType: dt, Arch: "bailingmoe2", Seed: 1}); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkBlockForward measures one diffusion step: a 32-token block forward against a
// committed 32-token prefix, all 32 LM-head rows, on a mini-shaped 2-layer model.
func BenchmarkBlockForward(b *testing.B) {
	for _, dt := range []weights.DType{weights.Q8_0, weights.BF16} {
		b.Run(dt.String(), func(b *testing.B) {
			m := openModel(b, benchModel(b, dt))
			s, err := m.NewState(StateOptions{Capacity: 4096})
			if err != nil {
				b.Fatal(err)
			}
			V := m.Config().VocabSize
			tokens := make([]int32, 64)
			for i := range tokens {
				tokens[i] = int32(i * 997 % (V - 8))
			}
			if err := s.Forward(tokens[:32], 32, true, nil, nil); err != nil {
				b.Fatal(err)
			}
			rows := span(0, 32)
			out := make([]float32, 32*V)
			// Warm the page cache and the mapping before timing.
			if err := s.Forward(tokens[32:], 32, false, rows, out); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := s.Forward(tokens[32:], 32, false, rows, out); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(32*b.N)/b.Elapsed().Seconds(), "tok/s")
		})
	}
}
