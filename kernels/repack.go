package kernels

import (
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/dllm-go/dllm/kernels/pagemem"
)

// Quantized weights multiply fastest with 8 rows side by side (16 for 512-bit
// vectors): one broadcast activation dword then meets 4 quants of each of 8 rows in
// one vector, and each int32 lane ends as one row's sum, so scales apply per lane with
// no horizontal reduction. Where the active kernels multiply such a layout (repacked
// in the kernel table: Q4_K and Q6_K 8 wide on amd64 AVX2; Q4_K, Q6_K and Q8_0 16
// wide on AVX-512 VNNI), a matrix is repacked into it once, by Matrix.Repack or else
// on its first multiply, into memory of its own (package pagemem: outside the Go
// heap, on huge pages where Linux grants them); the file's mapping is left as it is.
// Only whole groups of the layout's rows repack: a matrix of other row counts takes
// the next layout in the table's list that fits, or multiplies from the file's layout.
//
// The Q4_K layout (q4KX8): rows in groups of 8, each group's super-blocks in order,
// each q4KX8BlockBytes:
//
//	d[8] f16 | dmin[8] f16 | sc[s][r] u8 (8×8) | m[g][r][2] u8 (4×8×2) | qs[g][c][r][4]
//
// for row r < 8 of the group and sub-block s < 8; m[g][r] are the mins of sub-blocks
// 2g and 2g+1 of row r side by side (one int16 pair per row once widened, what one
// VPMADDWD takes against the activations' two sums of 32); qs[g][c][r] are bytes
// 4c…4c+3 of 64-element group g of row r's quants (low nibbles: sub-block 2g, high:
// 2g+1).
const (
	q4KX8DOff       = 0
	q4KX8DMinOff    = 16
	q4KX8ScalesOff  = 32
	q4KX8MinsOff    = 96
	q4KX8QuantsOff  = 160
	q4KX8BlockBytes = q4KX8QuantsOff + 8*128
)

// The Q4_K layout of the 512-bit kernels (q4KX16): q4KX8 with 16 rows side by side.
const (
	q4KX16DOff       = 0
	q4KX16DMinOff    = 32
	q4KX16ScalesOff  = 64
	q4KX16MinsOff    = 192
	q4KX16QuantsOff  = 320
	q4KX16BlockBytes = q4KX16QuantsOff + 16*128
)

// The Q8_0 layout (q8X16, for 512-bit kernels): rows in groups of 16, each group's
// blocks in order, each q8X16BlockBytes (16 × the plain block's 34):
//
//	d[16] f16 | qs[c][r][4] u8
//
// where qs[c][r] are the quants 4c…4c+3 of row r plus 128 (unsigned, what VPDPBUSD
// takes; the kernels take −128·Σq off with the activations, see prepQ8X8).
const (
	q8X16DOff       = 0
	q8X16QuantsOff  = 32
	q8X16BlockBytes = q8X16QuantsOff + 16*32
)

// The Q8_0 layout of the 256-bit kernels without VNNI (q8X8): rows in groups of 8,
//
//	d[8] f16 | qs[c][r][4] i8
//
// the quants as the file has them (signed: VPMADDUBSW takes |w| and moves w's sign
// onto the activations).
const (
	q8X8DOff       = 0
	q8X8QuantsOff  = 16
	q8X8BlockBytes = q8X8QuantsOff + 8*32
)

// repackQ4KX8 writes the rows×(nb super-blocks) Q4_K matrix src (rows%8 == 0) in the
// q4KX8 layout into dst (rows/8·nb·q4KX8BlockBytes bytes).
func repackQ4KX8(dst, src []byte, rows, nb int) { repackQ4KWide(dst, src, rows, nb, 8) }

// repackQ4KX16 writes the rows×(nb super-blocks) Q4_K matrix src (rows%16 == 0) in the
// q4KX16 layout into dst (rows/16·nb·q4KX16BlockBytes bytes).
func repackQ4KX16(dst, src []byte, rows, nb int) { repackQ4KWide(dst, src, rows, nb, 16) }

// repackQ4KWide writes src in the Q4_K layout of width rows side by side (8: q4KX8, 16:
// q4KX16; the same fields, each width entries wide).
func repackQ4KWide(dst, src []byte, rows, nb, width int) {
	rb := nb * q4KBlockBytes
	dOff, dminOff, scOff, mOff, qOff := 0, 2*width, 4*width, 12*width, 20*width
	blockBytes := qOff + 128*width
	for g := 0; g < rows/width; g++ {
		for b := 0; b < nb; b++ {
			out := dst[(g*nb+b)*blockBytes:][:blockBytes]
			for r := 0; r < width; r++ {
				blk := src[(width*g+r)*rb+b*q4KBlockBytes:][:q4KBlockBytes]
				copy(out[dOff+2*r:][:2], blk[0:2])
				copy(out[dminOff+2*r:][:2], blk[q4KDMinOff:][:2])
				for s := 0; s < 8; s++ {
					out[scOff+width*s+r], out[mOff+2*width*(s/2)+2*r+s%2] = Q4KScaleMin(s, blk[q4KScalesOff:])
				}
				for c := 0; c < 32; c++ { // c = 8·group + chunk
					copy(out[qOff+4*width*c+4*r:][:4], blk[q4KQuantsOff+4*c:][:4])
				}
			}
		}
	}
}

