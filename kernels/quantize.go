package kernels

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/x448/float16"
)

// Reference quantizers for the 4- and 6-bit weight formats, written from the semantics of
// ggml's quantize_row_{q4_0,q4_K,q6_K}_ref so that a file we write holds the same blocks
// llama.cpp's own quantizer would (and, for Q4_0, gguf-py's numpy one: bit for bit).
//
// They are scalar and meant for offline conversion, not for the hot path. Every product
// that feeds a sum is wrapped in an explicit float32 conversion: the Go spec lets the
// compiler fuse x*y+z into one FMA otherwise (it does on arm64, and on amd64 with
// GOAMD64=v3), which would make the output depend on the build; the K-quant searches
// compare sums of squared errors, where a fused build could pick another scale at a tie.
//
// Verified against ggml itself (llama.cpp v0.5.0 built with gcc 12, -O3 -march=native,
// calling quantize_row_{q8_0,q4_0,q4_K,q6_K}_ref from libggml-base on 1M values drawn
// from four distributions: Gaussian at two scales, values on a 1/64 grid with many ties,
// exponential): every block identical for all four formats. Against gguf-py (numpy
// Q8_0/Q4_0), the converter's tests compare whole fixture files byte for byte.

// groupMaxEps is ggml's GROUP_MAX_EPS: a group whose largest magnitude is below it is
// treated as all zeros.
const groupMaxEps = 1e-15

// Quantize encodes x as format f into dst, which must hold exactly the row's bytes
// (f.RowBytes(len(x))). F32, F16 and BF16 are plain conversions (round to nearest even);
// the block formats use the ggml reference quantizers.
func Quantize(f Format, dst []byte, x []float32) error {
	want, err := f.RowBytes(len(x))
	if err != nil {
		return err
	}
	if len(dst) != want {
		return fmt.Errorf("kernels: %s row of %d elements needs %d bytes, got %d", f, len(x), want, len(dst))
	}
	switch f {
	case F32:
		for i, v := range x {
			binary.LittleEndian.PutUint32(dst[4*i:], math.Float32bits(v))
		}
	case F16:
		F32ToF16(dst, x)
	case BF16:
		F32ToBF16(dst, x)
	case Q8_0:
		QuantizeQ8_0(dst, x)
	case Q4_0:
		QuantizeQ4_0(dst, x)
	case Q4_K:
		QuantizeQ4_K(dst, x)
	case Q6_K:
		QuantizeQ6_K(dst, x)
	default:
		return fmt.Errorf("kernels: no quantizer for %s", f)
	}
	return nil
}

func checkQuant(name string, dst []byte, x []float32, f Format) {
	be, bb := f.BlockElems(), f.BlockBytes()
	if len(x)%be != 0 || len(dst) != len(x)/be*bb {
		panic(fmt.Sprintf("kernels: %s: %d floats into %d bytes", name, len(x), len(dst)))
	}
}

// nearestInt is ggml's nearest_int: round to nearest, ties to even (it adds 1.5·2²³ and
// reads the mantissa, which rounds that way for |v| < 2²²).
func nearestInt(v float32) int { return int(math.RoundToEven(float64(v))) }

func f16Bits(v float32) uint16     { return float16.Fromfloat32(v).Bits() }
func f16Round(v float32) float32   { return float16.Frombits(f16Bits(v)).Float32() }
func abs32(v float32) float32      { return math.Float32frombits(math.Float32bits(v) &^ (1 << 31)) }
func clampInt(v, lo, hi int) int   { return max(lo, min(hi, v)) }
func sqrt32(v float32) float32     { return float32(math.Sqrt(float64(v))) }
func mul32(a, b float32) float32   { return float32(a * b) }
func mul3(a, b, c float32) float32 { return float32(float32(a*b) * c) }

