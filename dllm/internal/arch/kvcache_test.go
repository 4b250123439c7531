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

// TestKVCacheGrowth: a cache grown for a long prompt holds the blocks that follow it
// without growing again (each growth copies the whole cache), grows geometrically
// after that, never past its capacity, and keeps what it held.
func TestKVCacheGrowth(t *testing.T) {
	const capacity = 10000
	c := newKVCache(2, 1, 4, capacity, 64, false)
	if err := c.ensure(4000); err != nil {
		t.Fatal(err)
	}
	c.k[len(c.k)/2] = 7 // layer 1, position 0, component 0 at alloc positions per head
	at := c.alloc
	for _, n := range []int{4032, 4064, 4096} {
		if err := c.ensure(n); err != nil || c.alloc != at {
			t.Fatalf("ensure(%d) after a 4000-position prompt: alloc %d → %d (%v)", n, at, c.alloc, err)
		}
	}
	if err := c.ensure(at + 1); err != nil || c.alloc != min(capacity, 2*at) {
		t.Fatalf("ensure(%d): alloc %d, want %d (%v)", at+1, c.alloc, min(capacity, 2*at), err)
	}
	if c.k[c.alloc*c.dim] != 7 {
		t.Fatal("growth lost a key")
	}
	if err := c.ensure(capacity); err != nil || c.alloc != capacity {
		t.Fatalf("ensure(capacity): alloc %d (%v)", c.alloc, err)
	}
	if err := c.ensure(capacity + 1); err == nil {
		t.Fatal("ensure beyond the capacity accepted")
	}
	for _, c := range [][2]int{{0, 1}, {64, 65}, {64, 100}, {100, 9999}, {9000, 10000}} {
		if g := grownAlloc(c[0], c[1], capacity); g < c[1] || g > capacity {
			t.Errorf("grownAlloc(%d, %d, %d) = %d", c[0], c[1], capacity, g)
		}
	}
}
