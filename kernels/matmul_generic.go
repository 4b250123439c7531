package kernels

import (
	"encoding/binary"

	"github.com/x448/float16"
)

// gemmGeneric is the reference matrix multiply for every format: for each weight row it
// computes the format's dot against every row of x, in plain sequential order. Every
// product is converted to float32 explicitly, so the compiler cannot fuse it into an
// FMA (it may on arm64): the reference gives the same bits on every platform.
func gemmGeneric(y []float32, ldy int, xs *xPrep, w Matrix, rb, n0, n1 int, add bool, _ []byte) {
	if w.Format == F16 || w.Format == BF16 {
		gemmGenericHalf(y, ldy, xs, w, rb, n0, n1, add)
		return
	}
	for n := n0; n < n1; n++ {
		row := w.Data[n*rb : (n+1)*rb]
		for m := 0; m < xs.m; m++ {
			var v float32
			switch w.Format {
			case F32:
				v = dotGeneric(xs.f[m*xs.k:(m+1)*xs.k], bytesAsF32(row))
			case Q8_0:
				v = dotQ8_0Generic(row, xs.q[m*xs.qrow:(m+1)*xs.qrow])
			case Q4_0:
				v = dotQ4_0Generic(row, xs.q[m*xs.qrow:(m+1)*xs.qrow])
			case Q4_K:
				v = dotQ4_KGeneric(row, xs.q[m*xs.qrow:(m+1)*xs.qrow])
			case Q6_K:
				v = dotQ6_KGeneric(row, xs.q[m*xs.qrow:(m+1)*xs.qrow])
			}
			if add {
				y[m*ldy+n] += v
			} else {
				y[m*ldy+n] = v
			}
		}
	}
}

// wideChunk is how many weights of an F16/BF16 row gemmGenericHalf widens at a time, in
// a buffer on the stack (the reference allocates nothing).
const wideChunk = 256

// gemmGenericHalf is gemmGeneric for F16/BF16 weights. Each row is widened exactly,
// wideChunk weights at a time, and each dot product keeps one float32 accumulator
// across the chunks, in order: the sums are dotGeneric's over the whole widened row.
// Rows of x go in groups of len(acc), so a weight row is widened once per group.
func gemmGenericHalf(y []float32, ldy int, xs *xPrep, w Matrix, rb, n0, n1 int, add bool) {
	var wide [wideChunk]float32
	var acc [8]float32
	K := xs.k
	for n := n0; n < n1; n++ {
		row := w.Data[n*rb : (n+1)*rb]
		for m0 := 0; m0 < xs.m; m0 += len(acc) {
			m1 := min(m0+len(acc), xs.m)
			clear(acc[:])
			for k0 := 0; k0 < K; k0 += wideChunk {
				k1 := min(k0+wideChunk, K)
				wc := wide[:k1-k0]
				if w.Format == F16 {
					f16ToF32Generic(wc, row[2*k0:2*k1])
				} else {
					bf16ToF32Generic(wc, row[2*k0:2*k1])
				}
				for m := m0; m < m1; m++ {
					s := acc[m-m0]
					for i, x := range xs.f[m*K+k0 : m*K+k1] {
						s += float32(x * wc[i]) // as dotGeneric: no FMA
					}
					acc[m-m0] = s
				}
			}
			for m := m0; m < m1; m++ {
				if add {
					y[m*ldy+n] += acc[m-m0]
				} else {
					y[m*ldy+n] = acc[m-m0]
				}
			}
		}
	}
}

func f16le(b []byte) float32 { return float16.Frombits(binary.LittleEndian.Uint16(b)).Float32() }

// dotQ8_0Generic returns Σ_b dw_b·dx_b·Σ_{j<32} w_b[j]·q_b[j] over the Q8_0 blocks of row
// and the activation blocks x (see xPrep), accumulated block by block in float32.
func dotQ8_0Generic(row, x []byte) float32 {
	var sum float32
	for b := 0; b < len(x)/q8BlockBytes; b++ {
		blk := row[34*b : 34*b+34]
		xb := x[b*q8BlockBytes : (b+1)*q8BlockBytes]
		var isum int32
		for j := 0; j < 32; j++ {
			isum += int32(int8(blk[2+j])) * blockQ(xb, j)
		}
		sum += float32(float32(f16le(blk)*blockD(xb)) * float32(isum))
	}
	return sum
}

