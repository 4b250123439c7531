//go:build gc && !purego

package kernels

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/cpu"
)

// TestCPUVendor: CPUID's vendor string (leaf 0: EBX, EDX, ECX) is 12 printable ASCII
// bytes, and leaf 1's feature bits in ECX and EDX agree with golang.org/x/sys/cpu's
// (SSE4.2, ECX bit 20; SSE2, EDX bit 26), so cpuid returns each register where it says.
func TestCPUVendor(t *testing.T) {
	v := cpuVendor()
	if len(v) != 12 || strings.IndexFunc(v, func(r rune) bool { return r < ' ' || r > '~' }) >= 0 {
		t.Fatalf("vendor %q: want 12 printable ASCII bytes", v)
	}
	_, _, c, d := cpuid(1, 0)
	if got := c&(1<<20) != 0; got != cpu.X86.HasSSE42 {
		t.Errorf("cpuid(1) ECX bit 20 (SSE4.2) = %v, x/sys/cpu says %v", got, cpu.X86.HasSSE42)
	}
	if got := d&(1<<26) != 0; got != cpu.X86.HasSSE2 {
		t.Errorf("cpuid(1) EDX bit 26 (SSE2) = %v, x/sys/cpu says %v", got, cpu.X86.HasSSE2)
	}
	t.Logf("vendor %s", v)
}

// TestX16PrefetchPaths: the 2–4-row Q4_K and Q6_K kernels of the 16-wide layouts give
// the generic kernels' bits on both of their prefetch paths (into L1, as on Intel, and
// into L2, as on AMD), whichever this machine takes.
func TestX16PrefetchPaths(t *testing.T) {
	if !useVNNI {
		t.Skip("no AVX-512 VNNI")
	}
	defer func(d int) { gemmX16L2Prefetch = d }(gemmX16L2Prefetch)
	for _, d := range []int{0, 12 << 10} {
		gemmX16L2Prefetch = d
		for _, f := range []Format{Q4_K, Q6_K} {
			t.Run(fmt.Sprintf("%v/l2=%d", f, d), func(t *testing.T) { testRepacked(t, f) })
		}
	}
}

// BenchmarkOneRowPrefetch reports the weight GB/s of the one-row quantized kernels at
// several prefetch distances (gemvPrefetch and gemvX16Prefetch set alike), streaming
// expert-sized matrices (1024×2048, repacked where the kernels in use repack) from
// memory: the measurement behind both distances, to repeat on another machine. The
// best pass of each is reported; the distances alternate within each iteration, so
// that all see the same machine.
func BenchmarkOneRowPrefetch(b *testing.B) {
	defer func(p, p16 int) { gemvPrefetch, gemvX16Prefetch = p, p16 }(gemvPrefetch, gemvX16Prefetch)
	pool := NewPool(runtime.GOMAXPROCS(0))
	defer pool.Close()
	r := rand.New(rand.NewPCG(7, 7))
	const K, N = 2048, 1024
	distances := []int{0, 512, 2048, 4096}
	type stream struct {
		f    Format
		ws   []Matrix
		best []time.Duration
	}
	var streams []*stream
	for _, f := range []Format{Q4_K, Q8_0, Q6_K} {
		w, _ := NewMatrix(f, N, K, randWeights(r, f, N, K))
		s := &stream{f: f, ws: []Matrix{w}, best: slices.Repeat([]time.Duration{time.Hour}, len(distances))}
		for range 4 * coldCopies(len(w.Data)) { // 256 MiB: none of it left in a cache
			s.ws = append(s.ws, copyMatrix(w))
		}
		for _, m := range s.ws {
			m.Repack()
		}
		streams = append(streams, s)
	}
	x, y := randFloats(r, K), make([]float32, N)
	for b.Loop() {
		for _, s := range streams {
			for i, d := range distances {
				gemvPrefetch, gemvX16Prefetch = d, d
				t0 := time.Now()
				for _, m := range s.ws {
					pool.MatMul(y, x, m)
				}
				s.best[i] = min(s.best[i], time.Since(t0))
			}
		}
	}
	for _, s := range streams {
		bytes := float64(len(s.ws[0].Data) * len(s.ws))
		for i, d := range distances {
			b.ReportMetric(bytes/s.best[i].Seconds()/1e9, fmt.Sprintf("%s-%dB-GB/s", s.f, d))
		}
	}
}

// BenchmarkFewRowsPrefetch reports the weight GB/s of the 2–4-row repacked kernels
// (the routed experts' case) streaming expert-sized matrices (1024×2048) from memory,
// prefetching their first pass gemvPrefetch ahead into L1 (l2=0) or gemmX16L2Prefetch
// ahead into L2: the measurement behind gemmX16L2Prefetch, to repeat on another
// machine. Settings alternate within each iteration, so that all see the same machine.
// Only the 16-wide (AVX-512 VNNI) kernels take the setting: the 8-wide AVX2 ones keep
// L1, where on the 2-vCPU Zen 3 an L2 path in the Q4_K one read 21.6–24.2 GB/s at 4,
// 12 and 24 KiB against 24.1 at M=2, 17.0–18.1 against 17.7 at M=4.
func BenchmarkFewRowsPrefetch(b *testing.B) {
	if !useVNNI {
		b.Skip("no AVX-512 VNNI: no kernel takes gemmX16L2Prefetch")
	}
	defer func(d int) { gemmX16L2Prefetch = d }(gemmX16L2Prefetch)
	pool := NewPool(runtime.GOMAXPROCS(0))
	defer pool.Close()
	r := rand.New(rand.NewPCG(9, 9))
	const K, N = 2048, 1024
	distances := []int{0, 4 << 10, 12 << 10, 24 << 10}
	for _, f := range []Format{Q4_K, Q6_K, Q8_0} {
		w, _ := NewMatrix(f, N, K, randWeights(r, f, N, K))
		ws := []Matrix{w}
		for range 4 * coldCopies(len(w.Data)) {
			ws = append(ws, copyMatrix(w))
		}
		for _, m := range ws {
			m.Repack()
		}
		for _, M := range []int{2, 3, 4} {
			b.Run(fmt.Sprintf("%s/M=%d", f, M), func(b *testing.B) {
				x, y := randFloats(r, M*K), make([]float32, M*N)
				best := slices.Repeat([]time.Duration{time.Hour}, len(distances))
				for b.Loop() {
					for i, d := range distances {
						gemmX16L2Prefetch = d
						t0 := time.Now()
						for _, m := range ws {
							pool.MatMul(y, x, m)
						}
						best[i] = min(best[i], time.Since(t0))
					}
				}
				bytes := float64(len(w.Data) * len(ws))
				for i, d := range distances {
					b.ReportMetric(bytes/best[i].Seconds()/1e9, fmt.Sprintf("l2=%dK-GB/s", d>>10))
				}
			})
		}
	}
}
