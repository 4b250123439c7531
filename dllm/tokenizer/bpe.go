package tokenizer

import "sync"

// merge is the result of merging one adjacent pair: its rank (lower merges
// first) and the id of the merged token.
type merge struct {
	rank int32
	id   int32
}

// bpe is a byte-level BPE model working on raw bytes: initial symbols are
// single bytes, and merges are looked up by the ids of the two symbols.
type bpe struct {
	merges       map[uint64]merge
	byteID       [256]int32       // id of each single byte; -1 if the vocabulary lacks it
	rawToID      map[string]int32 // raw-byte form of model tokens (for ignore_merges)
	ignoreMerges bool
	cache        *wordCache
}

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// maxCachedWord is the longest pre-token (in bytes) whose encoding is cached.
const maxCachedWord = 256

// encodeWord appends the ids of one pre-token (raw bytes) to out.
func (m *bpe) encodeWord(w string, out []int32) []int32 {
	if len(w) == 1 {
		if id := m.byteID[w[0]]; id >= 0 {
			out = append(out, id)
		}
		return out
	}
	if m.ignoreMerges {
		if id, ok := m.rawToID[w]; ok {
			return append(out, id)
		}
	}
	if len(w) < maxCachedWord && m.cache != nil {
		if ids, ok := m.cache.get(w); ok {
			return append(out, ids...)
		}
		start := len(out)
		out = m.merge(w, out)
		m.cache.put(w, out[start:])
		return out
	}
	return m.merge(w, out)
}

// merge runs the BPE merges on w and appends the resulting ids.
func (m *bpe) merge(w string, out []int32) []int32 {
	var buf [64]int32
	syms := buf[:0]
	if len(w) > len(buf) {
		syms = make([]int32, 0, len(w))
	}
	for i := 0; i < len(w); i++ {
		// Bytes missing from the vocabulary are dropped (there is no unknown
		// token in byte-level BPE), as the reference implementation does.
		if id := m.byteID[w[i]]; id >= 0 {
			syms = append(syms, id)
		}
	}
	if len(syms) <= 48 {
		syms = m.mergeSmall(syms)
	} else {
		syms = m.mergeHeap(syms)
	}
	return append(out, syms...)
}

const noRank = int32(1<<31 - 1)

// mergeSmall merges a short word: ranks of adjacent pairs live in an array,
// the lowest (leftmost on ties) is merged and only its neighbours are looked
// up again. O(n²) comparisons but few map lookups; fastest for short words.
func (m *bpe) mergeSmall(syms []int32) []int32 {
	n := len(syms)
	if n < 2 {
		return syms
	}
	var rbuf [64]merge
	ranks := rbuf[:0]
	if n-1 > len(rbuf) {
		ranks = make([]merge, 0, n-1)
	}
	ranks = ranks[:n-1]
	for i := 0; i < n-1; i++ {
		ranks[i] = m.lookup(syms[i], syms[i+1])
	}
	for {
		best := -1
		br := noRank
		for i, r := range ranks {
			if r.rank < br {
				br, best = r.rank, i
			}
		}
		if best < 0 {
			return syms
		}
		syms[best] = ranks[best].id
		syms = append(syms[:best+1], syms[best+2:]...)
		ranks = append(ranks[:best], ranks[best+1:]...)
		if best > 0 {
			ranks[best-1] = m.lookup(syms[best-1], syms[best])
		}
		if best < len(ranks) {
			ranks[best] = m.lookup(syms[best], syms[best+1])
		}
	}
}

func (m *bpe) lookup(a, b int32) merge {
	if r, ok := m.merges[pairKey(a, b)]; ok {
		return r
	}
	return merge{rank: noRank, id: -1}
}

// heapItem is a candidate merge of the symbol at pos with its right
// neighbour; left and right record the ids it was computed for, so stale
// entries are recognised when popped.
type heapItem struct {
	rank, pos   int32
	left, right int32
	id          int32
}

