//go:build gc && !purego

package kernels

// Assembly micro-kernels (gemm_float_amd64.s). The doc comment of each is its exact Go
// specification; the generic kernels are the reference.

// gemmF32x4AVX2 sets y[i*ldy+j] += Σ_{p<k} x[i*ldx+p]·W_j[p] for i < 4, j < n, where W_j
// is the float32 row at w[j*ldw:]. n > 0, n%3 == 0, k > 0, k%8 == 0.
//
//go:noescape
func gemmF32x4AVX2(y []float32, ldy int, x []float32, ldx int, w []byte, ldw int, n int, k int)

// gemmBF16x4AVX2 is gemmF32x4AVX2 with bfloat16 weight rows.
//
//go:noescape
func gemmBF16x4AVX2(y []float32, ldy int, x []float32, ldx int, w []byte, ldw int, n int, k int)

// gemmF16x4AVX2 is gemmF32x4AVX2 with IEEE half weight rows.
//
//go:noescape
func gemmF16x4AVX2(y []float32, ldy int, x []float32, ldx int, w []byte, ldw int, n int, k int)

// gemvF32AVX2 sets y[j] += Σ_{p<len(x)} x[p]·W_j[p] for j < len(y), W_j the float32 row at
// w[j*ldw:]. len(x)%8 == 0.
//
//go:noescape
func gemvF32AVX2(y []float32, x []float32, w []byte, ldw int)

// gemvBF16AVX2 is gemvF32AVX2 with bfloat16 weight rows.
//
//go:noescape
func gemvBF16AVX2(y []float32, x []float32, w []byte, ldw int)

// gemvF16AVX2 is gemvF32AVX2 with IEEE half weight rows.
//
//go:noescape
func gemvF16AVX2(y []float32, x []float32, w []byte, ldw int)

type floatKernels struct {
	esz  int // bytes per weight
	k4   func(y []float32, ldy int, x []float32, ldx int, w []byte, ldw int, n int, k int)
	gemv func(y []float32, x []float32, w []byte, ldw int)
}

var (
	f32AVX2  = floatKernels{4, gemmF32x4AVX2, gemvF32AVX2}
	bf16AVX2 = floatKernels{2, gemmBF16x4AVX2, gemvBF16AVX2}
	f16AVX2  = floatKernels{2, gemmF16x4AVX2, gemvF16AVX2}
)

func (fk floatKernels) gemm(y []float32, ldy int, xs *xPrep, w Matrix, rb, n0, n1 int, add bool) {
	M, K := xs.m, xs.k
	kv := K &^ 7 // the assembly covers p < kv; Go finishes the rest
	if kv == 0 {
		gemmGeneric(y, ldy, xs, w, rb, n0, n1, add)
		return
	}
	raceReadF32(xs.f)
	raceReadBytes(w.Data[n0*rb : n1*rb])
	for m := 0; m < M; m++ {
		yr := y[m*ldy+n0 : m*ldy+n1]
		if !add {
			clear(yr)
		}
		raceWriteF32(yr)
	}
	M4 := M &^ 3
	n3 := n0 + (n1-n0)/3*3
	if M4 > 0 && n3 > n0 {
		for k0 := 0; k0 < kv; k0 += floatChunk {
			kc := min(floatChunk, kv-k0)
			wb := w.Data[n0*rb+k0*fk.esz : (n3-1)*rb+(k0+kc)*fk.esz]
			for m := 0; m < M4; m += 4 {
				fk.k4(y[m*ldy+n0:(m+3)*ldy+n3], ldy, xs.f[m*K+k0:(m+3)*K+k0+kc], K, wb, rb, n3-n0, kc)
			}
		}
	}
	if M4 > 0 && n3 < n1 {
		for m := 0; m < M4; m++ {
			fk.gemv(y[m*ldy+n3:m*ldy+n1], xs.f[m*K:m*K+kv], w.Data[n3*rb:(n1-1)*rb+kv*fk.esz], rb)
		}
	}
	for m := M4; m < M; m++ {
		fk.gemv(y[m*ldy+n0:m*ldy+n1], xs.f[m*K:m*K+kv], w.Data[n0*rb:(n1-1)*rb+kv*fk.esz], rb)
	}
	if kv < K {
		var tail [8]float32
		for n := n0; n < n1; n++ {
			row := w.Data[n*rb : (n+1)*rb]
			for p := kv; p < K; p++ {
				tail[p-kv] = floatAt(w.Format, row, p)
			}
			for m := 0; m < M; m++ {
				y[m*ldy+n] += dotGeneric(xs.f[m*K+kv:(m+1)*K], tail[:K-kv])
			}
		}
	}
}

// floatAt returns element p of a float-format row.
func floatAt(f Format, row []byte, p int) float32 {
	var v [1]float32
	switch f {
	case F32:
		return bytesAsF32(row)[p]
	case BF16:
		BF16ToF32(v[:], row[2*p:2*p+2])
	case F16:
		F16ToF32(v[:], row[2*p:2*p+2])
	}
	return v[0]
}
