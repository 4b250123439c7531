package kernels

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestMatMulAllocs: after warm-up, the matrix multiplies and Run allocate nothing, for
// every format and thread count (their job, task and activation scratch are recycled).
// Not under the race detector: its sync.Pool drops a quarter of what it is given.
func TestMatMulAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	r := rand.New(rand.NewPCG(41, 42))
	const N, K = 48, 256 // 4 tiles of 12 rows
	type operand struct {
		w    Matrix
		x    []float32
		M    int
		rows []int
	}
	var ops []operand
	for _, f := range allFormats {
		w, _ := NewMatrix(f, N, K, randWeights(r, f, N, K))
		for _, M := range []int{1, 5} { // one-row kernels; 4-row kernels and a tail
			ops = append(ops, operand{w, randFloats(r, M*K), M, []int{M - 1, 0, M / 2}})
		}
	}
	eachImpl(t, func(t *testing.T) {
		for _, threads := range []int{1, 2, 4} {
			p := NewPool(threads)
			defer p.Close()
			for _, o := range ops {
				y := make([]float32, o.M*N)
				yr := make([]float32, len(o.rows)*N)
				for name, fn := range map[string]func(){
					"MatMul":     func() { p.MatMul(y, o.x, o.w) },
					"MatMulAdd":  func() { p.MatMulAdd(y, o.x, o.w) },
					"MatMulRows": func() { p.MatMulRows(yr, o.x, o.rows, o.w) },
				} {
					checkAllocs(t, fmt.Sprintf("threads=%d %s M=%d %s", threads, o.w.Format, o.M, name), fn)
				}
			}
			var hits [64]atomic.Int32
			fn := func(i int) { hits[i].Add(1) } // made once: Run's own cost only
			checkAllocs(t, fmt.Sprintf("threads=%d Run", threads), func() { p.Run(len(hits), fn) })
		}
	})
}

func checkAllocs(t *testing.T, name string, fn func()) {
	t.Helper()
	for range 10 { // warm-up: fill the pools on every P
		fn()
	}
	if a := testing.AllocsPerRun(50, fn); a != 0 {
		t.Errorf("%s: %.1f allocations per call, want 0", name, a)
	}
}

// TestPoolStress: several goroutines share one pool, each running matrix multiplies
// (bit-identical to the serial result), small Run calls (whose handed-off copies are
// often dequeued after the caller finished every item: recycled jobs must not run
// twice) and Run calls nested inside a task.
func TestPoolStress(t *testing.T) {
	r := rand.New(rand.NewPCG(43, 44))
	type mm struct {
		w       Matrix
		x       []float32
		rows    []int
		want    []float32 // serial MatMul
		wantAdd []float32 // serial MatMul then MatMulAdd
		wantR   []float32 // serial MatMulRows
	}
	var cases []mm
	for i, f := range allFormats {
		M, N, K := 1+3*i, 37+12*i, 256*(1+i%2)
		w, _ := NewMatrix(f, N, K, randWeights(r, f, N, K))
		c := mm{w: w, x: randFloats(r, M*K), rows: []int{M - 1, 0, M / 2, M - 1}}
		c.want = make([]float32, M*N)
		(*Pool)(nil).MatMul(c.want, c.x, w)
		c.wantAdd = append([]float32(nil), c.want...)
		(*Pool)(nil).MatMulAdd(c.wantAdd, c.x, w)
		c.wantR = make([]float32, len(c.rows)*N)
		(*Pool)(nil).MatMulRows(c.wantR, c.x, c.rows, w)
		cases = append(cases, c)
	}
	iters := 30
	if testing.Short() || raceEnabled {
		iters = 10
	}
	for _, threads := range []int{2, 3} {
		p := NewPool(threads)
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for it := range iters {
					c := cases[(g+it)%len(cases)]
					y := make([]float32, len(c.want))
					p.MatMul(y, c.x, c.w)
					if !sameSlice(y, c.want) {
						t.Errorf("threads=%d %s: MatMul differs from the serial result", threads, c.w.Format)
						return
					}
					p.MatMulAdd(y, c.x, c.w)
					if !sameSlice(y, c.wantAdd) {
						t.Errorf("threads=%d %s: MatMulAdd differs from the serial result", threads, c.w.Format)
						return
					}
					yr := make([]float32, len(c.wantR))
					p.MatMulRows(yr, c.x, c.rows, c.w)
					if !sameSlice(yr, c.wantR) {
						t.Errorf("threads=%d %s: MatMulRows differs from the serial result", threads, c.w.Format)
						return
					}
					for n := 1; n <= 4; n++ {
						var hits [4]int32
						p.Run(n, func(i int) { atomic.AddInt32(&hits[i], 1) })
						for i, h := range hits {
							if want := int32(min(1, max(0, n-i))); h != want {
								t.Errorf("threads=%d Run(%d): item %d ran %d times", threads, n, i, h)
								return
							}
						}
					}
					// Nested: every task multiplies on the same pool.
					ys := make([][]float32, 3)
					p.Run(len(ys), func(i int) {
						ys[i] = make([]float32, len(c.want))
						p.MatMul(ys[i], c.x, c.w)
					})
					for _, y := range ys {
						if !sameSlice(y, c.want) {
							t.Errorf("threads=%d %s: nested MatMul differs from the serial result", threads, c.w.Format)
							return
						}
					}
				}
			}()
		}
		wg.Wait()
		p.Close()
	}
}

