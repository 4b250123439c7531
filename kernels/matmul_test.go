package kernels

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/x448/float16"
)

// randWeights returns rows×cols random weights of format f (valid blocks with modest
// scales), as raw bytes.
func randWeights(r *rand.Rand, f Format, rows, cols int) []byte {
	rb, err := f.RowBytes(cols)
	if err != nil {
		panic(err)
	}
	b := make([]byte, rows*rb)
	switch f {
	case F32:
		for i := 0; i < len(b); i += 4 {
			binary.LittleEndian.PutUint32(b[i:], math.Float32bits(float32(r.NormFloat64())))
		}
		return b
	case F16:
		for i := 0; i < len(b); i += 2 {
			binary.LittleEndian.PutUint16(b[i:], float16.Fromfloat32(float32(r.NormFloat64())).Bits())
		}
		return b
	case BF16:
		for i := 0; i < len(b); i += 2 {
			binary.LittleEndian.PutUint16(b[i:], bf16Bits(float32(r.NormFloat64())))
		}
		return b
	}
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	// Overwrite the f16 scales with small positive values so sums stay finite.
	scale := func(off int) {
		binary.LittleEndian.PutUint16(b[off:], float16.Fromfloat32(float32(0.001+0.01*r.Float64())).Bits())
	}
	nb := len(b) / f.BlockBytes()
	for k := 0; k < nb; k++ {
		o := k * f.BlockBytes()
		switch f {
		case Q8_0, Q4_0:
			scale(o)
		case Q4_K:
			scale(o)
			scale(o + 2)
		case Q6_K:
			scale(o + 208)
		}
	}
	return b
}

func randFloats(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return x
}

// refMatMul is the float64 reference over dequantized weights and (for quantized formats)
// the dequantized 8-bit activations. The activations are quantized by the generic
// quantizers, which TestQuantizeVectors holds to gguf-py's and ggml's bytes, not by the
// implementation under test. It also returns, per output, the magnitude that bounds
// rounding: Σ|x|·(|a|+|b|) where each weight is a − b before any cancellation (for
// Q4_K, a = d·sc·q and b = dmin·m; otherwise b = 0).
func refMatMul(x []float32, w Matrix) (y, mag []float64) {
	K, N := w.Cols, w.Rows
	M := len(x) / K
	xq := x
	switch w.Format {
	case Q8_0, Q4_0, Q4_K, Q6_K:
		bs, bb, quant := 32, q8BlockBytes, quantQ8Generic
		if w.Format == Q4_K || w.Format == Q6_K {
			bs, bb, quant = 256, q8KBlockBytes, quantQ8KGeneric
		}
		q := make([]byte, len(x)/bs*bb)
		quant(q, x)
		xq = make([]float32, len(x))
		for i := range xq {
			blk := q[i/bs*bb:]
			xq[i] = float32(blockQ(blk, i%bs)) * blockD(blk)
		}
	}
	wf, wa, wb := make([]float32, K), make([]float32, K), make([]float32, K)
	y, mag = make([]float64, M*N), make([]float64, M*N)
	for n := 0; n < N; n++ {
		row := w.Row(n)
		if err := Dequantize(w.Format, wf, row); err != nil {
			panic(err)
		}
		copy(wa, wf)
		clear(wb)
		if w.Format == Q4_K { // split d·sc·q and dmin·m by zeroing one scale at a time
			r := append([]byte(nil), row...)
			for b := 0; b < len(r); b += 144 {
				r[b+2], r[b+3] = 0, 0
			}
			_ = Dequantize(Q4_K, wa, r)
			copy(r, row)
			for b := 0; b < len(r); b += 144 {
				r[b], r[b+1] = 0, 0
			}
			_ = Dequantize(Q4_K, wb, r)
		}
		for m := 0; m < M; m++ {
			var s, a float64
			for k := 0; k < K; k++ {
				xv := float64(xq[m*K+k])
				s += xv * float64(wf[k])
				a += math.Abs(xv) * (math.Abs(float64(wa[k])) + math.Abs(float64(wb[k])))
			}
			y[m*N+n], mag[m*N+n] = s, a
		}
	}
	return y, mag
}

