package llada2

import (
	"fmt"

	"github.com/dllm-go/dllm/kernels"
)

// kvCache stores the keys and values of every layer for positions 0…alloc-1, laid out
// [layer][kv head][position][head_dim] so that the keys of one head form one contiguous
// [positions, head_dim] matrix: attention scores for a whole group of query heads are then
// a single matrix multiplication.
//
// The slots past the committed length double as scratch for the run being computed: a
// forward writes its K/V at positions len…len+run-1 and only commit moves len forward.
// This makes a non-committing forward and a committing one do identical arithmetic, which
// is what makes the cache path equal the recompute path.
//
// Storage grows geometrically up to the capacity, so a session sized for the full context
// only holds memory for what it has used; growth is the only allocation and never happens
// while a block is being re-run at a fixed position.
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
	c.grow(min(c.capacity, max(n, 2*c.alloc)))
	return nil
}

// grow reallocates to hold n positions per head, keeping the contents.
func (c *kvCache) grow(n int) {
	old := c.alloc
	size := c.layers * c.heads * n * c.dim
	stride := func(a int) int { return a * c.dim }
	if c.f16 {
		k, v := make([]byte, 2*size), make([]byte, 2*size)
		for lh := 0; lh < c.layers*c.heads && old > 0; lh++ {
			copy(k[2*lh*stride(n):], c.k16[2*lh*stride(old):2*(lh+1)*stride(old)])
			copy(v[2*lh*stride(n):], c.v16[2*lh*stride(old):2*(lh+1)*stride(old)])
		}
		c.k16, c.v16 = k, v
	} else {
		k, v := make([]float32, size), make([]float32, size)
		for lh := 0; lh < c.layers*c.heads && old > 0; lh++ {
			copy(k[lh*stride(n):], c.k[lh*stride(old):(lh+1)*stride(old)])
			copy(v[lh*stride(n):], c.v[lh*stride(old):(lh+1)*stride(old)])
		}
		c.k, c.v = k, v
	}
	c.alloc = n
}

// offset is the element index of (layer, head, pos).
func (c *kvCache) offset(layer, head, pos int) int {
	return ((layer*c.heads+head)*c.alloc + pos) * c.dim
}

// put stores the key and value vectors of (layer, head, pos).
func (c *kvCache) put(layer, head, pos int, k, v []float32) {
	o := c.offset(layer, head, pos)
	if c.f16 {
		kernels.F32ToF16(c.k16[2*o:2*(o+c.dim)], k)
		kernels.F32ToF16(c.v16[2*o:2*(o+c.dim)], v)
		return
	}
	copy(c.k[o:o+c.dim], k)
	copy(c.v[o:o+c.dim], v)
}

// keys returns the keys of positions 0…n-1 of (layer, head) as an [n, dim] matrix.
func (c *kvCache) keys(layer, head, n int) kernels.Matrix {
	o := c.offset(layer, head, 0)
	if c.f16 {
		return kernels.Matrix{Format: kernels.F16, Rows: n, Cols: c.dim, Data: c.k16[2*o : 2*(o+n*c.dim)]}
	}
	return kernels.F32Matrix(c.k[o:o+n*c.dim], n, c.dim)
}

// value writes the value vector of (layer, head, pos) as float32: a view of the storage
// for f32 caches, a conversion into tmp for f16 ones.
func (c *kvCache) value(layer, head, pos int, tmp []float32) []float32 {
	o := c.offset(layer, head, pos)
	if c.f16 {
		kernels.F16ToF32(tmp[:c.dim], c.v16[2*o:2*(o+c.dim)])
		return tmp[:c.dim]
	}
	return c.v[o : o+c.dim]
}

// values returns the values of positions 0…n-1 of (layer, head), contiguous [n, dim]:
// float32 for f32 caches; nil for f16 caches (use value per position).
func (c *kvCache) values(layer, head, n int) []float32 {
	if c.f16 {
		return nil
	}
	o := c.offset(layer, head, 0)
	return c.v[o : o+n*c.dim]
}
