package arch

import (
	"slices"
	"sync"
	"testing"
)

// TestEndsOrder: the front hands out 0, 1, … and the back n-1, n-2, … until they meet,
// each item once; an empty list hands out nothing.
func TestEndsOrder(t *testing.T) {
	var e ends
	e.reset(5)
	var got []int
	for _, front := range []bool{true, false, true, false, true, false, true} {
		if i, ok := e.take(front); ok {
			got = append(got, i)
		}
	}
	if want := []int{0, 4, 1, 3, 2}; !slices.Equal(got, want) {
		t.Fatalf("claims %v, want %v", got, want)
	}
	e.reset(0)
	if i, ok := e.take(true); ok {
		t.Fatalf("empty list handed out %d", i)
	}
}

// TestEndsConcurrent: goroutines claiming from both ends at once get every item exactly
// once, each front taker in ascending order and each back taker in descending order.
func TestEndsConcurrent(t *testing.T) {
	const n, takers = 20000, 8
	var e ends
	e.reset(n)
	claims := make([][]int, takers)
	var wg sync.WaitGroup
	for g := range takers {
		wg.Go(func() {
			for {
				i, ok := e.take(g%2 == 0)
				if !ok {
					return
				}
				claims[g] = append(claims[g], i)
			}
		})
	}
	wg.Wait()
	seen := make([]int, n)
	for g, c := range claims {
		for j, i := range c {
			seen[i]++
			if j > 0 && (g%2 == 0) != (i > c[j-1]) {
				t.Fatalf("taker %d (front %v) claimed %d after %d", g, g%2 == 0, i, c[j-1])
			}
		}
	}
	for i, k := range seen {
		if k != 1 {
			t.Fatalf("item %d claimed %d times", i, k)
		}
	}
}
