//go:build gc && !purego

package kernels

import (
	"math/rand/v2"
	"testing"
)

// TestRepackedMatchesGeneric: matrices repacked 8 or 16 rows side by side (Q4_K and
// Q6_K on AVX2; Q4_K, 16 wide, and Q8_0 on AVX-512 VNNI), under each implementation
// and under all of them (where AVX2's Q4_K kernels take the matrices that are not whole
// groups of 16), through every layout in use, multiply to the generic kernels' bits,
// for every activation row count (4-row blocks and tails of 1, 2 or 3 rows), MatMul,
// MatMulAdd and MatMulRows, tiles of several groups, and the extremes: Q4_K with every
// nibble 15 against quants of −127 (the int16 sums nearest overflow) and every 6-bit
// scale and min at 63, Q8_0 with every weight −128 or 127, Q6_K with every quant 63 and
// scales 127 and −128.
func TestRepackedMatchesGeneric(t *testing.T) {
	eachFormat := func(t *testing.T) {
		for _, f := range []Format{Q4_K, Q8_0, Q6_K} {
			t.Run(f.String(), func(t *testing.T) {
				if len(active.repacked[f]) == 0 {
					t.Skipf("no repacked %s kernels in this implementation", f)
				}
				testRepacked(t, f)
			})
		}
	}
	eachImpl(t, eachFormat)
	t.Run("all", eachFormat)
}

func testRepacked(t *testing.T, f Format) {
	r := rand.New(rand.NewPCG(43, uint64(f)))
	type tc struct {
		name string
		N, K int
		data []byte
	}
	cases := []tc{
		{"random", 24, 512, randWeights(r, f, 24, 512)},
		{"many tiles", 8 * 37, 256, randWeights(r, f, 8*37, 256)},
		{"many wide tiles", 16 * 23, 256, randWeights(r, f, 16*23, 256)},
		{"long rows", 16, 2304, randWeights(r, f, 16, 2304)},
	}
	extreme := randWeights(r, f, 16, 512)
	bb := f.BlockBytes()
	for b := 0; b < len(extreme); b += bb {
		switch f {
		case Q4_K:
			for i := q4KScalesOff; i < bb; i++ {
				extreme[b+i] = 0xFF // scales and mins 63, every nibble 15
			}
		case Q8_0:
			for i := q8_0QuantsOff; i < bb; i++ {
				extreme[b+i] = byte(0x80 | (b/bb)%2*0xFF) // −128 in even blocks, 127 in odd
			}
		case Q6_K:
			for i := 0; i < q6KScalesOff; i++ {
				extreme[b+i] = 0xFF // every quant 63
			}
			for i := q6KScalesOff; i < q6KDOff; i++ {
				extreme[b+i] = byte(0x7F + i%2) // scales 127 and −128
			}
		}
	}
	cases = append(cases, tc{"extremes", 16, 512, extreme})
	used := map[*layout]bool{}
	for _, c := range cases {
		w, err := NewMatrix(f, c.N, c.K, c.data)
		if err != nil {
			t.Fatal(err)
		}
		if !w.Repacks() {
			// No active layout fits (8 rows more than a multiple of 16): the matrix
			// multiplies from the file's layout, whose kernels keep their own order.
			continue
		}
		for M := 1; M <= 9; M++ {
			x := randFloats(r, M*c.K)
			if c.name == "extremes" {
				for i := range x[:c.K] {
					x[i] = 2 // quants of ±127 in every block of row 0
				}
			}
			want := make([]float32, M*c.N)
			wantAdd := randFloats(r, M*c.N)
			gotAdd := append([]float32(nil), wantAdd...)
			rows := []int{M - 1, 0}
			wantRows := make([]float32, len(rows)*c.N)
			restore, err := Use("generic")
			if err != nil {
				t.Fatal(err)
			}
			(*Pool)(nil).MatMul(want, x, w)
			(*Pool)(nil).MatMulAdd(wantAdd, x, w)
			(*Pool)(nil).MatMulRows(wantRows, x, rows, w)
			restore()

			p := NewPool(3)
			got := make([]float32, M*c.N)
			p.MatMul(got, x, w)
			p.MatMulAdd(gotAdd, x, w)
			gotRows := make([]float32, len(rows)*c.N)
			p.MatMulRows(gotRows, x, rows, w)
			p.Close()
			k, _ := w.repackedKernels()
			if w.repack.mem[k.layout.id].m.Load() == nil {
				t.Fatalf("%s: the matrix was not repacked", c.name)
			}
			used[k.layout] = true
			if !w.OnePassTail() || w.Plain().OnePassTail() {
				t.Fatalf("%s: OnePassTail %v repacked, %v plain; want true, false", c.name, w.OnePassTail(), w.Plain().OnePassTail())
			}
			for _, cmp := range []struct {
				what      string
				got, want []float32
			}{{"MatMul", got, want}, {"MatMulAdd", gotAdd, wantAdd}, {"MatMulRows", gotRows, wantRows}} {
				for i := range cmp.want {
					if !sameBits(cmp.got[i], cmp.want[i]) {
						t.Fatalf("%s, M=%d: %s y[%d] = %g repacked, %g generic", c.name, M, cmp.what, i, cmp.got[i], cmp.want[i])
					}
				}
			}
		}
	}
	for _, k := range active.repacked[f] {
		if !used[k.layout] {
			t.Errorf("no case multiplied from the %d-wide layout", k.layout.width)
		}
	}
}

// TestRepackedNextTile: with M ≥ 6 rows of x the repacked 2–4-row kernels' later passes
// over a tile prefetch the next tile of their strip (a prefetch slot that overlapped
// the kernels' stack sums would change them). Matrices of 2048 columns and 768 rows
// take tiles small enough for strips of several on one thread (as routed experts run)
// and on two; every row count from 6 to 14 (one to three later passes, with and
// without a one-row tail) must give the generic kernels' bits.
func TestRepackedNextTile(t *testing.T) {
	const N, K = 768, 2048
	eachImpl(t, func(t *testing.T) {
		for _, f := range []Format{Q4_K, Q8_0, Q6_K} {
			if len(active.repacked[f]) == 0 {
				continue
			}
			r := rand.New(rand.NewPCG(47, uint64(f)))
			w, err := NewMatrix(f, N, K, randWeights(r, f, N, K))
			if err != nil {
				t.Fatal(err)
			}
			for _, M := range []int{6, 9, 14} {
				x := randFloats(r, M*K)
				want := make([]float32, M*N)
				restore, err := Use("generic")
				if err != nil {
					t.Fatal(err)
				}
				(*Pool)(nil).MatMul(want, x, w)
				restore()
				p := NewPool(2)
				for _, pool := range []*Pool{nil, p} {
					got := make([]float32, M*N)
					pool.MatMul(got, x, w)
					for i := range want {
						if !sameBits(got[i], want[i]) {
							t.Fatalf("%s, M=%d, %d threads: y[%d] = %g repacked, %g generic", f, M, pool.Threads(), i, got[i], want[i])
						}
					}
				}
				p.Close()
				if !w.Repacks() {
					t.Fatalf("%s: not repacked", f)
				}
			}
		}
	})
}
