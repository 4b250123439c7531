package tools

import (
	"errors"
	"testing"

	"github.com/dllm-go/dllm/dllm"
)

// TestParseMask: every spelling of the --mask flag round-trips through String, and
// anything else is an input error.
func TestParseMask(t *testing.T) {
	for s, want := range map[string]Mask{"causal": CausalMask(), "bidir": BidirectionalMask(), "block:4": BlockMask(4), "block:1": CausalMask()} {
		got, err := ParseMask(s)
		if err != nil || got != want {
			t.Errorf("ParseMask(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	if s := BlockMask(4).String(); s != "block:4" {
		t.Errorf("String: %q", s)
	}
	for _, s := range []string{"", "block:", "block:0", "block:-2", "causal ", "bidirectional"} {
		if _, err := ParseMask(s); !errors.Is(err, dllm.ErrInvalid) {
			t.Errorf("ParseMask(%q): %v, want ErrInvalid", s, err)
		}
	}
}

// TestLogitsInput: every kind of bad input is refused as such, before any forward
// pass; the block mask equals causal when the blocks are one token.
func TestLogitsInput(t *testing.T) {
	m := loadModel(t, dllm.DemoModel)
	vocab := m.Info().VocabSize
	for name, c := range map[string]struct {
		tokens []int32
		mask   Mask
	}{
		"no tokens":    {nil, CausalMask()},
		"zero mask":    {[]int32{1}, Mask{}},
		"zero block":   {[]int32{1}, BlockMask(0)},
		"negative id":  {[]int32{1, -1}, CausalMask()},
		"id past end":  {[]int32{int32(vocab)}, CausalMask()},
		"past context": {make([]int32, m.Info().ContextLength+1), CausalMask()},
	} {
		if _, err := Logits(m, c.tokens, c.mask); !errors.Is(err, dllm.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	if _, err := Logits(nil, []int32{1}, CausalMask()); !errors.Is(err, dllm.ErrInvalid) {
		t.Errorf("nil model: %v", err)
	}
	a, err := Logits(m, []int32{1, 2, 3}, BlockMask(1))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Logits(m, []int32{1, 2, 3}, CausalMask())
	if err != nil || len(a) != 3*vocab || len(b) != len(a) {
		t.Fatalf("%d and %d logits, %v", len(a), len(b), err)
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("logit %d: block:1 %g, causal %g", i, a[i], b[i])
		}
	}
	m.Close()
	if _, err := Logits(m, []int32{1}, CausalMask()); !errors.Is(err, dllm.ErrClosed) {
		t.Errorf("closed model: %v", err)
	}
}