// dotQ4_0Generic is dotQ8_0Generic for Q4_0 weights: element j of a block is
// (low nibble of byte j) − 8 and element j+16 is (high nibble of byte j) − 8.
func dotQ4_0Generic(row, x []byte) float32 {
	var sum float32
	for b := 0; b < len(x)/q8BlockBytes; b++ {
		blk := row[18*b : 18*b+18]
		xb := x[b*q8BlockBytes : (b+1)*q8BlockBytes]
		var isum int32
		for j := 0; j < 16; j++ {
			isum += (int32(blk[2+j]&0x0F) - 8) * blockQ(xb, j)
			isum += (int32(blk[2+j]>>4) - 8) * blockQ(xb, j+16)
		}
		sum += float32(float32(f16le(blk)*blockD(xb)) * float32(isum))
	}
	return sum
}

// dotQ4_KGeneric returns, over the Q4_K super-blocks of row against Q8_K activation
// blocks, Σ dx·d·isum − dx·dmin·imin where isum = Σ_j sc_j·Σ_{32 elems of sub-block j} nibble·q
// and imin = Σ_j m_j·(bsums[2j]+bsums[2j+1]); both integer sums are exact.
func dotQ4_KGeneric(row, x []byte) float32 {
	var sum float32
	for b := 0; b < len(x)/q8KBlockBytes; b++ {
		blk := row[144*b : 144*b+144]
		xb := x[b*q8KBlockBytes : (b+1)*q8KBlockBytes]
		scales, qs := blk[4:16], blk[16:144]
		var isum, imin int32
		for j := 0; j < 8; j++ {
			sc, m := Q4KScaleMin(j, scales)
			g := qs[32*(j/2) : 32*(j/2)+32]
			shift := 4 * uint(j%2)
			var s int32
			for l := 0; l < 32; l++ {
				s += int32(g[l]>>shift&0x0F) * blockQ(xb, 32*j+l)
			}
			isum += int32(sc) * s
			imin += int32(m) * (blockBsum(xb, 2*j) + blockBsum(xb, 2*j+1))
		}
		dx, d, dmin := blockD(xb), f16le(blk), f16le(blk[2:])
		sum += float32(float32(dx*d)*float32(isum)) - float32(float32(dx*dmin)*float32(imin))
	}
	return sum
}

// dotQ6_KGeneric returns Σ dx·d·isum over the Q6_K super-blocks of row against Q8_K
// activation blocks, isum = Σ_{g<16} scale_g·Σ_{16 elems of group g} (q6−32)·q, exact.
func dotQ6_KGeneric(row, x []byte) float32 {
	var sum float32
	var w [256]int8
	for b := 0; b < len(x)/q8KBlockBytes; b++ {
		blk := row[210*b : 210*b+210]
		xb := x[b*q8KBlockBytes : (b+1)*q8KBlockBytes]
		unpackQ6K(&w, blk)
		var isum int32
		for g := 0; g < 16; g++ {
			var s int32
			for l := 16 * g; l < 16*g+16; l++ {
				s += int32(w[l]) * blockQ(xb, l)
			}
			isum += int32(int8(blk[192+g])) * s
		}
		sum += float32(float32(blockD(xb)*f16le(blk[208:])) * float32(isum))
	}
	return sum
}

// unpackQ6K writes the 256 signed 6-bit quants (q6−32) of a Q6_K super-block in element
// order; group g of 16 elements uses scale g.
func unpackQ6K(w *[256]int8, blk []byte) {
	for h := 0; h < 2; h++ {
		ql := blk[64*h : 64*h+64]
		qh := blk[128+32*h : 128+32*h+32]
		out := w[128*h : 128*h+128]
		for l := 0; l < 32; l++ {
			out[l] = int8(ql[l]&0x0F|(qh[l]&3)<<4) - 32
			out[l+32] = int8(ql[l+32]&0x0F|(qh[l]>>2&3)<<4) - 32
			out[l+64] = int8(ql[l]>>4|(qh[l]>>4&3)<<4) - 32
			out[l+96] = int8(ql[l+32]>>4|(qh[l]>>6&3)<<4) - 32
		}
	}
}
