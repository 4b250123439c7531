package arch

import (
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/dllm-go/dllm/kernels"
)

// TestForwardAllocs: the steady state of diffusion decoding — the same block re-run
// against a fixed cache — allocates nothing, with one thread or several: neither this
// package nor the kernels (whose matmul and worker pool recycle their job, task and
// activation scratch). The allocation profile names any allocation site in package
// llada2. Under the race detector, sync.Pool drops a quarter of what it is given, so
// the kernels' count is only logged there.
func TestForwardAllocs(t *testing.T) {
	// The detector must see an allocation made in this package.
	if sites := allocSites(t, 2, func() { newRopeTable(4, 8, 1e4) }, "github.com/dllm-go/dllm/dllm/internal/arch."); len(sites) == 0 {
		t.Fatal("allocSites does not see allocations made in this package")
	}
	m := openModel(t, filepath.Join(microDir, "hf"))
	V := m.Config().VocabSize
	tokens := loadGolden(t, "logits_long_block32").Tokens
	for _, threads := range []int{1, 2} {
		mt := m.WithThreads(threads)
		// kvf16: the f16 cache; work: the forward records its ops (SetWork).
		for _, c := range []struct{ kvf16, work bool }{{false, false}, {true, false}, {false, true}} {
			kvf16 := c.kvf16
			s, err := mt.NewState(StateOptions{KVF16: kvf16})
			if err != nil {
				t.Fatal(err)
			}
			if c.work {
				s.SetWork(&Work{})
			}
			if err := s.Forward(tokens[:32], 32, true, nil, nil); err != nil {
				t.Fatal(err)
			}
			rows := span(0, 32)
			out := make([]float32, 32*V)
			step := func() {
				if err := s.Forward(tokens[32:64], 32, false, rows, out); err != nil {
					t.Fatal(err)
				}
			}
			step()
			ours := allocSites(t, 10, step, "github.com/dllm-go/dllm/dllm/internal/arch.")
			total := testing.AllocsPerRun(10, step)
			t.Logf("threads=%d %+v: %.1f allocations per 32-token block forward", threads, c, total)
			if total != 0 && !raceEnabled() {
				t.Errorf("threads=%d %+v: %.1f allocations per 32-token block forward, want 0 (MatMul alone: %.1f per call)",
					threads, c, total, matMulAllocs(mt.pool))
			}
			for _, site := range ours {
				t.Errorf("threads=%d %+v: allocation in this package: %s", threads, c, site)
			}
		}
	}
}

// raceEnabled reports whether the test binary was built with -race.
func raceEnabled() bool {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "-race" {
				return s.Value == "true"
			}
		}
	}
	return false
}

// allocSites runs f n times with every allocation sampled and returns the allocation
// sites (function and line) made directly by a function whose name starts with prefix.
func allocSites(t *testing.T, n int, f func(), prefix string) []string {
	old := runtime.MemProfileRate
	runtime.MemProfileRate = 1
	defer func() { runtime.MemProfileRate = old }()
	count := func() map[string]int64 {
		// The profile is published at garbage collections; two make it current.
		runtime.GC()
		runtime.GC()
		var recs []runtime.MemProfileRecord
		for {
			k, ok := runtime.MemProfile(recs, true)
			if ok {
				recs = recs[:k]
				break
			}
			recs = make([]runtime.MemProfileRecord, k+64)
		}
		sites := map[string]int64{}
		for _, r := range recs {
			frames := runtime.CallersFrames(r.Stack())
			for {
				fr, more := frames.Next()
				if !strings.HasPrefix(fr.Function, "runtime.") {
					sites[fr.Function+":"+itoa(fr.Line)] += r.AllocObjects
					break
				}
				if !more {
					break
				}
			}
		}
		return sites
	}
	before := count()
	for i := 0; i < n; i++ {
		f()
	}
	after := count()
	var out []string
	for site, c := range after {
		if c > before[site] && strings.HasPrefix(site, prefix) && !strings.Contains(site, "_test.go") && !strings.Contains(site, "allocSites") {
			out = append(out, site)
		}
	}
	return out
}

func itoa(i int) string {
	var b [20]byte
	p := len(b)
	for i >= 10 {
		p--
		b[p] = byte('0' + i%10)
		i /= 10
	}
	p--
	b[p] = byte('0' + i)
	return string(b[p:])
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
	}) / 2
}