// TestPoolReentrant: Run called from inside a task, while every worker is busy with
// an outer task that itself waits on an inner Run, completes.
func TestPoolReentrant(t *testing.T) {
	p := NewPool(3)
	defer p.Close()
	finished := make(chan int64)
	go func() {
		var total atomic.Int64
		p.Run(6, func(i int) {
			p.Run(5, func(j int) {
				p.Run(4, func(k int) { total.Add(1) })
			})
		})
		finished <- total.Load()
	}()
	select {
	case n := <-finished:
		if n != 6*5*4 {
			t.Errorf("nested Run ran %d innermost items, want %d", n, 6*5*4)
		}
	case <-time.After(time.Minute):
		t.Fatal("nested Run deadlocked")
	}
}

// TestPoolLateWorker: a call whose handed-off copy is still queued when the caller
// has finished every item does not recycle its job until the worker has dequeued it.
func TestPoolLateWorker(t *testing.T) {
	p := NewPool(2)
	defer p.Close()
	// Keep the only worker busy: both items of this call must run at once.
	var arrive sync.WaitGroup
	arrive.Add(2)
	block, outer := make(chan struct{}), make(chan struct{})
	go func() {
		p.Run(2, func(int) { arrive.Done(); arrive.Wait(); <-block })
		close(outer)
	}()
	arrive.Wait()
	var hits [2]atomic.Int32
	for range 2 {
		p.Run(2, func(i int) { hits[i].Add(1) }) // the caller runs both; a copy stays queued
		if n := len(p.free); n != 0 {
			t.Fatalf("%d jobs recycled while their copies are queued", n)
		}
	}
	if hits[0].Load() != 2 || hits[1].Load() != 2 {
		t.Fatalf("items ran %d and %d times, want 2", hits[0].Load(), hits[1].Load())
	}
	close(block)
	<-outer
	for deadline := time.Now().Add(time.Minute); len(p.free) != 3; {
		if time.Now().After(deadline) {
			t.Fatalf("%d jobs recycled, want 3", len(p.free))
		}
		time.Sleep(time.Millisecond)
	}
	if hits[0].Load() != 2 || hits[1].Load() != 2 {
		t.Fatalf("late worker ran items: %d and %d times, want 2", hits[0].Load(), hits[1].Load())
	}
}

func sameSlice(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !sameBits(a[i], b[i]) {
			return false
		}
	}
	return true
}