// QuantizeQ4_0 encodes x (a multiple of 32 long) as Q4_0 blocks (18 bytes each) into dst:
// per block the value of largest magnitude m (the first one on ties) gives d = m/−8, and
// q = min(15, trunc(x/d + 8.5)), so m itself maps to 0 and the other extreme may clip.
func QuantizeQ4_0(dst []byte, x []float32) {
	checkQuant("QuantizeQ4_0", dst, x, Q4_0)
	for b := 0; b < len(x)/32; b++ {
		xb := x[32*b : 32*b+32]
		blk := dst[18*b : 18*b+18]
		var amax, m float32
		for _, v := range xb {
			if a := abs32(v); amax < a {
				amax, m = a, v
			}
		}
		d := m / -8
		var id float32
		if d != 0 {
			id = 1 / d
		}
		binary.LittleEndian.PutUint16(blk, f16Bits(d))
		for j := 0; j < 16; j++ {
			x0 := float32(xb[j] * id)
			x1 := float32(xb[j+16] * id)
			// C converts to int8_t, truncating toward zero; the argument is ≥ 0.5 here.
			q0 := min(15, int(int8(x0+8.5)))
			q1 := min(15, int(int8(x1+8.5)))
			blk[2+j] = byte(q0) | byte(q1)<<4
		}
	}
}

// makeQKX2Quants is ggml's make_qkx2_quants: it fits x ≈ scale·L − min with L in
// [0, nmax] and min ≥ 0, minimizing the weighted squared error over nstep+1 candidate
// scales around nmax/(max−min) (each refined by weighted least squares). It returns the
// scale, stores the min in *theMin and the levels in L.
func makeQKX2Quants(nmax int, x, weights []float32, L, Laux []uint8, theMin *float32, rmin, rdelta float32, nstep int) float32 {
	n := len(x)
	mn, mx := x[0], x[0]
	sumW := weights[0]
	sumX := mul32(sumW, x[0])
	for i := 1; i < n; i++ {
		if x[i] < mn {
			mn = x[i]
		}
		if x[i] > mx {
			mx = x[i]
		}
		w := weights[i]
		sumW += w
		sumX += mul32(w, x[i])
	}
	if mn > 0 {
		mn = 0
	}
	if mx == mn {
		for i := range L[:n] {
			L[i] = 0
		}
		*theMin = -mn
		return 0
	}
	fmax := float32(nmax)
	iscale := fmax / (mx - mn)
	scale := 1 / iscale
	var bestErr float32
	for i := 0; i < n; i++ {
		l := nearestInt(mul32(iscale, x[i]-mn))
		L[i] = uint8(clampInt(l, 0, nmax))
		diff := float32(mul32(scale, float32(L[i]))+mn) - x[i]
		bestErr += mul32(weights[i], mul32(diff, diff))
	}
	if nstep < 1 {
		*theMin = -mn
		return scale
	}
	for is := 0; is <= nstep; is++ {
		iscale = (float32(rmin+mul32(rdelta, float32(is))) + fmax) / (mx - mn)
		var sumL, sumL2, sumXL float32
		for i := 0; i < n; i++ {
			l := clampInt(nearestInt(mul32(iscale, x[i]-mn)), 0, nmax)
			Laux[i] = uint8(l)
			w, fl := weights[i], float32(l)
			sumL += mul32(w, fl)
			sumL2 += mul3(w, fl, fl)
			sumXL += mul3(w, fl, x[i])
		}
		D := mul32(sumW, sumL2) - mul32(sumL, sumL)
		if D > 0 {
			thisScale := (mul32(sumW, sumXL) - mul32(sumX, sumL)) / D
			thisMin := (mul32(sumL2, sumX) - mul32(sumL, sumXL)) / D
			if thisMin > 0 {
				thisMin = 0
				thisScale = sumXL / sumL2
			}
			var curErr float32
			for i := 0; i < n; i++ {
				diff := float32(mul32(thisScale, float32(Laux[i]))+thisMin) - x[i]
				curErr += mul32(weights[i], mul32(diff, diff))
			}
			if curErr < bestErr {
				copy(L[:n], Laux[:n])
				bestErr, scale, mn = curErr, thisScale, thisMin
			}
		}
	}
	*theMin = -mn
	return scale
}

