//go:build gc && !purego

package kernels

import (
	"math/rand/v2"
	"testing"
)

// TestQ4KX8MatchesGeneric: Q4_K matrices repacked 8 rows side by side multiply to the
// generic kernels' bits, for every activation row count (4-row blocks and the one-row
// tail), MatMul, MatMulAdd and MatMulRows, tiles of several groups, and the extremes:
// every nibble 15 against quants of ±127 (the int16 sums nearest overflow), every
// 6-bit scale and min.
func TestQ4KX8MatchesGeneric(t *testing.T) {
	if active.q4KX8 == nil {
		t.Skip("no repacked Q4_K kernels on this machine")
	}
	r := rand.New(rand.NewPCG(43, 44))
	type tc struct {
		name string
		N, K int
		data []byte
	}
	cases := []tc{
		{"random", 24, 512, randWeights(r, Q4_K, 24, 512)},
		{"many tiles", 8 * 37, 256, randWeights(r, Q4_K, 8*37, 256)},
		{"long rows", 16, 2304, randWeights(r, Q4_K, 16, 2304)},
	}
	full := randWeights(r, Q4_K, 8, 512)
	for b := 0; b < len(full); b += q4KBlockBytes {
		for i := q4KScalesOff; i < q4KBlockBytes; i++ {
			full[b+i] = 0xFF // scales and mins 63, every nibble 15
		}
	}
	cases = append(cases, tc{"all nibbles 15", 8, 512, full})
	for _, c := range cases {
		w, err := NewMatrix(Q4_K, c.N, c.K, c.data)
		if err != nil {
			t.Fatal(err)
		}
		for M := 1; M <= 9; M++ {
			x := randFloats(r, M*c.K)
			if c.name == "all nibbles 15" {
				for i := range x[:c.K] {
					x[i] = 2 // quants of −127 in every block of row 0
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
			if _, ok := w.q4KX8(); !ok {
				t.Fatalf("%s: the matrix was not repacked", c.name)
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
}
