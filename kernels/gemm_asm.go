//go:build gc && !purego && (amd64 || arm64)

package kernels

// Go drivers shared by the amd64 and arm64 assembly kernels: they split a tile of
// weight rows into the blocks the micro-kernels take, finish tails the kernels leave,
// and report memory to the race detector.

// floatKernels drives the micro-kernels of one float weight format.
type floatKernels struct {
	esz   int // bytes per weight
	group int // weight rows per micro-kernel block (3 on AVX2, 4 on NEON)
	// k4 sets y[i*ldy+j] += Σ_{p<k} x[i*ldx+p]·W_j[p] for i < 4, j < n (n%group == 0,
	// k%8 == 0).
	// k4 also prefetches the cache lines of pf, at most one per step of its k loop.
	k4 func(y []float32, ldy int, x []float32, ldx int, w []byte, ldw int, n int, k int, pf []byte)
	// gemv sets y[j] += Σ_{p<len(x)} x[p]·W_j[p] for j < len(y) (len(x)%8 == 0).
	gemv func(y []float32, x []float32, w []byte, ldw int)
}

func (fk floatKernels) gemm(y []float32, ldy int, xs *xPrep, w Matrix, rb, n0, n1 int, add bool, pf []byte) {
	M, K := xs.m, xs.k
	kv := K &^ 7 // the assembly covers p < kv; Go finishes the rest
	if kv == 0 {
		gemmGeneric(y, ldy, xs, w, rb, n0, n1, add, nil)
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
	n3 := n0 + (n1-n0)/fk.group*fk.group
	if M4 > 0 && n3 > n0 {
		// Spread the prefetch of pf evenly over the k4 calls.
		calls := (kv + floatChunk - 1) / floatChunk * (M4 / 4)
		per := (len(pf)/calls + 64) &^ 63
		for k0 := 0; k0 < kv; k0 += floatChunk {
			kc := min(floatChunk, kv-k0) // elements the kernel covers
			ldx := min(floatChunk, K-k0) // row stride of this packed chunk
			xc := xs.chunks()[k0*M : k0*M+M*ldx]
			wb := w.Data[n0*rb+k0*fk.esz : (n3-1)*rb+(k0+kc)*fk.esz]
			for m := 0; m < M4; m += 4 {
				p := pf[:min(per, len(pf))]
				pf = pf[len(p):]
				fk.k4(y[m*ldy+n0:(m+3)*ldy+n3], ldy, xc[m*ldx:(m+3)*ldx+kc], ldx, wb, rb, n3-n0, kc, p)
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
		bf16ToF32Generic(v[:], row[2*p:2*p+2])
	case F16:
		f16ToF32Generic(v[:], row[2*p:2*p+2])
	}
	return v[0]
}

// quantKernels drives the micro-kernels of one quantized weight format.
type quantKernels struct {
	// k4 sets y[i*ldy+j] += x_i·W_j for i < 4, j < n over nb blocks (n, nb > 0).
	k4 func(y []float32, ldy int, x []byte, ldx int, w []byte, ldw int, n int, nb int)
	// gemv sets y[j] += x·W_j for j < len(y) over nb blocks (nb > 0).
	gemv func(y []float32, x []byte, w []byte, ldw int, nb int)
	// alt: the kernels take the activation blocks in their own layout (xPrep.alt,
	// from the format's table prep), not xPrep.q.
	alt bool
	// kN, where set, is k4 for any 2 ≤ rows ≤ 4 and replaces it: the blocks of 4 rows,
	// then the last 2 or 3 (M%4) in one pass over the weights instead of one gemv each.
	// (Routed experts mostly get 1–3 rows of a block.) It also prefetches pf into L2,
	// spread over its steps.
	kN func(y []float32, ldy int, x []byte, ldx int, w []byte, ldw int, n int, nb int, rows int, pf []byte)
}

// repacked returns qk as the kernels of layout l, after prep where set.
func (qk quantKernels) repacked(l *layout, prep *actLayout) []repackedGemm {
	return []repackedGemm{{layout: l, gemm: qk.gemm, prep: prep, rows2to4: qk.kN != nil}}
}

func (qk quantKernels) gemm(y []float32, ldy int, xs *xPrep, w Matrix, rb, n0, n1 int, add bool, pf []byte) {
	M := xs.m
	nb := w.Cols / w.Format.BlockElems()
	if nb == 0 || n1 <= n0 {
		gemmGeneric(y, ldy, xs, w, rb, n0, n1, add, nil)
		return
	}
	wt := w.Data[n0*rb : n1*rb]
	xq, qrow := xs.q, xs.qrow
	if qk.alt {
		xq, qrow = xs.alt, xs.altRow
	}
	raceReadBytes(xq)
	raceReadBytes(wt)
	for m := 0; m < M; m++ {
		yr := y[m*ldy+n0 : m*ldy+n1]
		if !add {
			clear(yr)
		}
		raceWriteF32(yr)
	}
	done := 0 // rows multiplied by k4 or kN; the gemv takes the rest one by one
	if qk.kN != nil {
		// The first pass streams the tile from memory; the later ones, which read it
		// from cache, prefetch the next tile (pf) in equal shares.
		later := laterPasses(M)
		share := 0
		if later > 0 {
			share = (len(pf)/later + 255) &^ 255
		}
		var mine []byte
		for M-done >= 2 {
			rows := min(4, M-done)
			qk.kN(y[done*ldy+n0:(done+rows-1)*ldy+n1], ldy, xq[done*qrow:(done+rows)*qrow], qrow, wt, rb, n1-n0, nb, rows, mine)
			mine = pf[:min(share, len(pf))]
			pf = pf[len(mine):]
			done += rows
		}
	} else {
		for ; done+4 <= M; done += 4 {
			qk.k4(y[done*ldy+n0:(done+3)*ldy+n1], ldy, xq[done*qrow:(done+4)*qrow], qrow, wt, rb, n1-n0, nb)
		}
	}
	for m := done; m < M; m++ {
		qk.gemv(y[m*ldy+n0:m*ldy+n1], xq[m*qrow:(m+1)*qrow], wt, rb, nb)
	}
}

// quantRows runs the assembly activation quantizer asm over the whole blocks of x (be
// elements, bb bytes each in dst), reporting its memory to the race detector.
func quantRows(asm func(dst []byte, x []float32), dst []byte, x []float32, be, bb int) {
	n := len(x) / be
	raceReadF32(x)
	raceWriteBytes(dst[:n*bb])
	asm(dst[:n*bb], x[:n*be])
}
