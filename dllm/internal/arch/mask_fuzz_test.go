package arch

import (
	"path/filepath"
	"testing"
)

// FuzzParseMask: no mask name panics or sizes buffers by its number: an accepted one runs
// a forward over a short input, whatever block size it names.
func FuzzParseMask(f *testing.F) {
	for _, s := range []string{"block:1", "block:3", "block:32", "block:2147483648", "block:9223372036854775807",
		"block:-9223372036854775808", "block:+5", "block: 4", "block:0x10", "block:", "causal", "bidir", ""} {
		f.Add(s)
	}
	m := openModel(f, filepath.Join(microDir, "hf"))
	tokens := []int32{1, 2, 3, 4, 5}
	f.Fuzz(func(t *testing.T, s string) {
		block, err := ParseMask(s)
		if err != nil {
			return
		}
		if block < 0 {
			t.Fatalf("%q: block %d", s, block)
		}
		out, err := m.Logits(tokens, block)
		if err != nil || len(out) != len(tokens)*m.Config().VocabSize {
			t.Fatalf("%q (block %d): %d logits, %v", s, block, len(out), err)
		}
	})
}