var allFormats = []Format{F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K}

// matMulTol is the documented accuracy of MatMul relative to refMatMul's magnitude:
// float formats sum K float32 products; quantized formats combine K/block exact integer
// block sums in float32 (a few roundings each).
func matMulTol(f Format, K int) float64 {
	switch f {
	case F32, F16, BF16:
		return float64(K+16) * 0x1p-24
	}
	return float64(4*K/f.BlockElems()+16) * 0x1p-24
}

type mmShape struct{ M, N, K int }

func matMulShapes(f Format) []mmShape {
	be := f.BlockElems()
	ks := []int{256, 512, 1024}
	if be == 1 {
		ks = append(ks, 8, 24, 13, 1, 7, 263) // tails of the 8-lane float kernels
	} else if be == 32 {
		ks = append(ks, 32, 96)
	}
	var s []mmShape
	for _, k := range ks {
		for _, m := range []int{1, 2, 3, 4, 5, 8, 9} {
			for _, n := range []int{1, 2, 3, 4, 7, 12, 13, 37} {
				if (m*n+k)%3 == 0 || n == 37 || m == 5 { // a sparse but varied sample
					s = append(s, mmShape{m, n, k})
				}
			}
		}
	}
	// Real model shapes (trimmed under -short, e.g. in qemu, and under -race).
	real := []mmShape{{32, 30, 2048}, {1, 50, 4096}, {33, 13, 5120}, {4, 7, 9216}, {64, 40, 512}, {17, 25, 1024}}
	if testing.Short() || raceEnabled {
		real = real[:2]
	}
	return append(s, real...)
}

func TestMatMul(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	pool := NewPool(3)
	defer pool.Close()
	for _, f := range allFormats {
		shapes := matMulShapes(f)
		type tc struct {
			s         mmShape
			w         Matrix
			x         []float32
			want, mag []float64
		}
		cases := make([]tc, len(shapes))
		for i, s := range shapes {
			w, err := NewMatrix(f, s.N, s.K, randWeights(r, f, s.N, s.K))
			if err != nil {
				t.Fatal(err)
			}
			x := randFloats(r, s.M*s.K)
			want, mag := refMatMul(x, w)
			cases[i] = tc{s, w, x, want, mag}
		}
		t.Run(f.String(), func(t *testing.T) {
			eachImpl(t, func(t *testing.T) {
				for _, c := range cases {
					M, N, K := c.s.M, c.s.N, c.s.K
					tol := matMulTol(f, K)
					y, check := guarded(t, M*N, (M+N)%4)
					pool.MatMul(y, c.x, c.w)
					check()
					for i := range y {
						if d := math.Abs(float64(y[i]) - c.want[i]); !(d <= tol*c.mag[i]+1e-30) {
							t.Fatalf("M=%d N=%d K=%d: y[%d] = %g, want %g (|err| %.3g, allowed %.3g)", M, N, K, i, y[i], c.want[i], d, tol*c.mag[i])
						}
					}
					pool.MatMulAdd(y, c.x, c.w)
					check()
					for i := range y {
						if d := math.Abs(float64(y[i]) - 2*c.want[i]); !(d <= 2*tol*c.mag[i]+1e-30) {
							t.Fatalf("MatMulAdd M=%d N=%d K=%d: y[%d] = %g, want %g", M, N, K, i, y[i], 2*c.want[i])
						}
					}
				}
			})
		})
	}
}

