package arch

import (
	"testing"

	"github.com/dllm-go/dllm/dllm/internal/weights"
	"github.com/dllm-go/dllm/kernels"
)

// TestValuesStored: after a forward, the last layer's cache slots hold the value vectors
// its projection gave every token, component by component — on a model whose heads
// span several value pieces, with more tokens than putValues takes at a time, for the
// float32 and float16 caches, after a full forward (consecutive positions) and a
// partial one (listed positions).
func TestValuesStored(t *testing.T) {
	m := openModel(t, tinyGGUF(t, weights.F32, 3))
	if D := m.Config().HeadDim; valuePieces(D) < 2 {
		t.Fatalf("head dim %d is one value piece: the test would not split a head", D)
	}
	const n = valueRun + 6
	tokens := make([]int32, n)
	for i := range tokens {
		tokens[i] = int32(i*37%200 + 1)
	}
	for _, f16 := range []bool{false, true} {
		s, err := m.NewState(StateOptions{KVF16: f16, MaxRun: n})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Forward(tokens, n, false, nil, nil); err != nil {
			t.Fatal(err)
		}
		checkValuesStored(t, s, f16, "full", nil)
		run := []int{0, 3, 4, 40, 65, n - 1}
		tokens[3], tokens[65] = 7, 9
		if err := s.ForwardPartial(tokens, n, run, nil, nil); err != nil {
			t.Fatal(err)
		}
		checkValuesStored(t, s, f16, "partial", run)
	}
}

// checkValuesStored compares the values of the last layer's last attention call (in
// s.qkv) with the cache slots of their positions: s.Len()+i for the call's token i, or
// s.Len()+run[i] where run is set.
func checkValuesStored(t *testing.T, s *State, f16 bool, name string, run []int) {
	t.Helper()
	a, D := &s.qk, s.m.cfg.HeadDim
	for i := range a.n {
		pos := s.Len() + i
		if run != nil {
			pos = s.Len() + run[i]
		}
		for g := range s.m.cfg.NumKVHeads {
			for d := range D {
				want := s.qkv[a.v0+i*a.ks+g*D+d]
				at := s.kv.vOffset(a.li, g, d) + pos
				var got float32
				if f16 {
					var w16 [2]byte
					kernels.F32ToF16(w16[:], []float32{want})
					var back [1]float32
					kernels.F16ToF32(back[:], w16[:])
					want = back[0]
					kernels.F16ToF32(back[:], s.kv.v16[2*at:2*at+2])
					got = back[0]
				} else {
					got = s.kv.v[at]
				}
				if got != want {
					t.Fatalf("f16=%v %s forward: token %d (position %d), KV head %d, component %d: cache holds %v, want %v",
						f16, name, i, pos, g, d, got, want)
				}
			}
		}
	}
}
