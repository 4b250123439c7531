package arch

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dllm-go/dllm/dllm/internal/cputime"
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

// peakRSS is the process's peak resident set size in bytes (Linux VmHWM; 0 elsewhere).
// It includes the file-backed pages of the mapped weights that were touched.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// timed runs b.N iterations of f, reporting tokens/s (tokens per iteration) and CPU
// milliseconds per iteration.
func timed(b *testing.B, tokens int, f func()) {
	b.ResetTimer()
	c0 := cputime.Process()
	for i := 0; i < b.N; i++ {
		f()
	}
	b.StopTimer()
	b.ReportMetric(float64(tokens*b.N)/b.Elapsed().Seconds(), "tok/s")
	b.ReportMetric(float64(cputime.Process()-c0)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}

// BenchmarkBlockForward measures one diffusion step: a 32-token block forward against a
// committed 32-token prefix on a mini-shaped 2-layer model, with all 32 LM-head rows
// (what a decoder step needs) and with the last row only (what llama-bench's prompt
// processing computes, for comparison with it).
func BenchmarkBlockForward(b *testing.B) {
	for _, dt := range []weights.DType{weights.Q8_0, weights.BF16} {
		for _, nrows := range []int{32, 1} {
			b.Run(fmt.Sprintf("%s/rows=%d", dt, nrows), func(b *testing.B) {
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
				rows := span(32-nrows, 32)
				out := make([]float32, nrows*V)
				// Warm the page cache and the mapping before timing.
				if err := s.Forward(tokens[32:], 32, false, rows, out); err != nil {
					b.Fatal(err)
				}
				timed(b, 32, func() {
					if err := s.Forward(tokens[32:], 32, false, rows, out); err != nil {
						b.Fatal(err)
					}
				})
				if rss := peakRSS(); rss > 0 {
					b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MB")
				}
			})
		}
	}
}

// BenchmarkBlockForwardContext measures the attention-heavy case: a 32-token block
// against a 4064-token committed context on the tiny preset (attention dominates there).
func BenchmarkBlockForwardContext(b *testing.B) {
	path := filepath.Join(b.TempDir(), "tiny.gguf")
	if err := WriteSyntheticGGUF(path, SynthOptions{Config: TinyConfig(4), DType: weights.Q8_0, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	m := openModel(b, path)
	V := m.Config().VocabSize
	const ctx = 4064
	s, err := m.NewState(StateOptions{Capacity: ctx + 32})
	if err != nil {
		b.Fatal(err)
	}
	tokens := make([]int32, ctx+32)
	for i := range tokens {
		tokens[i] = int32(i * 997 % (V - 8))
	}
	if err := s.Forward(tokens[:ctx], 32, true, nil, nil); err != nil {
		b.Fatal(err)
	}
	rows := span(0, 32)
	out := make([]float32, 32*V)
	timed(b, 32, func() {
		if err := s.Forward(tokens[ctx:], 32, false, rows, out); err != nil {
			b.Fatal(err)
		}
	})
}
