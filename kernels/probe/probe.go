// Package probe measures three ceilings of the machine it runs on, peak float32 FMA
// throughput, peak 8-bit integer multiply-add throughput and memory read bandwidth,
// with small assembly loops, so benchmarks can state their figures as fractions of
// what this machine can do; and, on AVX2, the rate of the quantized kernels' inner
// loops, the most of the int8 peak those kernels can reach, and of multiplies with
// only their accumulating adds, the most any int8 dot product can. It is a
// benchmarking aid: the kernels and the library do not use it.
//
// The machine may be shared, so each figure is the best of several runs, and only
// ratios measured in the same run should be compared.
package probe

import (
	"sync"
	"time"

	"github.com/dllm-go/dllm/kernels/pagemem"
)

// Limits are the machine's measured ceilings with a given number of threads; a zero
// field means this build has no probe for it.
type Limits struct {
	GFLOPS   float64 // float32 FMA, 2 flops each
	Int8GOPS float64 // 8-bit integer multiply-adds (Int8), 2 ops each
	GBps     float64 // bytes read from memory, far beyond any cache

	// The avx2 kernels' inner loops (MixQ8_0, MixQ4_K), 2 ops per byte product: the
	// most of Int8GOPS those kernels can reach.
	LoopQ8GOPS, LoopQ4KGOPS float64
}

// Measure runs the probes on threads goroutines (about a second in all).
func Measure(threads int) Limits {
	l := Limits{GFLOPS: Peak(FMA, 1<<19, threads)}
	l.Int8GOPS, l.LoopQ8GOPS, l.LoopQ4KGOPS = Int8Ceilings(threads)
	l.GBps = ReadGBps(threads)
	return l
}

// Int8Ceilings measures on threads goroutines the int8 peak (Int8) and the rates of
// the avx2 kernels' inner loops (MixQ8_0, MixQ4_K) one after the other, so that their
// ratios compare one state of the machine; 0 for a probe this build lacks.
func Int8Ceilings(threads int) (int8, loopQ8, loopQ4K float64) {
	// Each run about half a millisecond (Peak): the Q4_K loop runs twice as fast as Q8_0's.
	return Peak(Int8, 1<<18, threads), Peak(MixQ8_0, 1<<16, threads), Peak(MixQ4_K, 1<<17, threads)
}

// readAhead are the prefetch distances (bytes) the read probe tries: none (the
// hardware prefetchers alone), short, and the quantized kernels' (gemvPrefetch).
var readAhead = []int{0, 512, 2048}

// ReadGBps is the best memory read bandwidth in GB/s of threads goroutines reading a
// 256 MiB buffer, with each of the prefetch distances, from memory of the kind the
// repacked weights get (package pagemem: huge pages where Linux grants them, which on
// a 2-vCPU AVX-512 Xeon read 37 GB/s against 30 from 4 KiB pages, both prefetching).
// It is 0 when this build has no read probe or the buffer could not be mapped.
func ReadGBps(threads int) float64 {
	if _, ok := Read(nil, 0); !ok {
		return 0
	}
	mem, err := pagemem.Alloc(256 << 20)
	if err != nil {
		return 0
	}
	defer mem.Free()
	buf := mem.Data
	for i := 0; i < len(buf); i += 4096 {
		buf[i] = 1 // touch every page, so the read measures memory, not page faults
	}
	part := len(buf) / threads / 128 * 128
	var best float64
	for _, ahead := range readAhead {
		for range 5 {
			start := time.Now()
			Parallel(threads, func(t int) { Read(buf[t*part:(t+1)*part], ahead) })
			best = max(best, float64(part*threads)/time.Since(start).Seconds()/1e9)
		}
	}
	return best
}

// Peak is the best of 20 timed runs of loop(iters) (FMA, Int8, MixQ8_0, MixQ4_K) on
// threads goroutines, in giga-ops per second (loop returns the ops it did; 0 when it
// has no probe here). Each run lasts about half a millisecond, well beyond the
// goroutines' start: shorter runs measured one thread's peak on two threads when the
// second started late.
func Peak(loop func(n int) float64, iters, threads int) float64 {
	perIter := loop(1)
	if perIter <= 0 {
		return 0
	}
	var best float64
	for range 20 {
		start := time.Now()
		Parallel(threads, func(int) { loop(iters) })
		best = max(best, perIter*float64(iters*threads)/time.Since(start).Seconds()/1e9)
	}
	return best
}

// Parallel runs fn(0) … fn(n−1) on n goroutines and waits for them.
func Parallel(n int, fn func(t int)) {
	var wg sync.WaitGroup
	for t := range n {
		wg.Add(1)
		go func() { defer wg.Done(); fn(t) }()
	}
	wg.Wait()
}
