package pagemem

import (
	"sync"
	"testing"
)

// TestAlloc checks blocks are zeroed, writable, aligned, apart from each other, and
// that a chunk goes once its last block is freed.
func TestAlloc(t *testing.T) {
	sizes := []int{1, 4096, 5000, 1 << 20, ownChunk - align, ownChunk - align + 1, ownChunk + 12345}
	var blocks []Block
	for _, n := range sizes {
		b, err := Alloc(n)
		if err != nil {
			t.Fatalf("Alloc(%d): %v", n, err)
		}
		if len(b.Data) != n || cap(b.Data) != n {
			t.Fatalf("Alloc(%d): len %d cap %d", n, len(b.Data), cap(b.Data))
		}
		if a := addr(b.Data); a%align != 0 {
			t.Errorf("Alloc(%d) at %#x: not %d-aligned", n, a, align)
		}
		if own := n > ownChunk-align; own != (b.c != current) {
			t.Errorf("Alloc(%d): own chunk %v, want %v", n, !own, own)
		}
		for i, v := range b.Data {
			if v != 0 {
				t.Fatalf("Alloc(%d): byte %d = %d, want 0", n, i, v)
			}
		}
		for i := range b.Data {
			b.Data[i] = byte(len(blocks) + 1)
		}
		blocks = append(blocks, b)
	}
	for i, b := range blocks {
		for j, v := range b.Data {
			if v != byte(i+1) {
				t.Fatalf("block %d (%d bytes) byte %d = %d: blocks overlap", i, len(b.Data), j, v)
			}
		}
	}
	shared := blocks[0].c
	for _, b := range blocks {
		b.Free()
		if b.c.live == 0 && b.c.mem != nil {
			t.Errorf("block of %d bytes freed last in its chunk, chunk still mapped", len(b.Data))
		}
	}
	if shared.mem != nil || current != nil {
		t.Errorf("every block freed, the shared chunk is still mapped (current %v)", current)
	}
}

// TestAllocFillsChunks checks small blocks move to a new chunk when one is full and
// that the full one stays until its own blocks are freed.
func TestAllocFillsChunks(t *testing.T) {
	const n = ownChunk - align
	var blocks []Block
	for range 2 * chunkBytes / n {
		b, err := Alloc(n)
		if err != nil {
			t.Fatal(err)
		}
		blocks = append(blocks, b)
	}
	first, last := blocks[0].c, blocks[len(blocks)-1].c
	if first == last {
		t.Fatalf("%d blocks of %d bytes in one %d-byte chunk", len(blocks), n, chunkBytes)
	}
	for _, b := range blocks {
		if b.c == first {
			b.Free()
		}
	}
	if first.mem != nil || last.mem == nil {
		t.Errorf("after freeing the first chunk's blocks: first mapped %v, last mapped %v", first.mem != nil, last.mem != nil)
	}
	for _, b := range blocks {
		if b.c != first {
			b.Free()
		}
	}
	if last.mem != nil || current != nil {
		t.Error("every block freed, a chunk is still mapped")
	}
}

func TestAllocRejectsEmpty(t *testing.T) {
	for _, n := range []int{0, -1} {
		if _, err := Alloc(n); err == nil {
			t.Errorf("Alloc(%d) succeeded", n)
		}
	}
	Block{}.Free() // the zero Block frees nothing
}

// TestAllocConcurrent is for the race detector: blocks allocated, written and freed
// from several goroutines.
func TestAllocConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				b, err := Alloc(1000 + 4096*i)
				if err != nil {
					t.Error(err)
					return
				}
				b.Data[len(b.Data)-1] = byte(g)
				b.Free()
			}
		})
	}
	wg.Wait()
}

func TestSelectedMode(t *testing.T) {
	for list, want := range map[string]string{
		"always [madvise] never\n": "madvise",
		"[always] madvise never":   "always",
		"always madvise [never]":   "never",
		"always madvise never":     "",
		"[]":                       "",
		"":                         "",
	} {
		if got := selectedMode(list); got != want {
			t.Errorf("selectedMode(%q) = %q, want %q", list, got, want)
		}
	}
}
