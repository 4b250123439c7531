package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Pool is a fixed set of worker goroutines that run the tiles of a kernel. It is safe
// for concurrent use: concurrent callers share the workers, and every caller also works
// on its own job, so a call never waits for a worker to become free. A nil *Pool runs
// everything on the caller's goroutine.
type Pool struct {
	threads int
	jobs    chan *job
	mu      sync.RWMutex // write-held by Close; read-held while handing out jobs
	closed  bool
}

type job struct {
	fn       func(i int)
	n        int64
	next     atomic.Int64
	done     atomic.Int64
	finished chan struct{}
}

// NewPool starts a pool of threads workers (the caller's goroutine counts as one);
// threads <= 0 means runtime.GOMAXPROCS(0).
func NewPool(threads int) *Pool {
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	p := &Pool{threads: threads, jobs: make(chan *job, threads)}
	for i := 1; i < threads; i++ {
		go p.worker()
	}
	return p
}

// Threads is the number of goroutines that work on one call, the caller's included.
func (p *Pool) Threads() int {
	if p == nil {
		return 1
	}
	return p.threads
}

// Close stops the workers. Calls made after Close run on the caller's goroutine.
// Close is idempotent.
func (p *Pool) Close() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		p.closed = true
		close(p.jobs)
	}
}

func (p *Pool) worker() {
	for j := range p.jobs {
		j.work()
	}
}

func (j *job) work() {
	for {
		i := j.next.Add(1) - 1
		if i >= j.n {
			return
		}
		j.fn(int(i))
		if j.done.Add(1) == j.n {
			close(j.finished)
		}
	}
}

// Run calls fn(i) for every i in [0, n), spread over the pool, and returns when all
// calls have returned. fn must be safe to call concurrently. A panic in fn on a worker
// goroutine crashes the program.
func (p *Pool) Run(n int, fn func(i int)) {
	if n <= 0 {
		return
	}
	if p == nil || p.threads == 1 || n == 1 {
		for i := 0; i < n; i++ {
			fn(i)
		}
		return
	}
	j := &job{fn: fn, n: int64(n), finished: make(chan struct{})}
	p.mu.RLock()
	if !p.closed {
	hand:
		for h := min(p.threads, n) - 1; h > 0; h-- {
			select {
			case p.jobs <- j:
			default:
				break hand // every worker is busy or already has work queued
			}
		}
	}
	p.mu.RUnlock()
	j.work()
	<-j.finished
}