// TestMatMulAgainstGeneric compares each implementation with the generic kernels on the
// same quantized activations: the integer block sums are identical, so results differ
// only by float32 summation order.
func TestMatMulAgainstGeneric(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for _, f := range allFormats {
		M, N, K := 6, 29, 512
		w, _ := NewMatrix(f, N, K, randWeights(r, f, N, K))
		x := randFloats(r, M*K)
		want := make([]float32, M*N)
		restore, _ := Use("generic")
		(*Pool)(nil).MatMul(want, x, w)
		restore()
		_, mag := refMatMul(x, w)
		eachImpl(t, func(t *testing.T) {
			y := make([]float32, M*N)
			NewPool(2).MatMul(y, x, w)
			for i := range y {
				if d := math.Abs(float64(y[i] - want[i])); d > matMulTol(f, K)*mag[i] {
					t.Fatalf("%s: y[%d] = %g, generic %g", f, i, y[i], want[i])
				}
			}
		})
	}
}

func TestMatMulPanics(t *testing.T) {
	w := F32Matrix(make([]float32, 6), 2, 3)
	for name, fn := range map[string]func(){
		"x not a multiple of K": func() { NewPool(1).MatMul(make([]float32, 2), make([]float32, 4), w) },
		"y wrong length":        func() { NewPool(1).MatMul(make([]float32, 3), make([]float32, 3), w) },
		"bad data": func() {
			NewPool(1).MatMul(make([]float32, 2), make([]float32, 3), Matrix{Format: F32, Rows: 2, Cols: 3, Data: make([]byte, 5)})
		},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			fn()
		}()
	}
	// Empty shapes are fine.
	NewPool(1).MatMul(nil, nil, F32Matrix(nil, 0, 4))
	NewPool(1).MatMul(nil, nil, w)
	y := []float32{1, 2}
	NewPool(1).MatMul(y, nil, F32Matrix(nil, 2, 0))
}

func TestMatrix(t *testing.T) {
	if _, err := NewMatrix(Q8_0, 2, 33, make([]byte, 100)); err == nil {
		t.Error("Q8_0 with 33 columns accepted")
	}
	if _, err := NewMatrix(Q8_0, 2, 32, make([]byte, 67)); err == nil {
		t.Error("short data accepted")
	}
	m, err := NewMatrix(Q4_K, 3, 256, make([]byte, 3*144))
	if err != nil {
		t.Fatal(err)
	}
	if v := m.RowRange(1, 3); v.Rows != 2 || len(v.Data) != 288 || &v.Data[0] != &m.Data[144] {
		t.Errorf("RowRange: %+v", v)
	}
	f := []float32{1, 2, 3, 4, 5, 6}
	fm := F32Matrix(f, 2, 3)
	y := make([]float32, 2)
	NewPool(1).MatMul(y, []float32{1, 1, 1}, fm.RowRange(0, 2))
	if y[0] != 6 || y[1] != 15 {
		t.Errorf("F32Matrix view: %v", y)
	}
}

func TestPool(t *testing.T) {
	p := NewPool(0)
	if p.Threads() < 1 {
		t.Fatal("no threads")
	}
	// Concurrent callers share the workers.
	var wg sync.WaitGroup
	for c := 0; c < 8; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hits := make([]int32, 1000)
			p.Run(len(hits), func(i int) { atomic.AddInt32(&hits[i], 1) })
			for i, h := range hits {
				if h != 1 {
					t.Errorf("item %d ran %d times", i, h)
					return
				}
			}
		}()
	}
	wg.Wait()
	p.Close()
	p.Close()
	n := 0
	p.Run(5, func(int) { n++ }) // after Close: on the caller's goroutine
	(*Pool)(nil).Run(5, func(int) { n++ })
	if n != 10 || (*Pool)(nil).Threads() != 1 {
		t.Errorf("closed/nil pool ran %d items", n)
	}
}

