package arch

import (
	"fmt"
	"unsafe"

	"github.com/dllm-go/dllm/kernels"
)

// kvCache stores the keys and values of every layer for positions 0…alloc-1. Keys are
// laid out [layer][kv head][position][head_dim], so the keys of one head form one
// contiguous [positions, head_dim] matrix and the scores of a whole group of query heads
// are a single matrix multiplication. Values are stored transposed,
// [layer][kv head][head_dim][position], so that the weighted sum of values is a matrix
// multiplication too (by the probabilities, with the values' transpose as input).
//
// The slots past the committed length double as scratch for the run being computed: a
// forward writes its K/V at positions len…len+run-1 and only commit moves len forward.
// This makes a non-committing forward and a committing one do identical arithmetic, which
// is what makes the cache path equal the recompute path.
//
// Storage grows geometrically up to the capacity, with room past what it must hold (see
// grownAlloc), so a session sized for the full context only holds memory for what it has
// used; growth is the only allocation and never happens while a block is being re-run at
// a fixed position.
type kvCache struct {
	layers, heads, dim int
	capacity           int // hard limit on positions
	alloc              int // positions currently allocated per head
	f16                bool
	k, v               []float32 // f32 storage, len layers·heads·alloc·dim
	k16, v16           []byte    // f16 storage, little-endian, 2 bytes per element
}

func newKVCache(layers, heads, dim, capacity, initial int, f16 bool) *kvCache {
	c := &kvCache{layers: layers, heads: heads, dim: dim, capacity: capacity, f16: f16}
	c.grow(min(initial, capacity))
	return c
}

// ensure makes room for positions 0…n-1.
func (c *kvCache) ensure(n int) error {
	if n > c.capacity {
		return fmt.Errorf("llada2: KV cache capacity %d exceeded (need %d positions)", c.capacity, n)
	}
	if n <= c.alloc {
		return nil
	}
	c.grow(grownAlloc(c.alloc, n, c.capacity))
	return nil
}

// grownAlloc is the positions a cache of alloc positions grows to when it must hold n
// (alloc < n ≤ capacity): twice as many, and a quarter more than n. A prompt of
// thousands of tokens jumps past the doubling, and were it allocated to the exact
// length, the first block after it would copy the whole cache: on the 20-layer mini
// shape after 4000 tokens, that first step took 0.86–1.43 s against 0.35–0.38 s for
// the next ones.
func grownAlloc(alloc, n, capacity int) int {
	return min(capacity, max(2*alloc, n+n/4))
}

// grow reallocates to hold n positions per head, keeping the contents.
func (c *kvCache) grow(n int) {
	old := c.alloc
	size := c.layers * c.heads * n * c.dim
	es := 4 // bytes per element
	if c.f16 {
		es = 2
	}
	k, v := make([]byte, es*size), make([]byte, es*size)
	if old > 0 {
		ok, ov := c.kBytes(), c.vBytes()
		for lh := 0; lh < c.layers*c.heads; lh++ {
			// keys: one contiguous [old, dim] block per head
			copy(k[es*lh*n*c.dim:], ok[es*lh*old*c.dim:es*(lh+1)*old*c.dim])
			// values: dim rows of old positions per head
			for d := 0; d < c.dim; d++ {
				src := (lh*c.dim + d) * old
				dst := (lh*c.dim + d) * n
				copy(v[es*dst:], ov[es*src:es*(src+old)])
			}
		}
	}
	if c.f16 {
		c.k16, c.v16 = k, v
	} else {
		c.k, c.v = bytesF32(k), bytesF32(v)
	}
	c.alloc = n
}

func (c *kvCache) kBytes() []byte {
	if c.f16 {
		return c.k16
	}
	return f32Bytes(c.k)
}

func (c *kvCache) vBytes() []byte {
	if c.f16 {
		return c.v16
	}
	return f32Bytes(c.v)
}

