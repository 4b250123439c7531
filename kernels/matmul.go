package kernels

import (
	"fmt"
	"runtime"
	"sync"
)

// MatMul sets y[m*N+n] = Σ_k x[m*K+k]·W[n][k] for m < M = len(x)/K and n < N, where
// K = w.Cols and N = w.Rows. len(y) must be M*N and y must not overlap x or w.Data.
//
// Accuracy: see the package documentation. F32/F16/BF16 weights are widened exactly and
// products accumulated in float32. For Q8_0/Q4_0 weights each row of x is first
// quantized to Q8_0 blocks, for Q4_K/Q6_K to Q8_K blocks, and the inner products are
// exact integer sums per block (ggml's vec_dot_q*_q8_* arithmetic).
//
// A row of x holding a NaN or an infinity gives a row of y with no finite element (all
// NaN for quantized weights: such an activation block quantizes to a NaN scale), so a
// non-finite value is never lost on its way to the caller's checks; the other rows are
// unaffected.
//
// A row's result is bit-identical whatever M and the row's position in x: every
// implementation quantizes, accumulates and reduces each row the same way (the
// generic one differs from the assembly in the last bits, not between rows).
//
// MatMul panics when the lengths are inconsistent (len(x) not a multiple of K, len(y) not
// M*N, or w.Data not Rows whole rows): these are programming errors, and callers validate
// shapes when they load a model.
func (p *Pool) MatMul(y, x []float32, w Matrix) { p.matMul(y, x, w, false) }

// MatMulAdd is MatMul accumulating into y: y[m*N+n] += Σ_k x[m*K+k]·W[n][k].
func (p *Pool) MatMulAdd(y, x []float32, w Matrix) { p.matMul(y, x, w, true) }

// MatMulStride is MatMul with the rows of y ldy ≥ N elements apart: it sets
// y[m*ldy+n] for m < M, n < N, bit for bit MatMul's y[m*N+n], and leaves the elements
// between rows as they are. len(y) must be at least (M-1)·ldy + N. (Attention writes
// its scores this way straight into rows padded for the value product.)
func (p *Pool) MatMulStride(y []float32, ldy int, x []float32, w Matrix) {
	c := mmCalls.Get().(*mmCall)
	p.mul(c, y, ldy, x, w, false)
	mmCalls.Put(c)
}

// MatMul2 is MatMul(y1, x, w1) then MatMul(y2, x, w2) — a SwiGLU's gate and up
// projections — with x quantized (or packed) once for both when w1 and w2 take it
// alike (the same format, columns and kernels). The results are those of the two
// MatMuls, bit for bit.
func (p *Pool) MatMul2(y1, y2, x []float32, w1, w2 Matrix) {
	c := mmCalls.Get().(*mmCall)
	c.xs.k = -1 // no earlier preparation may pass for x's if the first call makes none
	p.mul(c, y1, 0, x, w1, false)
	c.again = true
	p.mul(c, y2, 0, x, w2, false)
	c.again = false
	mmCalls.Put(c)
}

// MatMulRows is MatMul over a subset of the rows of x: for each i, row rows[i] of x
// (K = w.Cols elements) is multiplied into y[i*N : (i+1)*N]. The chosen rows are
// gathered once, so the cost is that of a MatMul with M = len(rows) — the way to
// compute the LM head only at the positions a decoder will read. It panics when a row
// index is out of range or len(y) != len(rows)·N.
func (p *Pool) MatMulRows(y, x []float32, rows []int, w Matrix) {
	K := w.Cols
	if K == 0 {
		p.matMul(y, nil, w, false)
		return
	}
	c := mmCalls.Get().(*mmCall)
	if cap(c.g) < len(rows)*K {
		c.g = make([]float32, len(rows)*K)
	}
	g := c.g[:len(rows)*K]
	for i, r := range rows {
		if r < 0 || (r+1)*K > len(x) {
			panic(fmt.Sprintf("kernels: MatMulRows: row %d of a %d-row x", r, len(x)/K))
		}
		copy(g[i*K:(i+1)*K], x[r*K:(r+1)*K])
	}
	p.mul(c, y, 0, g, w, false)
	mmCalls.Put(c)
}