func TestMatMulRows(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	const M, N, K = 9, 13, 256
	w, _ := NewMatrix(Q8_0, N, K, randWeights(r, Q8_0, N, K))
	x := randFloats(r, M*K)
	full := make([]float32, M*N)
	pool := NewPool(2)
	defer pool.Close()
	pool.MatMul(full, x, w)
	rows := []int{8, 0, 3, 3}
	y := make([]float32, len(rows)*N)
	pool.MatMulRows(y, x, rows, w)
	for i, row := range rows {
		for n := 0; n < N; n++ {
			if y[i*N+n] != full[row*N+n] {
				t.Fatalf("row %d col %d: %g, want %g", row, n, y[i*N+n], full[row*N+n])
			}
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("row out of range accepted")
		}
	}()
	pool.MatMulRows(y[:N], x, []int{M}, w)
}

// TestRowsIndependent checks that a row's result does not depend on M or on the row's
// position (4-row kernel or one-row kernel): bit for bit, for every format.
func TestRowsIndependent(t *testing.T) {
	r := rand.New(rand.NewPCG(33, 34))
	for _, f := range allFormats {
		M, N, K := 7, 11, 2560 // three K-chunks, the last one short
		if f.BlockElems() == 1 {
			K = 2568 // and a tail the Go code finishes
		}
		w, _ := NewMatrix(f, N, K, randWeights(r, f, N, K))
		x := randFloats(r, M*K)
		eachImpl(t, func(t *testing.T) {
			full := make([]float32, M*N)
			NewPool(2).MatMul(full, x, w)
			other := make([]float32, M*N)
			NewPool(3).MatMul(other, x, w) // other tiles
			for i := range other {
				if other[i] != full[i] {
					t.Fatalf("%s: y[%d] with 3 threads %g, with 2 %g", f, i, other[i], full[i])
				}
			}
			for m := 0; m < M; m++ {
				one := make([]float32, N)
				NewPool(1).MatMul(one, x[m*K:(m+1)*K], w)
				for n := range one {
					if one[n] != full[m*N+n] {
						t.Fatalf("%s row %d col %d: alone %g, in a batch of %d %g", f, m, n, one[n], M, full[m*N+n])
					}
				}
			}
		})
	}
}

// TestMatMulStrips covers float weights at M ≥ 4 over many tiles, which run in strips
// whose kernels prefetch the next tile: the results must match the reference and be
// the same bits whatever the number of threads (and so of strips).
func TestMatMulStrips(t *testing.T) {
	r := rand.New(rand.NewPCG(35, 36))
	M, N, K := 8, 1001, 2056
	if testing.Short() || raceEnabled {
		N = 301
	}
	for _, f := range []Format{F32, BF16, F16} {
		w, _ := NewMatrix(f, N, K, randWeights(r, f, N, K))
		x := randFloats(r, M*K)
		want, mag := refMatMul(x, w)
		tol := matMulTol(f, K)
		eachImpl(t, func(t *testing.T) {
			var first []float32
			for threads := 1; threads <= 3; threads++ {
				y := make([]float32, M*N)
				p := NewPool(threads)
				p.MatMul(y, x, w)
				p.Close()
				for i := range y {
					if d := math.Abs(float64(y[i]) - want[i]); !(d <= tol*mag[i]+1e-30) {
						t.Fatalf("%s, %d threads: y[%d] = %g, want %g", f, threads, i, y[i], want[i])
					}
					if first != nil && y[i] != first[i] {
						t.Fatalf("%s: y[%d] with %d threads %g, with 1 %g", f, i, threads, y[i], first[i])
					}
				}
				first = y
			}
		})
	}
}