func (a heapItem) less(b heapItem) bool {
	return a.rank < b.rank || (a.rank == b.rank && a.pos < b.pos)
}

type mergeHeap []heapItem

func (h *mergeHeap) push(x heapItem) {
	*h = append(*h, x)
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !s[i].less(s[p]) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *mergeHeap) pop() heapItem {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s = s[:last]
	i := 0
	for {
		l := 2*i + 1
		if l >= len(s) {
			break
		}
		c := l
		if r := l + 1; r < len(s) && s[r].less(s[l]) {
			c = r
		}
		if !s[c].less(s[i]) {
			break
		}
		s[i], s[c] = s[c], s[i]
		i = c
	}
	*h = s
	return top
}

// mergeHeap merges a long word in O(n log n): symbols form a doubly linked
// list, candidate pairs sit in a min-heap ordered by (rank, position), and
// entries made stale by earlier merges are skipped when popped.
func (m *bpe) mergeHeap(syms []int32) []int32 {
	n := int32(len(syms))
	prev := make([]int32, n)
	next := make([]int32, n)
	alive := make([]bool, n)
	h := make(mergeHeap, 0, n)
	for i := int32(0); i < n; i++ {
		prev[i], next[i], alive[i] = i-1, i+1, true
	}
	next[n-1] = -1
	try := func(pos int32) {
		q := next[pos]
		if q < 0 {
			return
		}
		if r := m.lookup(syms[pos], syms[q]); r.id >= 0 {
			h.push(heapItem{rank: r.rank, pos: pos, left: syms[pos], right: syms[q], id: r.id})
		}
	}
	for i := int32(0); i < n-1; i++ {
		try(i)
	}
	for len(h) > 0 {
		it := h.pop()
		p := it.pos
		q := next[p]
		if !alive[p] || q < 0 || syms[p] != it.left || syms[q] != it.right {
			continue
		}
		syms[p] = it.id
		alive[q] = false
		next[p] = next[q]
		if next[q] >= 0 {
			prev[next[q]] = p
		}
		if prev[p] >= 0 {
			try(prev[p])
		}
		try(p)
	}
	out := syms[:0]
	for i := int32(0); i >= 0 && i < n; i = next[i] {
		out = append(out, syms[i])
	}
	return out
}

// wordCache is a bounded, concurrency-safe cache of pre-token encodings.
// It is sharded to keep lock contention low; a full shard evicts an
// arbitrary entry (Go's randomised map iteration picks it).
type wordCache struct {
	shards [cacheShards]cacheShard
}

const (
	cacheShards   = 32
	cachePerShard = 1024 // 32k entries in total
)

type cacheShard struct {
	mu sync.RWMutex
	m  map[string][]int32
}

func newWordCache() *wordCache {
	c := &wordCache{}
	for i := range c.shards {
		c.shards[i].m = make(map[string][]int32)
	}
	return c
}

// shard picks a shard from a cheap mix of the word's length and end bytes
// (the shard map hashes the word anyway; this only spreads lock traffic).
func (c *wordCache) shard(w string) *cacheShard {
	h := uint(len(w))*0x9E37 ^ uint(w[0])*0x85EB ^ uint(w[len(w)-1])*0xC2B3 ^ uint(w[len(w)/2])
	return &c.shards[(h^h>>7)%cacheShards]
}

func (c *wordCache) get(w string) ([]int32, bool) {
	s := c.shard(w)
	s.mu.RLock()
	ids, ok := s.m[w]
	s.mu.RUnlock()
	return ids, ok
}

func (c *wordCache) put(w string, ids []int32) {
	v := append([]int32(nil), ids...)
	key := string([]byte(w)) // detach from the caller's (possibly large) text
	s := c.shard(w)
	s.mu.Lock()
	if len(s.m) >= cachePerShard {
		for k := range s.m {
			delete(s.m, k)
			break
		}
	}
	s.m[key] = v
	s.mu.Unlock()
}