// offset is the element index of key (layer, head, pos).
func (c *kvCache) offset(layer, head, pos int) int {
	return ((layer*c.heads+head)*c.alloc + pos) * c.dim
}

// vOffset is the element index of value component d of (layer, head) at position 0.
func (c *kvCache) vOffset(layer, head, d int) int {
	return ((layer*c.heads+head)*c.dim + d) * c.alloc
}

// putKey stores the key vector of (layer, head, pos).
func (c *kvCache) putKey(layer, head, pos int, k []float32) {
	o := c.offset(layer, head, pos)
	if c.f16 {
		kernels.F32ToF16(c.k16[2*o:2*(o+c.dim)], k)
		return
	}
	copy(c.k[o:o+c.dim], k)
}

// putValues stores components d0…d1-1 (at most valuePiece of them) of the value vectors
// of n tokens of (layer, head): token t's vector starts at src[t·stride], its position is
// start+t, or pos[t] where pos is set. Each of the transposed rows gets its n slots at
// once, a run of consecutive positions in one copy or conversion. The tokens' vectors are
// read in order into a small tile first: read component by component at a stride of
// whole rows (a multiple of 4 KiB on the mini shape), they would evict each other from
// the L1 cache. run is scratch of valueRun floats (on the heap: the conversion's kernel
// would make a local array escape).
func (c *kvCache) putValues(layer, head, d0, d1 int, src []float32, stride, n, start int, pos []int, run []float32) {
	var tile [valueRun * valuePiece]float32 // [token][component]
	for t0 := 0; t0 < n; t0 += valueRun {
		vs := run[:min(valueRun, n-t0)] // one component of the tile's tokens
		for t := range vs {
			copy(tile[t*valuePiece:], src[(t0+t)*stride+d0:(t0+t)*stride+d1])
		}
		for d := d0; d < d1; d++ {
			for t := range vs {
				vs[t] = tile[t*valuePiece+d-d0]
			}
			o := c.vOffset(layer, head, d)
			if pos == nil {
				c.putRun(o+start+t0, vs)
				continue
			}
			for t := range vs {
				c.putRun(o+pos[t0+t], vs[t:t+1])
			}
		}
	}
}

// valueRun is how many tokens putValues takes at a time.
const valueRun = 64

// putRun stores vs at consecutive elements of the value storage from element i.
func (c *kvCache) putRun(i int, vs []float32) {
	if c.f16 {
		kernels.F32ToF16(c.v16[2*i:2*(i+len(vs))], vs)
		return
	}
	copy(c.v[i:i+len(vs)], vs)
}

// keys returns the keys of positions 0…n-1 of (layer, head) as an [n, dim] matrix.
func (c *kvCache) keys(layer, head, n int) kernels.Matrix {
	o := c.offset(layer, head, 0)
	if c.f16 {
		return kernels.Matrix{Format: kernels.F16, Rows: n, Cols: c.dim, Data: c.k16[2*o : 2*(o+n*c.dim)]}
	}
	return kernels.F32Matrix(c.k[o:o+n*c.dim], n, c.dim)
}

// valuesT writes components d0…d1-1 of the values of positions 0…n-1 of (layer,
// head), transposed, into dst: a float32 row of each component, stride elements apart,
// its elements from n on zeroed.
func (c *kvCache) valuesT(layer, head, d0, d1, n, stride int, dst []float32) {
	for d := d0; d < d1; d++ {
		o := c.vOffset(layer, head, d)
		row := dst[(d-d0)*stride : (d-d0+1)*stride]
		if c.f16 {
			kernels.F16ToF32(row[:n], c.v16[2*o:2*(o+n)])
		} else {
			copy(row[:n], c.v[o:o+n])
		}
		clear(row[n:])
	}
}

// f32Bytes views a float32 slice as its bytes; bytesF32 is the inverse.
func f32Bytes(f []float32) []byte {
	if len(f) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&f[0])), 4*len(f))
}

func bytesF32(b []byte) []float32 {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), len(b)/4)
}