// TestMatMul2: MatMul2 gives the bits of its two MatMuls — x prepared once where both
// matrices take it alike (the same format and shape: a plain and a repacked layout of
// it), again where they do not (another format, another layout) — on one thread and
// on a pool; and a first matrix of no rows leaves no earlier call's preparation to pass
// for x's.
func TestMatMul2(t *testing.T) {
	r := rand.New(rand.NewPCG(37, 38))
	const K = 512
	for _, f := range allFormats {
		w1, _ := NewMatrix(f, 48, K, randWeights(r, f, 48, K))
		pairs := []struct {
			name   string
			w1, w2 Matrix
		}{
			{"same", w1, mustMatrix(NewMatrix(f, 32, K, randWeights(r, f, 32, K)))},
			{"other rows", w1, mustMatrix(NewMatrix(f, 24, K, randWeights(r, f, 24, K)))},
			{"other format", w1, mustMatrix(NewMatrix(Q4_K, 16, K, randWeights(r, Q4_K, 16, K)))},
			{"no rows first", mustMatrix(NewMatrix(f, 0, K, nil)), w1},
		}
		for _, pr := range pairs {
			for _, M := range []int{1, 3, 8} {
				x, other := randFloats(r, M*K), randFloats(r, M*K)
				eachImpl(t, func(t *testing.T) {
					for _, pool := range []*Pool{nil, NewPool(2)} {
						want1, want2 := make([]float32, M*pr.w1.Rows), make([]float32, M*pr.w2.Rows)
						pool.MatMul(want1, x, pr.w1)
						pool.MatMul(want2, x, pr.w2)
						pool.MatMul(make([]float32, M*pr.w2.Rows), other, pr.w2) // a preparation of another x
						y1, y2 := make([]float32, len(want1)), make([]float32, len(want2))
						pool.MatMul2(y1, y2, x, pr.w1, pr.w2)
						if !slices.Equal(y1, want1) || !slices.Equal(y2, want2) {
							t.Fatalf("%s %s, M=%d, %d threads: MatMul2 differs from two MatMuls", f, pr.name, M, pool.Threads())
						}
						pool.Close()
					}
				})
			}
		}
	}
}

// mustMatrix returns m, panicking on err (test matrices of valid shapes).
func mustMatrix(m Matrix, err error) Matrix {
	if err != nil {
		panic(err)
	}
	return m
}

// TestMatMulStride checks that MatMulStride sets each row of y exactly as MatMul does,
// ldy elements apart, and leaves what lies between the rows alone.
func TestMatMulStride(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	const K = 256
	for _, f := range allFormats {
		for _, N := range []int{5, 48, 100} {
			w, _ := NewMatrix(f, N, K, randWeights(r, f, N, K))
			for _, M := range []int{1, 3, 4, 9} {
				x := randFloats(r, M*K)
				eachImpl(t, func(t *testing.T) {
					for _, pool := range []*Pool{nil, NewPool(2)} {
						want := make([]float32, M*N)
						pool.MatMul(want, x, w)
						for _, ldy := range []int{N, N + 3, 2*N + 64} {
							y := make([]float32, (M-1)*ldy+N)
							for i := range y {
								y[i] = -7
							}
							pool.MatMulStride(y, ldy, x, w)
							for m := range M {
								if !slices.Equal(y[m*ldy:m*ldy+N], want[m*N:(m+1)*N]) {
									t.Fatalf("%s M=%d N=%d ldy=%d, %d threads: row %d differs from MatMul's", f, M, N, ldy, pool.Threads(), m)
								}
								if m < M-1 && slices.ContainsFunc(y[m*ldy+N:(m+1)*ldy], func(v float32) bool { return v != -7 }) {
									t.Fatalf("%s M=%d N=%d ldy=%d: the gap after row %d was written", f, M, N, ldy, m)
								}
							}
							// A stride then a plain call on recycled call state: the plain one
							// takes N again.
							pool.MatMul(y[:M*N], x, w)
							if !slices.Equal(y[:M*N], want) {
								t.Fatalf("%s M=%d N=%d: MatMul after MatMulStride differs", f, M, N)
							}
						}
						pool.Close()
					}
				})
			}
		}
	}
	w := F32Matrix(make([]float32, 6), 2, 3)
	for name, fn := range map[string]func(){
		"stride below N": func() { NewPool(1).MatMulStride(make([]float32, 4), 1, make([]float32, 6), w) },
		"y too short":    func() { NewPool(1).MatMulStride(make([]float32, 5), 4, make([]float32, 6), w) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			fn()
		}()
	}
	NewPool(1).MatMulStride(nil, 5, nil, w) // no rows
}
