package serve

import (
	"context"
	"sync"

	"github.com/dllm-go/dllm/dllm"
)

// pool lends a fixed set of sessions to requests. A request that finds none free waits
// in a FIFO queue of bounded length; beyond it, acquire fails with errQueueFull. A free
// session is chosen by its cache: the one whose cache the prompt extends furthest (in
// whole blocks, what decoding can reuse), so that a conversation's next turn computes
// only what is new; when none helps, the one idle longest, which keeps the caches of
// recent conversations for their next turns.
type pool struct {
	mu       sync.Mutex
	idle     []*entry
	waiters  []chan *entry
	maxQueue int
	closed   bool
	all      []*entry
}

// entry is one session; cached mirrors its cache's tokens between generations, and
// block the block length they were computed with.
type entry struct {
	sess   *dllm.Session
	cached []int32
	block  int
}

func newPool(m *dllm.Model, size, maxQueue int) (*pool, error) {
	p := &pool{maxQueue: maxQueue}
	for range size {
		s, err := m.NewSession()
		if err != nil {
			p.close()
			return nil, err
		}
		e := &entry{sess: s}
		p.all = append(p.all, e)
		p.idle = append(p.idle, e)
	}
	return p, nil
}

// acquire returns a session for prompt, decoded with blocks of length block, waiting in
// the queue while ctx allows.
func (p *pool) acquire(ctx context.Context, prompt []int32, block int) (*entry, error) {
	p.mu.Lock()
	switch {
	case p.closed:
		p.mu.Unlock()
		return nil, errShuttingDown
	case len(p.idle) > 0:
		e := p.takeBest(prompt, block)
		p.mu.Unlock()
		e.block = block
		return e, nil
	case len(p.waiters) >= p.maxQueue:
		p.mu.Unlock()
		return nil, errQueueFull
	}
	ch := make(chan *entry, 1)
	p.waiters = append(p.waiters, ch)
	p.mu.Unlock()

	select {
	case e := <-ch:
		if e == nil {
			return nil, errShuttingDown
		}
		e.block = block
		return e, nil
	case <-ctx.Done():
		p.mu.Lock()
		for i, w := range p.waiters {
			if w == ch {
				p.waiters = append(p.waiters[:i], p.waiters[i+1:]...)
				p.mu.Unlock()
				return nil, context.Cause(ctx)
			}
		}
		p.mu.Unlock()
		// A release handed us a session as we gave up: pass it on.
		if e := <-ch; e != nil {
			p.release(e)
		}
		return nil, context.Cause(ctx)
	}
}

// takeBest removes and returns the idle session that suits prompt best; p.mu is held and
// some session is idle. idle is ordered from the longest idle.
func (p *pool) takeBest(prompt []int32, block int) *entry {
	best, bestLen := 0, 0
	for i, e := range p.idle {
		if e.block != block || block <= 0 { // block 0: a family without a cache to reuse
			continue
		}
		if n := commonPrefix(e.cached, prompt) / block * block; n > bestLen {
			best, bestLen = i, n
		}
	}
	e := p.idle[best]
	p.idle = append(p.idle[:best], p.idle[best+1:]...)
	return e
}

// release gives e back: to the longest-waiting request, or to the idle set.
func (p *pool) release(e *entry) {
	e.cached = e.sess.CachedTokens()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.waiters) > 0 {
		ch := p.waiters[0]
		p.waiters = p.waiters[1:]
		ch <- e
		return
	}
	p.idle = append(p.idle, e)
}

// waiting returns how many requests are queued.
func (p *pool) waiting() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.waiters)
}

// close closes every session, cancelling running generations, and turns queued
// requests away.
func (p *pool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	for _, ch := range p.waiters {
		ch <- nil
	}
	p.waiters = nil
	for _, e := range p.all {
		e.sess.Close()
	}
}

func commonPrefix(a, b []int32) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}
