package kernels

// xPrep is the left operand of a matrix multiply, x[m×k] in float32, plus its 8-bit
// quantization when the weights are quantized, stored row by row in q, qrow bytes a row:
//
//   - for Q8_0/Q4_0 weights, Q8_0 blocks of 36 bytes: float32 d (the f16-rounded scale,
//     widened), then 32 int8;
//   - for Q4_K/Q6_K weights, Q8_K blocks of 292 bytes: float32 d, 256 int8, then 16 int16
//     sums of each 16 quants (ggml's block_q8_K).
//
// For float weights with at least 4 rows of x, packed holds x re-laid out K-chunk by
// K-chunk (chunk c, of length kc = min(floatChunk, k−c·floatChunk), holds the m rows'
// elements [c·floatChunk, c·floatChunk+kc) contiguously, rows kc apart): the rows an
// assembly kernel reads together are then contiguous instead of k·4 bytes apart, which
// would map them onto the same L1 sets. With k ≤ floatChunk that layout is x's own, and
// x is not copied (chunks: attention's products, 128-wide or over up to 1024 keys).
type xPrep struct {
	m, k   int
	f      []float32
	q      []byte
	qrow   int
	packed []float32
	// alt: the activation blocks in the layout a kernel takes instead of q's (its
	// actLayout: amd64 VNNI's Q8_0 quants flipped to unsigned, or blocks with their
	// sums); rows altRow bytes apart.
	alt    []byte
	altRow int
	// What prepare fills, for Do: the weights' format, the kernel's layout (nil: none)
	// and the rows of x one task takes.
	format  Format
	lay     *actLayout
	rowsPer int
}

// actLayout is a kernel's own layout of the Q8_0 activation blocks in xPrep.alt: made
// from xPrep.q after quantizing (fill), or quantized straight into it (quant).
type actLayout struct {
	blockBytes int                           // bytes per block of 32 activations
	fill       func(dst, src []byte, n int)  // lays the n Q8_0 blocks of src out in dst
	quant      func(dst []byte, x []float32) // x as blocks of this layout
}

// quantizes reports whether l is made by quantizing straight into it (a nil l is no
// layout).
func (l *actLayout) quantizes() bool { return l != nil && l.quant != nil }

// prepGrain is the fewest elements of x worth a task of their own when prepare spreads
// rows over a pool: some 2 µs of quantizing.
const prepGrain = 1 << 13

// prepare readies the m rows of k elements of x for a multiply with weights of format
// f, laid out for lay when not nil: it sizes xs's buffers, then quantizes, lays out or
// packs the rows, spread over p when they are many — done by the caller alone, this
// is serial time every other thread waits for (some 2–3 % of a forward on two
// threads, more with every thread added).
func (xs *xPrep) prepare(p *Pool, x []float32, m, k int, f Format, lay *actLayout) {
	xs.m, xs.k, xs.f, xs.format, xs.lay = m, k, x, f, lay
	switch f {
	case Q8_0, Q4_0:
		xs.qrow = k / 32 * q8BlockBytes
		n := m * xs.qrow
		if lay.quantizes() {
			n = 0 // quantized straight into alt
		}
		xs.q = grown(xs.q, n)
	case Q4_K, Q6_K:
		xs.qrow = k / 256 * q8KBlockBytes
		xs.q = grown(xs.q, m*xs.qrow)
	default:
		if m < 4 {
			return // the one-row float kernels read x as it is
		}
		if k <= floatChunk {
			return // one chunk: rows k apart, as x has them (chunks)
		}
		xs.packed = grown(xs.packed, m*k)
	}
	if lay != nil {
		xs.altRow = k / 32 * lay.blockBytes
		xs.alt = grown(xs.alt, m*xs.altRow)
	}
	tasks := min(p.Threads(), m, m*k/prepGrain)
	if tasks <= 1 {
		xs.prepRows(0, m)
		return
	}
	xs.rowsPer = (m + tasks - 1) / tasks
	p.run((m+xs.rowsPer-1)/xs.rowsPer, xs)
}

// chunks is x in the packed layout the float kernels read (see xPrep): packed, or x
// itself when its rows are a single chunk.
func (xs *xPrep) chunks() []float32 {
	if xs.k <= floatChunk {
		return xs.f
	}
	return xs.packed
}

// Do prepares task i's rows (see prepare).
func (xs *xPrep) Do(i int) { xs.prepRows(i*xs.rowsPer, min(xs.m, (i+1)*xs.rowsPer)) }

// prepRows prepares rows [m0, m1) of x: each row's blocks depend on that row alone.
func (xs *xPrep) prepRows(m0, m1 int) {
	quant, be, bb := active.quantQ8, 32, q8BlockBytes
	switch xs.format {
	case Q8_0, Q4_0:
	case Q4_K, Q6_K:
		quant, be, bb = active.quantQ8K, 256, q8KBlockBytes
	default:
		xs.packRows(m0, m1)
		return
	}
	if xs.lay.quantizes() {
		alt := xs.alt[m0*xs.altRow : m1*xs.altRow]
		quantInChunks(xs.lay.quant, alt, xs.f[m0*xs.k:m1*xs.k], 32, xs.lay.blockBytes)
		return
	}
	q := xs.q[m0*xs.qrow : m1*xs.qrow]
	quantInChunks(quant, q, xs.f[m0*xs.k:m1*xs.k], be, bb)
	if xs.lay != nil {
		xs.lay.fill(xs.alt[m0*xs.altRow:m1*xs.altRow], q, (m1-m0)*(xs.k/32))
	}
}

// packRows fills rows [m0, m1) of xs.packed (see xPrep).
func (xs *xPrep) packRows(m0, m1 int) {
	for k0 := 0; k0 < xs.k; k0 += floatChunk {
		kc := min(floatChunk, xs.k-k0)
		dst := xs.packed[k0*xs.m:]
		for m := m0; m < m1; m++ {
			copy(dst[m*kc:(m+1)*kc], xs.f[m*xs.k+k0:m*xs.k+k0+kc])
		}
	}
}

// Layouts of the activation blocks in xPrep.q, shared with the assembly (go_asm.h).
const (
	q8QuantsOff   = 4 // after the float32 d, in both layouts
	q8BlockBytes  = q8QuantsOff + 32
	q8KSumsOff    = q8QuantsOff + 256 // 16 int16 sums of each 16 quants
	q8KBlockBytes = q8KSumsOff + 32
)

// grown returns b resized to n elements, reallocated only when too small.
func grown[T any](b []T, n int) []T {
	if cap(b) < n {
		return make([]T, n)
	}
	return b[:n]
}

// quantChunk bounds the elements one quantizer call takes (a few tens of microseconds
// in assembly, which is not preemptible).
const quantChunk = 1 << 16

// quantInChunks runs quant over x in pieces of whole blocks of be elements (bb bytes
// each in dst).
func quantInChunks(quant func(dst []byte, x []float32), dst []byte, x []float32, be, bb int) {
	for len(x) > 0 {
		n := min(len(x), quantChunk)
		quant(dst[:n/be*bb], x[:n])
		dst, x = dst[n/be*bb:], x[n:]
	}
}