// gemmFunc computes y[m*ldy+n] (=, or += when add) Σ_k x[m][k]·W[n][k] for every
// m < xs.m and n in [n0, n1). w is the whole matrix; rb its row length in bytes. pf is
// memory the next call will read (the caller's next tile): a kernel may prefetch it
// while it computes.
type gemmFunc func(y []float32, ldy int, xs *xPrep, w Matrix, rb, n0, n1 int, add bool, pf []byte)

// mmCall is the state of one matrix multiply: the prepared activations and the
// arguments of its tiles. It is the task the pool runs (Do computes one tile), and it
// is recycled, scratch included, so a steady-state multiply allocates nothing.
type mmCall struct {
	xs    xPrep
	g     []float32 // MatMulRows' gathered rows of x
	y     []float32
	ldy   int // elements from a row of y to the next
	w     Matrix
	gemm  gemmFunc
	rb    int // bytes per weight row
	tile  int // weight rows per tile
	strip int // consecutive tiles per task
	add   bool
	// again: x is the one of the call before on this state, whose preparation xs
	// still holds (MatMul2); it is reused when it suits this call's kernels.
	again bool
}

var mmCalls = sync.Pool{New: func() any { return new(mmCall) }}

// Do computes strip t: tiles [t·strip, (t+1)·strip), tile i being weight rows
// [i·tile, (i+1)·tile) ∩ [0, N). Each tile's kernel may prefetch the next tile of the
// strip, so that the weights stream from memory while the previous tile computes.
func (c *mmCall) Do(t int) {
	N := c.w.Rows
	n0 := t * c.strip * c.tile
	end := min(n0+c.strip*c.tile, N)
	for n0 < end {
		n1 := min(n0+c.tile, end)
		next := c.w.Data[n1*c.rb : min(n1+c.tile, end)*c.rb]
		c.gemm(c.y, c.ldy, &c.xs, c.w, c.rb, n0, n1, c.add, next)
		n0 = n1
	}
}

func (p *Pool) matMul(y, x []float32, w Matrix, add bool) {
	c := mmCalls.Get().(*mmCall)
	p.mul(c, y, 0, x, w, add)
	mmCalls.Put(c)
}