// The Q6_K layout (q6KX8): rows in groups of 8, each group's super-blocks in order,
// each q6KX8BlockBytes (8 × the plain super-block's 210):
//
//	d[8] f16 | sc[t][r][2] i8 (8×8×2) | ql[g][p][r][4] (16×2×8×4) | qh[g][r][4] (16×8×4)
//
// for row r < 8 and 16-element scale group g < 16 (t = g/2: the scales of groups 2t
// and 2t+1 side by side). With q the 6-bit quants (value d·sc·(q−32)), byte i < 4 of
// row r in ql[g][p] holds q[16g+8p+i] in its low nibble and q[16g+8p+4+i] in its high
// one (the low 4 bits), and in qh[g] the 2-bit fields k < 4 hold q[16g+4k+i]'s high
// bits. Each group is then 4 chunks of 4 quants × 8 rows from 3 loads.
const (
	q6KX8DOff       = 0
	q6KX8ScalesOff  = 16
	q6KX8QLOff      = q6KX8ScalesOff + 128
	q6KX8QHOff      = q6KX8QLOff + 1024
	q6KX8BlockBytes = q6KX8QHOff + 512
)

// The Q6_K layout of the 512-bit kernels (q6KX16): q6KX8 with 16 rows side by side.
const (
	q6KX16DOff       = 0
	q6KX16ScalesOff  = 32
	q6KX16QLOff      = q6KX16ScalesOff + 256
	q6KX16QHOff      = q6KX16QLOff + 2048
	q6KX16BlockBytes = q6KX16QHOff + 1024
)

// repackQ6KX8 writes the rows×(nb super-blocks) Q6_K matrix src (rows%8 == 0) in the
// q6KX8 layout into dst (rows/8·nb·q6KX8BlockBytes bytes).
func repackQ6KX8(dst, src []byte, rows, nb int) { repackQ6KWide(dst, src, rows, nb, 8) }

// repackQ6KX16 writes the rows×(nb super-blocks) Q6_K matrix src (rows%16 == 0) in the
// q6KX16 layout into dst (rows/16·nb·q6KX16BlockBytes bytes).
func repackQ6KX16(dst, src []byte, rows, nb int) { repackQ6KWide(dst, src, rows, nb, 16) }

// repackQ6KWide writes src in the Q6_K layout of width rows side by side (8: q6KX8, 16:
// q6KX16; the same fields, each width entries wide).
func repackQ6KWide(dst, src []byte, rows, nb, width int) {
	rb := nb * q6KBlockBytes
	scOff := 2 * width
	qlOff := scOff + 16*width
	qhOff := qlOff + 128*width
	blockBytes := qhOff + 64*width
	var w [256]int8
	for g := 0; g < rows/width; g++ {
		for b := 0; b < nb; b++ {
			out := dst[(g*nb+b)*blockBytes:][:blockBytes]
			clear(out)
			for r := 0; r < width; r++ {
				blk := src[(width*g+r)*rb+b*q6KBlockBytes:][:q6KBlockBytes]
				copy(out[2*r:][:2], blk[q6KDOff:][:2])
				unpackQ6K(&w, blk)
				for sg := 0; sg < 16; sg++ {
					out[scOff+2*width*(sg/2)+2*r+sg%2] = blk[q6KScalesOff+sg]
					for e := 0; e < 16; e++ {
						q := byte(w[16*sg+e] + 32)
						k, i := e/4, e%4
						ql := out[qlOff+8*width*sg+4*width*(k/2)+4*r+i:]
						ql[0] |= q & 0x0F << (4 * (k % 2))
						out[qhOff+4*width*sg+4*r+i] |= q >> 4 << (2 * k)
					}
				}
			}
		}
	}
}

// repackQ8X16 writes the rows×(nb blocks) Q8_0 matrix src (rows%16 == 0) in the q8X16
// layout into dst (rows/16·nb·q8X16BlockBytes bytes).
func repackQ8X16(dst, src []byte, rows, nb int) {
	repackQ8(dst, src, rows, nb, 16, q8X16QuantsOff, 0x80) // q+128
}

// repackQ8X8 writes the rows×(nb blocks) Q8_0 matrix src (rows%8 == 0) in the q8X8
// layout into dst (rows/8·nb·q8X8BlockBytes bytes).
func repackQ8X8(dst, src []byte, rows, nb int) {
	repackQ8(dst, src, rows, nb, 8, q8X8QuantsOff, 0)
}

