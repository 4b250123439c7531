package kernels

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"
)

// BenchmarkLimits measures this machine's ceilings: FMA throughput (GFLOP/s, 1 thread and
// all threads) and memory read bandwidth (GB/s, a 256 MiB buffer, well beyond caches).
func BenchmarkLimits(b *testing.B) {
	if peakProbe(1) == 0 && !hasReadProbe() {
		b.Skip("no probe for this implementation")
	}
	for _, threads := range []int{1, runtime.GOMAXPROCS(0)} {
		b.Run(fmt.Sprintf("fma/threads=%d", threads), func(b *testing.B) {
			const iters = 1 << 20
			perIter := peakProbe(1)
			var flops float64
			for b.Loop() {
				var wg sync.WaitGroup
				for range threads {
					wg.Add(1)
					go func() { defer wg.Done(); peakProbe(iters) }()
				}
				wg.Wait()
				flops += perIter * iters * float64(threads)
			}
			b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
	buf := make([]byte, 256<<20)
	for i := range buf {
		buf[i] = byte(i)
	}
	for _, threads := range []int{1, runtime.GOMAXPROCS(0)} {
		b.Run(fmt.Sprintf("read/threads=%d", threads), func(b *testing.B) {
			var bytes float64
			for b.Loop() {
				var wg sync.WaitGroup
				part := len(buf) / threads
				for t := range threads {
					wg.Add(1)
					go func() { defer wg.Done(); readProbe(buf[t*part : (t+1)*part]) }()
				}
				wg.Wait()
				bytes += float64(len(buf))
			}
			b.ReportMetric(bytes/b.Elapsed().Seconds()/1e9, "GB/s")
		})
	}
}

func hasReadProbe() bool { _, ok := readProbe(nil); return ok }

type benchShape struct{ M, K, N int }

// BenchmarkMatMul reports GFLOP/s (2·M·K·N per call) and weight GB/s per format ×
// implementation × shape, with the pool at GOMAXPROCS threads.
func BenchmarkMatMul(b *testing.B) {
	shapes := []benchShape{{1, 2048, 5120}, {32, 2048, 5120}}
	pool := NewPool(0)
	defer pool.Close()
	r := rand.New(rand.NewPCG(1, 1))
	for _, f := range allFormats {
		for _, s := range shapes {
			w, _ := NewMatrix(f, s.N, s.K, randWeights(r, f, s.N, s.K))
			x := randFloats(r, s.M*s.K)
			y := make([]float32, s.M*s.N)
			b.Run(fmt.Sprintf("%s/M=%d/K=%d/N=%d", f, s.M, s.K, s.N), func(b *testing.B) {
				eachImplB(b, func(b *testing.B) {
					start := time.Now()
					n := 0
					for b.Loop() {
						pool.MatMul(y, x, w)
						n++
					}
					sec := time.Since(start).Seconds()
					b.ReportMetric(2*float64(s.M*s.K*s.N)*float64(n)/sec/1e9, "GFLOP/s")
					b.ReportMetric(float64(len(w.Data))*float64(n)/sec/1e9, "wGB/s")
				})
			})
		}
	}
}