// mul is matMul with the call state c, y's rows ldy apart (MatMulStride; 0: N, y
// holding exactly M·N). (c is not recycled when mul panics: a worker might still be
// using it.)
func (p *Pool) mul(c *mmCall, y []float32, ldy int, x []float32, w Matrix, add bool) {
	rb := w.validate()
	K, N := w.Cols, w.Rows
	if K == 0 {
		if len(x) != 0 {
			panic(fmt.Sprintf("kernels: MatMul: %d inputs for a matrix with 0 columns", len(x)))
		}
		if !add && ldy == 0 { // MatMulStride: no rows, nothing to set
			clear(y)
		}
		return
	}
	if len(x)%K != 0 {
		panic(fmt.Sprintf("kernels: MatMul: len(x)=%d is not a multiple of K=%d", len(x), K))
	}
	M := len(x) / K
	switch {
	case ldy == 0:
		ldy = N
		if len(y) != M*N {
			panic(fmt.Sprintf("kernels: MatMul: len(y)=%d, want M·N = %d·%d", len(y), M, N))
		}
	case ldy < N:
		panic(fmt.Sprintf("kernels: MatMulStride: rows of y %d apart, want at least N = %d", ldy, N))
	case M > 0 && len(y) < (M-1)*ldy+N:
		panic(fmt.Sprintf("kernels: MatMulStride: len(y)=%d, want at least (M-1)·ldy + N = %d·%d + %d", len(y), M-1, ldy, N))
	}
	if M == 0 || N == 0 {
		return
	}
	gemm, lay, group := active.gemm[w.Format], active.prep[w.Format], 1
	nextTile := false // the kernels prefetch the next tile in their later passes
	plain := w        // keeps w's repack (and so its memory) alive until the tiles are done
	if k, ok := w.repackedKernels(); ok {
		if rw, ok := w.repackedAs(k.layout); ok {
			gemm, lay, group, nextTile = k.gemm, k.prep, k.layout.width, k.rows2to4
			w, rb = rw, len(rw.Data)/N
		}
	}
	xs := &c.xs
	if c.again && xs.m == M && xs.k == K && xs.format == w.Format && xs.lay == lay {
		xs.f = x
	} else {
		xs.prepare(p, x, M, K, w.Format, lay)
	}
	rbTile := rb // bytes of a tile row that must stay cache-resident
	float := w.Format == F32 || w.Format == F16 || w.Format == BF16
	if float {
		rbTile = min(rb, floatChunk*rb/K) // float kernels walk K in chunks
	}
	c.y, c.ldy, c.w, c.gemm, c.rb, c.add = y, ldy, w, gemm, rb, add
	c.tile = tileRows(M, N, K, rbTile, p.Threads())
	if group > 1 {
		q := 3 * group // whole groups of the layout's rows, and of 12
		c.tile = max(q, c.tile/q*q)
	}
	tiles := (N + c.tile - 1) / c.tile
	c.strip = 1
	if M >= 4 && float || nextTile && laterPasses(M) > 0 {
		// Float weights at M ≥ 4 are reused from L2 by every row of x, and so are
		// repacked quantized ones by the 2–4-row kernels' passes after the first: tiles
		// run in strips, a few per thread, and each prefetches the next (see Do).
		c.strip = max(1, tiles/(stripsPerThread*p.Threads()))
	}
	p.run((tiles+c.strip-1)/c.strip, c)
	runtime.KeepAlive(plain)
	// Keep the scratch, drop the references to the caller's memory.
	c.y, c.w, c.gemm, xs.f = nil, Matrix{}, nil, nil
}

// laterPasses is how many passes over a tile the repacked 2–4-row kernels (kN) make
// after the first for M rows of x: one per 4 rows, the last 2 or 3 in one more, and
// a last single row goes to the one-row kernel.
func laterPasses(M int) int { return max(0, (M+2)/4-1) }

// stripsPerThread is how many strips of tiles each thread gets (more balance the load
// on a shared machine; fewer leave fewer tiles without prefetch).
const stripsPerThread = 4

// floatChunk is the K-chunk of the 4-row float kernels: 4 rows of x (16 KiB) stay in
// L1 while the tile's weight chunk streams from L2. (A var only so benchmarks can
// explore other sizes.)
var floatChunk = 1024

// tileRows picks how many weight rows one task covers: a multiple of 12 (so assembly
// micro-kernels see whole groups), small enough that the tile's weights stay in L2
// while every row of x passes over them and that the pool gets several tiles per
// thread, and bounded so one task takes well under a millisecond.
func tileRows(M, N, K, rb, threads int) int {
	const l2Budget = 96 << 10 // bytes of weights per tile
	if M == 1 {
		// One row of x reads each weight once: nothing to keep in L2, and long
		// contiguous streams per task (8 per thread) keep the hardware and software
		// prefetch running instead of restarting them every 96 KiB. Still bounded to
		// about 2^22 multiply-adds a task.
		tiles := 8 * threads
		return max(12, min((N+tiles-1)/tiles+11, (1<<22)/max(K, 1))/12*12)
	}
	t := max(12, l2Budget/max(rb, 1)/12*12)
	// Bound the work of one tile to about 2^22 multiply-adds (~0.1 ms).
	for t > 12 && t*M*K > 1<<22 {
		t -= 12
	}
	// Keep at least 4 tiles per thread when N allows it.
	for t > 12 && (N+t-1)/t < 4*threads {
		t -= 12
	}
	return t
}
