package kernels

import (
	"fmt"
	"github.com/dllm-go/dllm/kernels/probe"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"
)

// Machine limits, measured once per process and reported next to every kernel figure,
// so results read as fractions of this machine's ceilings (the machine may be shared:
// compare ratios from one run).
var machineLimits = sync.OnceValue(func() probe.Limits { return probe.Measure(runtime.GOMAXPROCS(0)) })

// BenchmarkLimits reports the machine limits: FMA GFLOP/s and memory-read GB/s (the
// best of the read probe's runs) with one thread and with GOMAXPROCS threads.
func BenchmarkLimits(b *testing.B) {
	if probe.FMA(1) == 0 {
		b.Skip("no probe in this build")
	}
	for _, threads := range []int{1, runtime.GOMAXPROCS(0)} {
		b.Run(fmt.Sprintf("fma/threads=%d", threads), func(b *testing.B) {
			const iters = 1 << 19
			perIter := probe.FMA(1)
			for b.Loop() {
				probe.Parallel(threads, func(int) { probe.FMA(iters) })
			}
			b.ReportMetric(perIter*iters*float64(threads)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
	for _, threads := range []int{1, runtime.GOMAXPROCS(0)} {
		b.Run(fmt.Sprintf("read/threads=%d", threads), func(b *testing.B) {
			var gbps float64
			for b.Loop() {
				gbps = max(gbps, probe.ReadGBps(threads))
			}
			b.ReportMetric(gbps, "GB/s")
		})
	}
}

// BenchmarkKernelCeilings reports, on machines that run the avx2 kernels, the rates of
// the inner loops of their repacked Q8_0 and Q4_K kernels (probe.MixQ8_0, MixQ4_K)
// beside the int8 peak that `dllm bench` takes their roofline at (VPMADDUBSW alone),
// and the fractions of it: the most of that roofline the kernels can reach where
// arithmetic bounds them. Beside them, probe.MulAdd: each VPMADDUBSW with only the add
// that accumulates it, which bounds any AVX2 int8 dot product. All are measured in turn
// in each iteration (probe.Int8Ceilings, then MulAdd), so they see the same machine.
func BenchmarkKernelCeilings(b *testing.B) {
	if probe.MixQ8_0(1) == 0 {
		b.Skip("no probe of the avx2 kernels' inner loops: other kernels run here")
	}
	for _, threads := range []int{1, runtime.GOMAXPROCS(0)} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			var peak, q8, q4k, muladd float64
			for b.Loop() {
				p, l8, l4 := probe.Int8Ceilings(threads)
				peak, q8, q4k = max(peak, p), max(q8, l8), max(q4k, l4)
				muladd = max(muladd, probe.Peak(probe.MulAdd, 1<<17, threads))
			}
			b.ReportMetric(peak, "int8-GOP/s")
			b.ReportMetric(q8, "q8_0-GOP/s")
			b.ReportMetric(100*q8/peak, "q8_0-%int8")
			b.ReportMetric(q4k, "q4_k-GOP/s")
			b.ReportMetric(100*q4k/peak, "q4_k-%int8")
			b.ReportMetric(100*muladd/peak, "muladd-%int8")
		})
	}
}

// BenchmarkMatMul reports, per format × shape × implementation, GFLOP/s (2·M·K·N per
// call) and its fraction of the FMA peak (%fma), and the weight bytes read per second
// and their fraction of memory-read bandwidth (%bw). The pool runs GOMAXPROCS threads.
//
// The machine is shared, so the figures use the fastest of the b.N calls (ns/op stays
// the mean), and the limits are the best of many probe runs: both estimate what the
// hardware does when the neighbours are quiet. "cold" variants rotate through weight
// copies totalling more than the last-level cache, so the weights stream from DRAM as
// they do in a real model; the others may be served from L3.
func BenchmarkMatMul(b *testing.B) {
	limits := machineLimits()
	peak, bw := limits.GFLOPS, limits.GBps
	shapes := []benchShape{{1, 2048, 5120, false}, {1, 2048, 5120, true}, {32, 2048, 5120, false}}
	if !testing.Short() {
		// M=32 cold: the first pass over each tile streams it while the later ones prefetch
		// the next (the repacked kernels' strips).
		shapes = append(shapes, benchShape{32, 5120, 2048, false}, benchShape{4, 2048, 5120, false},
			benchShape{32, 2048, 5120, true}, benchShape{1, 2048, 157184, false})
	}
	pool := NewPool(0)
	defer pool.Close()
	r := rand.New(rand.NewPCG(1, 1))
	for _, f := range allFormats {
		for _, s := range shapes {
			var w Matrix
			var x, y []float32
			if s.N > 100000 && f != Q8_0 && f != Q4_K && f != Q6_K {
				continue // the LM head shape only in the formats that ship it (memory)
			}
			name := fmt.Sprintf("%s/M=%d/K=%d/N=%d", f, s.M, s.K, s.N)
			if s.cold {
				name += "/cold"
			}
			b.Run(name, func(b *testing.B) {
				if x == nil {
					w, _ = NewMatrix(f, s.N, s.K, randWeights(r, f, s.N, s.K))
					x = randFloats(r, s.M*s.K)
					y = make([]float32, s.M*s.N)
				}
				eachImplB(b, func(b *testing.B) {
					if s.M > 1 && activeIsGeneric() && len(Implementations()) > 1 {
						b.Skip("generic kernels at M > 1 take seconds per call")
					}
					ws := []Matrix{w}
					if s.cold {
						for range coldCopies(len(w.Data)) {
							ws = append(ws, copyMatrix(w))
						}
					}
					best := time.Duration(1 << 62)
					i := 0
					for b.Loop() {
						t0 := time.Now()
						pool.MatMul(y, x, ws[i%len(ws)])
						best = min(best, time.Since(t0))
						i++
					}
					sec := best.Seconds()
					gflops := 2 * float64(s.M*s.K*s.N) / sec / 1e9
					gbps := float64(len(w.Data)) / sec / 1e9
					b.ReportMetric(gflops, "GFLOP/s")
					b.ReportMetric(gbps, "wGB/s")
					if peak > 0 {
						b.ReportMetric(100*gflops/peak, "%fma")
					}
					if bw > 0 {
						b.ReportMetric(100*gbps/bw, "%bw")
					}
				})
			})
		}
	}
}

// BenchmarkMatMulRepack compares, under the active kernels, the matrices the kernels
// repack (repack.go) multiplied in the file's layout (plain) and repacked (x8, under
// each implementation with repacked kernels for the format, the better ones disabled),
// side by side in one run: GFLOP/s at 2·M·K·N per call, the fastest call of b.N.
func BenchmarkMatMulRepack(b *testing.B) {
	const K, N = 2048, 5120
	pool := NewPool(0)
	defer pool.Close()
	r := rand.New(rand.NewPCG(3, 3))
	for _, f := range []Format{Q4_K, Q6_K, Q8_0} {
		w, _ := NewMatrix(f, N, K, randWeights(r, f, N, K))
		if !w.Repacks() {
			continue
		}
		for _, M := range []int{1, 3, 4, 32} {
			x, y := randFloats(r, M*K), make([]float32, M*N)
			run := func(name string, w Matrix) {
				b.Run(fmt.Sprintf("%s/M=%d/%s", f, M, name), func(b *testing.B) {
					best := time.Duration(1 << 62)
					for b.Loop() {
						t0 := time.Now()
						pool.MatMul(y, x, w)
						best = min(best, time.Since(t0))
					}
					b.ReportMetric(2*float64(M*K*N)/best.Seconds()/1e9, "GFLOP/s")
				})
			}
			run("plain", w.Plain())
			var disabled []func()
			for _, im := range Implementations() {
				if im.Available && im.Enabled && im.Name != "generic" && w.Repacks() {
					k, _ := w.repackedKernels()
					run(fmt.Sprintf("x%d/%s", k.layout.width, im.Name), w)
				}
				if restore, err := SetImplementation(im.Name, false); err == nil {
					disabled = append(disabled, restore)
				}
			}
			for i := len(disabled) - 1; i >= 0; i-- {
				disabled[i]()
			}
		}
	}
}

type benchShape struct {
	M, K, N int
	cold    bool
}

// copyMatrix returns a copy of w with data of its own (and its own repacked layout).
func copyMatrix(w Matrix) Matrix {
	c, err := NewMatrix(w.Format, w.Rows, w.Cols, append([]byte(nil), w.Data...))
	if err != nil {
		panic(err)
	}
	return c
}

// coldCopies is how many extra copies of an n-byte matrix exceed a 64 MiB cache.
func coldCopies(n int) int { return (64<<20)/max(n, 1) + 1 }

func activeIsGeneric() bool {
	for _, im := range Implementations() {
		if im.Enabled && im.Available && im.Name != "generic" {
			return false
		}
	}
	return true
}

// BenchmarkVector reports GB/s (bytes read + written) for the vector kernels, the
// float conversions and the activation quantizers.
func BenchmarkVector(b *testing.B) {
	r := rand.New(rand.NewPCG(2, 2))
	for _, n := range []int{256, 4096, 1 << 16} {
		x, y, z := randFloats(r, n), randFloats(r, n), randFloats(r, n)
		h := make([]byte, 2*n)
		xs := &xPrep{m: 1, k: n, f: x}
		kernels := []struct {
			name  string
			bytes int
			fn    func()
		}{
			{"dot", 8 * n, func() { Dot(x, y) }},
			{"axpy", 12 * n, func() { Axpy(z, 1e-3, x) }},
			{"add", 12 * n, func() { Add(z, x, y) }},
			{"rmsnorm", 16 * n, func() { RMSNorm(z, x, y, 1e-6) }},
			{"silumul", 12 * n, func() { SiLUMul(z, x, y) }},
			{"softmax", 8 * n, func() { copy(z, x); Softmax(z) }},
			{"f16to32", 6 * n, func() { F16ToF32(z, h) }},
			{"f32to16", 6 * n, func() { F32ToF16(h, x) }},
			{"bf16to32", 6 * n, func() { BF16ToF32(z, h) }},
			{"f32tobf16", 6 * n, func() { F32ToBF16(h, x) }},
			{"quantq8_0", 4*n + n/32*q8BlockBytes, func() { quantizeQ8(xs) }},
			{"quantq8_k", 4*n + n/256*q8KBlockBytes, func() { quantizeQ8K(xs) }},
		}
		for _, k := range kernels {
			b.Run(fmt.Sprintf("%s/n=%d", k.name, n), func(b *testing.B) {
				eachImplB(b, func(b *testing.B) {
					b.SetBytes(int64(k.bytes))
					for b.Loop() {
						k.fn()
					}
				})
			})
		}
	}
}

// BenchmarkArgmax: one vocabulary row (LLaDA2's 157184 logits), Argmax against the
// element-by-element search it replaced.
func BenchmarkArgmax(b *testing.B) {
	x := randFloats(rand.New(rand.NewPCG(3, 4)), 157184)
	for _, f := range []struct {
		name string
		fn   func([]float32) int
	}{{"chunks", Argmax}, {"generic", argmaxGeneric}} {
		b.Run(f.name, func(b *testing.B) {
			b.SetBytes(int64(4 * len(x)))
			for b.Loop() {
				f.fn(x)
			}
		})
	}
}

// BenchmarkTargets measures the acceptance figures of the kernels in one interleaved run:
// each iteration probes the FMA peak and the memory-read bandwidth (GOMAXPROCS threads)
// and then times every target matrix multiply once, so slow phases of a shared machine
// hit probes and kernels alike; the best of all iterations is reported for each.
// Weights always stream from DRAM: each target rotates through copies totalling more
// than the LLC, and the read probe evicts everything between iterations. Each timed
// call follows an untimed one of the same kernel on another copy, as in a model, whose
// kernels run back to back (the first call after the probes runs some 10 % slower).
//
//	f32, bf16 at M=32, K=2048, N=5120: GFLOP/s as % of the FMA peak     (target ≥ 60 %)
//	q8_0, q4_k at M=1, K=2048, N=5120: weight GB/s as % of read bandwidth (target ≥ 70 %)
func BenchmarkTargets(b *testing.B) {
	if _, ok := probe.Read(nil, 0); probe.FMA(1) == 0 || !ok {
		b.Skip("no machine probes in this build")
	}
	threads := runtime.GOMAXPROCS(0)
	pool := NewPool(threads)
	defer pool.Close()
	r := rand.New(rand.NewPCG(5, 5))
	type target struct {
		name  string
		f     Format
		M     int
		ws    []Matrix
		x, y  []float32
		best  time.Duration
		flops bool
	}
	var ts []*target
	for _, c := range []struct {
		f Format
		M int
	}{{F32, 32}, {BF16, 32}, {Q8_0, 32}, {Q4_K, 32}, {Q8_0, 1}, {Q4_K, 1}} {
		const K, N = 2048, 5120
		t := &target{name: fmt.Sprintf("%s-M%d", c.f, c.M), f: c.f, M: c.M, best: time.Hour, flops: c.M > 1}
		w, _ := NewMatrix(c.f, N, K, randWeights(r, c.f, N, K))
		t.ws = []Matrix{w}
		for range coldCopies(len(w.Data)) {
			t.ws = append(t.ws, copyMatrix(w))
		}
		t.x, t.y = randFloats(r, c.M*K), make([]float32, c.M*N)
		ts = append(ts, t)
	}
	var peak, bw float64
	i := 0
	for b.Loop() {
		const iters = 1 << 21 // a few ms, like the kernels: same odds of a quiet window
		t0 := time.Now()
		probe.Parallel(threads, func(int) { probe.FMA(iters) })
		peak = max(peak, probe.FMA(1)*iters*float64(threads)/time.Since(t0).Seconds()/1e9)
		bw = max(bw, probe.ReadGBps(threads))
		for _, t := range ts {
			pool.MatMul(t.y, t.x, t.ws[(i+1)%len(t.ws)])
			t0 := time.Now()
			pool.MatMul(t.y, t.x, t.ws[i%len(t.ws)])
			t.best = min(t.best, time.Since(t0))
		}
		i++
	}
	b.ReportMetric(peak, "peakGFLOP/s")
	b.ReportMetric(bw, "readGB/s")
	for _, t := range ts {
		sec := t.best.Seconds()
		if t.flops {
			g := 2 * float64(t.M*2048*5120) / sec / 1e9
			b.ReportMetric(g, t.name+"-GFLOP/s")
			b.ReportMetric(100*g/peak, t.name+"-%fma")
		} else {
			g := float64(len(t.ws[0].Data)) / sec / 1e9
			b.ReportMetric(g, t.name+"-wGB/s")
			b.ReportMetric(100*g/bw, t.name+"-%bw")
		}
	}
}