// repackQ8 writes src in groups of width rows, each block the width scales, then at
// quantsOff quants 4c…4c+3 of every row in turn, XOR flip.
func repackQ8(dst, src []byte, rows, nb, width, quantsOff int, flip byte) {
	rb := nb * q8_0BlockBytes
	bb := quantsOff + width*32
	for g := 0; g < rows/width; g++ {
		for b := 0; b < nb; b++ {
			out := dst[(g*nb+b)*bb:][:bb]
			for r := 0; r < width; r++ {
				blk := src[(width*g+r)*rb+b*q8_0BlockBytes:][:q8_0BlockBytes]
				copy(out[2*r:][:2], blk[0:2])
				for j, q := range blk[q8_0QuantsOff:] {
					out[quantsOff+4*width*(j/4)+4*r+j%4] = q ^ flip
				}
			}
		}
	}
}

// A layout is a repacked layout of one format: width rows side by side, blockBytes per
// width rows and block, written by repack (rows%width == 0).
type layout struct {
	id         int // index into layouts and repacked's copies (set by init)
	format     Format
	width      int
	blockBytes int
	repack     func(dst, src []byte, rows, nb int)
}

var (
	q4KX8  = &layout{format: Q4_K, width: 8, blockBytes: q4KX8BlockBytes, repack: repackQ4KX8}
	q4KX16 = &layout{format: Q4_K, width: 16, blockBytes: q4KX16BlockBytes, repack: repackQ4KX16}
	q8X16  = &layout{format: Q8_0, width: 16, blockBytes: q8X16BlockBytes, repack: repackQ8X16}
	q8X8   = &layout{format: Q8_0, width: 8, blockBytes: q8X8BlockBytes, repack: repackQ8X8}
	q6KX8  = &layout{format: Q6_K, width: 8, blockBytes: q6KX8BlockBytes, repack: repackQ6KX8}
	q6KX16 = &layout{format: Q6_K, width: 16, blockBytes: q6KX16BlockBytes, repack: repackQ6KX16}
	// layouts lists every layout; a layout's id is its index here.
	layouts = [...]*layout{q4KX8, q4KX16, q8X16, q6KX8, q6KX16, q8X8}
)

func init() {
	for i, l := range layouts {
		l.id = i
	}
}

// repacked holds a matrix's weights in the repacked layouts it has been multiplied
// from (one, unless the kernels in use change), each made on first use. Matrix values
// copied from one NewMatrix share it.
type repacked struct {
	once [len(layouts)]sync.Once
	mem  *[len(layouts)]mapping
}

// mapping is the memory of a repacked matrix; a cleanup frees it once its repacked
// is garbage. It is nil until made, and stays nil when the repack could not get
// memory (the plain layout serves); atomic, since Repacked may ask while it is made.
type mapping struct {
	m atomic.Pointer[pagemem.Block]
}

// newRepacked returns the repack state of a rows-row matrix of format f, or nil when
// the format has no repacked layout or the rows are not whole groups of 8 (the
// narrowest layout).
func newRepacked(f Format, rows int) *repacked {
	if rows%8 != 0 || rows == 0 || !slices.ContainsFunc(layouts[:], func(l *layout) bool { return l.format == f }) {
		return nil
	}
	p := &repacked{mem: new([len(layouts)]mapping)}
	runtime.AddCleanup(p, func(ms *[len(layouts)]mapping) {
		for i := range ms {
			if mem := ms[i].m.Load(); mem != nil {
				mem.Free()
			}
		}
	}, p.mem)
	return p
}

// Repack makes m's repacked layout now, where the active kernels have one (see
// Repacks), instead of on its first multiply, and reports whether m multiplies from
// it. Loading a model repacks its matrices this way, so that no forward pays for it.
func (m Matrix) Repack() bool {
	k, ok := m.repackedKernels()
	if !ok {
		return false
	}
	_, ok = m.repackedAs(k.layout)
	return ok
}

// Repacked reports whether a repacked layout of m has been made (by Repack or a
// multiply).
func (m Matrix) Repacked() bool {
	if m.repack == nil {
		return false
	}
	for i := range m.repack.mem {
		if m.repack.mem[i].m.Load() != nil {
			return true
		}
	}
	return false
}

// repackedKernels returns the active kernels for m repacked: the first of its
// format's whose layout's width divides m's rows.
func (m Matrix) repackedKernels() (repackedGemm, bool) {
	if m.repack != nil {
		for _, k := range active.repacked[m.Format] {
			if m.Rows%k.layout.width == 0 {
				return k, true
			}
		}
	}
	return repackedGemm{}, false
}

// repackedAs returns w with Data in layout l (a value only l's kernels may read), or
// false when w cannot be repacked.
func (w Matrix) repackedAs(l *layout) (Matrix, bool) {
	p := w.repack
	if p == nil || w.Cols == 0 || w.Format != l.format || w.Rows%l.width != 0 {
		return w, false
	}
	nb := w.Cols / w.Format.BlockElems()
	slot := &p.mem[l.id]
	p.once[l.id].Do(func() {
		mem, err := pagemem.Alloc(w.Rows / l.width * nb * l.blockBytes)
		if err != nil {
			return
		}
		l.repack(mem.Data, w.Data, w.Rows, nb)
		slot.m.Store(&mem)
	})
	mem := slot.m.Load()
	if mem == nil {
		return w, false
	}
	return Matrix{Format: w.Format, Rows: w.Rows, Cols: w.Cols, Data: mem.Data}, true
}
