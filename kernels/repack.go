package kernels

import (
	"runtime"
	"sync"

	"github.com/edsrzf/mmap-go"
)

// Q4_K weights multiply fastest with 8 rows side by side: one broadcast activation
// dword then meets 4 quants of each of 8 rows in one vector, products of a sub-block
// add up in int16 lanes (8 of them cannot overflow), and each int32 lane ends as one
// row's sum, so scales, mins and d apply per lane with no horizontal reduction. Where
// the active kernels multiply that layout (amd64 AVX2), a Q4_K matrix is repacked into it on its
// first multiply, once, into memory of its own (anonymous pages, not the Go heap, so
// gigabytes of weights do not make the garbage collector wait for gigabytes of
// garbage); the file's mapping is left as it is.
//
// The layout (q4KX8): rows in groups of 8, each group's super-blocks in order, each
// q4KX8BlockBytes:
//
//	d[8] f16 | dmin[8] f16 | sc[s][r] u8 (8×8) | m[s][r] u8 (8×8) | qs[g][c][r][4]
//
// for row r < 8 of the group and sub-block s < 8; qs[g][c][r] are bytes 4c…4c+3 of
// 64-element group g of row r's quants (low nibbles: sub-block 2g, high: 2g+1).
const (
	q4KX8DOff       = 0
	q4KX8DMinOff    = 16
	q4KX8ScalesOff  = 32
	q4KX8MinsOff    = 96
	q4KX8QuantsOff  = 160
	q4KX8BlockBytes = q4KX8QuantsOff + 8*128
)

// repackQ4KX8 writes the rows×(nb super-blocks) Q4_K matrix src (rows%8 == 0) in the
// q4KX8 layout into dst (rows/8·nb·q4KX8BlockBytes bytes).
func repackQ4KX8(dst, src []byte, rows, nb int) {
	rb := nb * q4KBlockBytes
	for g := 0; g < rows/8; g++ {
		for b := 0; b < nb; b++ {
			out := dst[(g*nb+b)*q4KX8BlockBytes:][:q4KX8BlockBytes]
			for r := 0; r < 8; r++ {
				blk := src[(8*g+r)*rb+b*q4KBlockBytes:][:q4KBlockBytes]
				copy(out[q4KX8DOff+2*r:][:2], blk[0:2])
				copy(out[q4KX8DMinOff+2*r:][:2], blk[q4KDMinOff:][:2])
				for s := 0; s < 8; s++ {
					out[q4KX8ScalesOff+8*s+r], out[q4KX8MinsOff+8*s+r] = Q4KScaleMin(s, blk[q4KScalesOff:])
				}
				for c := 0; c < 32; c++ { // c = 8·group + chunk
					copy(out[q4KX8QuantsOff+32*c+4*r:][:4], blk[q4KQuantsOff+4*c:][:4])
				}
			}
		}
	}
}

// repacked holds a matrix's weights in the q4KX8 layout, made on first use. Matrix
// values copied from one NewMatrix share it.
type repacked struct {
	once sync.Once
	mem  *mapping
}

// mapping is the memory of a repacked matrix; a cleanup unmaps it once its repacked
// is garbage.
type mapping struct {
	m mmap.MMap // nil until made, and when the repack could not get memory: the plain layout serves
}

// newRepacked returns the repack state of a matrix of format f, or nil when the
// format has no repacked layout.
func newRepacked(f Format, rows int) *repacked {
	if f != Q4_K || rows%8 != 0 || rows == 0 {
		return nil
	}
	p := &repacked{mem: new(mapping)}
	runtime.AddCleanup(p, func(m *mapping) {
		if m.m != nil {
			m.m.Unmap()
		}
	}, p.mem)
	return p
}

// q4KX8 returns w with Data in the q4KX8 layout (a value only the q4KX8 kernels may
// read; its rows are q4KX8BlockBytes/8 per super-block long), or false when w cannot
// be repacked.
func (w Matrix) q4KX8() (Matrix, bool) {
	p := w.repack
	if p == nil || w.Cols == 0 {
		return w, false
	}
	nb := w.Cols / 256
	p.once.Do(func() {
		mem, err := mmap.MapRegion(nil, w.Rows*nb*q4KX8BlockBytes/8, mmap.RDWR, mmap.ANON, 0)
		if err != nil {
			return
		}
		repackQ4KX8(mem, w.Data, w.Rows, nb)
		p.mem.m = mem
	})
	if p.mem.m == nil {
		return w, false
	}
	return Matrix{Format: Q4_K, Rows: w.Rows, Cols: w.Cols, Data: p.mem.m}, true
}
