package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Pool is a fixed set of worker goroutines that run the tiles of a kernel. It is safe
// for concurrent use: concurrent callers share the workers, and every caller also works
// on its own job, so a call never waits for a worker to become free. A nil *Pool runs
// everything on the caller's goroutine.
//
// The matrix multiplies and Run itself do not allocate in the steady state, whatever
// the number of threads: their per-call state is recycled. Idle workers poll for new
// work for half a millisecond before they sleep (see spinWait), so a pool busy with a
// model keeps its threads awake between kernels and an idle one costs nothing.
type Pool struct {
	threads int
	jobs    chan *job
	free    chan *job    // recycled jobs (see job)
	mu      sync.RWMutex // write-held by Close; read-held while handing out jobs
	closed  bool
}

// task is the body of a parallel loop: Do(i) is called once for every i in [0, n),
// possibly concurrently. The kernels' tasks are pooled pointers, so passing one to run
// allocates nothing (a closure passed to Run would escape to the workers).
type task interface{ Do(i int) }

// funcTask adapts Run's func to a task (a func value is pointer-shaped: no allocation).
type funcTask func(i int)

func (f funcTask) Do(i int) { f(i) }

// job is one call of run, shared by the caller and the workers it was handed to. Jobs
// are recycled, so a worker that dequeues a job late must never see the job's next use:
// refs counts the caller plus every copy successfully handed to a worker, each holder
// drops its reference when it is done with the job, and the last one out recycles it.
// A late worker only finds next ≥ n and leaves; the caller waits for the items that
// were claimed, never for queued copies (so run may be called from inside a task).
type job struct {
	t    task
	n    int64
	next atomic.Int64 // next item to claim
	done atomic.Int64 // items finished
	refs atomic.Int32
	// wake receives one value per use when a worker finishes the last item (the caller
	// does not wait when it finished the last item itself). Capacity 1: never blocks.
	wake chan struct{}
}

// maxFreeJobs bounds a pool's list of recycled jobs: as many as there are calls in
// flight at once (concurrent callers, nested calls, copies still queued) are reused.
// A list rather than a sync.Pool: the last one out is often a worker, on another P
// than the next caller, and a sync.Pool would then miss now and again.
const maxFreeJobs = 128

// NewPool starts a pool of threads workers (the caller's goroutine counts as one);
// threads <= 0 means runtime.GOMAXPROCS(0).
func NewPool(threads int) *Pool {
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	p := &Pool{threads: threads, jobs: make(chan *job, threads), free: make(chan *job, maxFreeJobs)}
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
		close(p.jobs) // the workers still drain the copies already queued
	}
}

func (p *Pool) worker() {
	for {
		j, ok := spinRecv(p.jobs)
		if !ok {
			return
		}
		if j.work() {
			j.wake <- struct{}{}
		}
		p.release(j)
	}
}

// spinWait is how long a worker polls for its next job, and a caller for the end of
// its job, before sleeping: waking a sleeping thread takes tens of microseconds, as
// long as a small matrix multiply, and a model runs its kernels back to back.
const spinWait = 500 * time.Microsecond

// spinRecv receives from ch, polling for up to spinWait before blocking.
func spinRecv[T any](ch <-chan T) (T, bool) {
	deadline := time.Now().Add(spinWait)
	for {
		select {
		case v, ok := <-ch:
			return v, ok
		default:
		}
		if time.Now().After(deadline) {
			v, ok := <-ch
			return v, ok
		}
		runtime.Gosched()
	}
}

// work runs items of j until none is left to claim and reports whether it finished
// the last one.
func (j *job) work() (last bool) {
	for {
		i := j.next.Add(1) - 1
		if i >= j.n {
			return last
		}
		j.t.Do(int(i))
		if j.done.Add(1) == j.n {
			last = true
		}
	}
}

// release drops one reference to j; the last one recycles it.
func (p *Pool) release(j *job) {
	if j.refs.Add(-1) == 0 {
		j.t = nil
		select {
		case p.free <- j:
		default: // the list is full: leave j to the garbage collector
		}
	}
}

// Run calls fn(i) for every i in [0, n), spread over the pool, and returns when all
// calls have returned. fn must be safe to call concurrently. A panic in fn on a worker
// goroutine crashes the program. Run itself does not allocate in the steady state (a
// closure created for the call may); it may be called from inside fn.
func (p *Pool) Run(n int, fn func(i int)) { p.run(n, funcTask(fn)) }

// run is Run for a task.
func (p *Pool) run(n int, t task) {
	if n <= 0 {
		return
	}
	if p == nil || p.threads == 1 || n == 1 {
		for i := 0; i < n; i++ {
			t.Do(i)
		}
		return
	}
	var j *job
	select {
	case j = <-p.free:
	default:
		j = &job{wake: make(chan struct{}, 1)}
	}
	j.t, j.n = t, int64(n)
	j.next.Store(0)
	j.done.Store(0)
	j.refs.Store(1) // the caller's
	p.mu.RLock()
	if !p.closed {
		for h := min(p.threads, n) - 1; h > 0; h-- {
			j.refs.Add(1) // before the send: the worker may finish and release at once
			select {
			case p.jobs <- j:
				continue
			default:
			}
			j.refs.Add(-1) // every worker is busy or already has work queued
			break
		}
	}
	p.mu.RUnlock()
	if !j.work() {
		spinRecv(j.wake)
	}
	p.release(j)
}