// QuantizeQ4_K encodes x (a multiple of 256 long) as Q4_K super-blocks (144 bytes each)
// into dst, following quantize_row_q4_K_ref: each of the 8 sub-blocks of 32 gets a scale
// and a min from makeQKX2Quants (weights |x| + rms of the sub-block); those are quantized
// to 6 bits against the super-block's f16 d and dmin, and the 4-bit levels recomputed
// against the rounded scales.
func QuantizeQ4_K(dst []byte, x []float32) {
	checkQuant("QuantizeQ4_K", dst, x, Q4_K)
	var (
		L              [256]uint8
		Laux           [32]uint8
		weights        [32]float32
		mins, scales   [8]float32
		packedScales12 [12]byte
	)
	for b := 0; b < len(x)/256; b++ {
		xb := x[256*b : 256*b+256]
		blk := dst[144*b : 144*b+144]
		var maxScale, maxMin float32
		for j := 0; j < 8; j++ {
			xs := xb[32*j : 32*j+32]
			var sumX2 float32
			for _, v := range xs {
				sumX2 += mul32(v, v)
			}
			avX := sqrt32(sumX2 / 32)
			for l, v := range xs {
				weights[l] = avX + abs32(v)
			}
			scales[j] = makeQKX2Quants(15, xs, weights[:], L[32*j:32*j+32], Laux[:], &mins[j], -1, 0.1, 20)
			if scales[j] > maxScale {
				maxScale = scales[j]
			}
			if mins[j] > maxMin {
				maxMin = mins[j]
			}
		}
		var invScale, invMin float32
		if maxScale > 0 {
			invScale = 63 / maxScale
		}
		if maxMin > 0 {
			invMin = 63 / maxMin
		}
		sc := packedScales12[:]
		clear(sc)
		for j := 0; j < 8; j++ {
			ls := min(63, uint8(nearestInt(mul32(invScale, scales[j]))))
			lm := min(63, uint8(nearestInt(mul32(invMin, mins[j]))))
			if j < 4 {
				sc[j] = ls
				sc[j+4] = lm
			} else {
				sc[j+4] = ls&0xF | (lm&0xF)<<4
				sc[j-4] |= (ls >> 4) << 6
				sc[j] |= (lm >> 4) << 6
			}
		}
		dBits, dminBits := f16Bits(maxScale/63), f16Bits(maxMin/63)
		binary.LittleEndian.PutUint16(blk[0:], dBits)
		binary.LittleEndian.PutUint16(blk[2:], dminBits)
		copy(blk[4:16], sc)
		dAll := float16.Frombits(dBits).Float32()
		dminAll := float16.Frombits(dminBits).Float32()
		for j := 0; j < 8; j++ {
			s, m := Q4KScaleMin(j, sc)
			d := mul32(dAll, float32(s))
			if d == 0 {
				continue
			}
			dm := mul32(dminAll, float32(m))
			for i := 0; i < 32; i++ {
				l := nearestInt((xb[32*j+i] + dm) / d)
				L[32*j+i] = uint8(clampInt(l, 0, 15))
			}
		}
		q := blk[16:144]
		for j := 0; j < 256; j += 64 {
			for l := 0; l < 32; l++ {
				q[l] = L[j+l] | L[j+l+32]<<4
			}
			q = q[32:]
		}
	}
}

// makeQXQuants is ggml's make_qx_quants with rmse_type 1 and no importance weights: a
// symmetric fit x ≈ scale·(L − nmax), L in [0, 2·nmax), weighted by x², searching 18
// scales around −nmax/max (max = the value of largest magnitude) for the best weighted
// least-squares fit.
func makeQXQuants(nmax int, x []float32, L []int8) float32 {
	n := len(x)
	var mx, amax float32
	for _, v := range x {
		if a := abs32(v); a > amax {
			amax, mx = a, v
		}
	}
	if amax < groupMaxEps {
		for i := range L[:n] {
			L[i] = 0
		}
		return 0
	}
	fmax := float32(nmax)
	iscale := -fmax / mx
	var sumLX, sumL2 float32
	for i := 0; i < n; i++ {
		l := clampInt(nearestInt(mul32(iscale, x[i])), -nmax, nmax-1)
		L[i] = int8(l + nmax)
		w, fl := mul32(x[i], x[i]), float32(l)
		sumLX += mul3(w, x[i], fl)
		sumL2 += mul3(w, fl, fl)
	}
	var scale float32
	if sumL2 != 0 {
		scale = sumLX / sumL2
	}
	best := mul32(scale, sumLX)
	for is := -9; is <= 9; is++ {
		if is == 0 {
			continue
		}
		iscale = -(fmax + mul32(0.1, float32(is))) / mx
		sumLX, sumL2 = 0, 0
		for i := 0; i < n; i++ {
			l := clampInt(nearestInt(mul32(iscale, x[i])), -nmax, nmax-1)
			w, fl := mul32(x[i], x[i]), float32(l)
			sumLX += mul3(w, x[i], fl)
			sumL2 += mul3(w, fl, fl)
		}
		if sumL2 > 0 && mul32(sumLX, sumLX) > mul32(best, sumL2) {
			for i := 0; i < n; i++ {
				l := clampInt(nearestInt(mul32(iscale, x[i])), -nmax, nmax-1)
				L[i] = int8(l + nmax)
			}
			scale = sumLX / sumL2
			best = mul32(scale, sumLX)
		}
	}
	return scale
}

// QuantizeQ6_K encodes x (a multiple of 256 long) as Q6_K super-blocks (210 bytes each)
// into dst, following quantize_row_q6_K_ref: 16 sub-blocks of 16 values get a scale from
// makeQXQuants(32), the scales are quantized to int8 against the f16 super-block d, and
// the 6-bit levels recomputed against the rounded scales.
func QuantizeQ6_K(dst []byte, x []float32) {
	checkQuant("QuantizeQ6_K", dst, x, Q6_K)
	var (
		L      [256]int8
		scales [16]float32
	)
	for b := 0; b < len(x)/256; b++ {
		xb := x[256*b : 256*b+256]
		blk := dst[210*b : 210*b+210]
		var maxScale, maxAbsScale float32
		for ib := 0; ib < 16; ib++ {
			s := makeQXQuants(32, xb[16*ib:16*ib+16], L[16*ib:16*ib+16])
			scales[ib] = s
			if a := abs32(s); a > maxAbsScale {
				maxAbsScale, maxScale = a, s
			}
		}
		if maxAbsScale < groupMaxEps {
			clear(blk)
			continue
		}
		iscale := -128 / maxScale
		dBits := f16Bits(1 / iscale)
		binary.LittleEndian.PutUint16(blk[208:], dBits)
		dAll := float16.Frombits(dBits).Float32()
		sc := blk[192:208]
		for ib := 0; ib < 16; ib++ {
			sc[ib] = byte(int8(min(127, nearestInt(mul32(iscale, scales[ib])))))
		}
		for j := 0; j < 16; j++ {
			d := mul32(dAll, float32(int8(sc[j])))
			if d == 0 {
				continue
			}
			for i := 0; i < 16; i++ {
				l := clampInt(nearestInt(xb[16*j+i]/d), -32, 31)
				L[16*j+i] = int8(l + 32)
			}
		}
		ql, qh := blk[0:128], blk[128:192]
		for j := 0; j < 256; j += 128 {
			for l := 0; l < 32; l++ {
				q1 := uint8(L[j+l]) & 0xF
				q2 := uint8(L[j+l+32]) & 0xF
				q3 := uint8(L[j+l+64]) & 0xF
				q4 := uint8(L[j+l+96]) & 0xF
				ql[l] = q1 | q3<<4
				ql[l+32] = q2 | q4<<4
				qh[l] = uint8(L[j+l])>>4 | (uint8(L[j+l+32])>>4)<<2 | (uint8(L[j+l+64])>>4)<<4 | (uint8(L[j+l+96])>>4)<<6
			}
			ql, qh = ql[64:], qh[32:]
		}
	}
}
