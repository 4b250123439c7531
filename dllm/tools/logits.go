package tools

import (
	"fmt"

	"github.com/dllm-go/dllm/dllm"
	"github.com/dllm-go/dllm/dllm/internal/arch"
	"github.com/dllm-go/dllm/dllm/internal/invalid"
	"github.com/dllm-go/dllm/dllm/internal/modelview"
)

// Mask is the attention mask of a Logits forward pass. Make one with BlockMask,
// CausalMask, BidirectionalMask or ParseMask; the zero Mask is invalid.
type Mask struct {
	// block is the forward's block size: n > 0 attends bidirectionally inside blocks of
	// n and causally across them (1 is plain causal); -1 is bidirectional everywhere;
	// 0 is the zero Mask.
	block int
}

// BlockMask is the LLaDA2 mask: bidirectional inside blocks of n tokens, causal across
// them. n must be positive.
func BlockMask(n int) Mask { return Mask{block: max(n, 0)} }

// CausalMask is the left-to-right mask of an autoregressive model: a block mask of one,
// for comparing against code that runs the model causally.
func CausalMask() Mask { return Mask{block: 1} }

// BidirectionalMask lets every token attend to every other: one block over the whole
// input, as a masked diffusion model without blocks (LLaDA 1) attends.
func BidirectionalMask() Mask { return Mask{block: -1} }

// ParseMask reads a mask as the dllm command's --mask flag writes it: "block:N",
// "causal" or "bidir".
func ParseMask(s string) (Mask, error) {
	block, err := arch.ParseMask(s)
	if err != nil {
		return Mask{}, invalid.Wrap(err)
	}
	if block == 0 {
		return BidirectionalMask(), nil
	}
	return BlockMask(block), nil
}

// ModelMask is the mask a model's family attends with: block:32 for LLaDA2 (its
// decoding block), bidirectional for the families without blocks (LLaDA, Dream,
// LLaDA-MoE). It is what `dllm logits` uses when --mask is not given.
func ModelMask(m *dllm.Model) (Mask, error) {
	if m == nil {
		return Mask{}, invalid.Errorf("dllm: ModelMask of a nil model")
	}
	mask := BlockMask(32)
	err := modelview.Use(m, func(v modelview.View) error {
		if f := arch.FamilyByName(v.Net.Config().Family); f != nil && f.Bidirectional {
			mask = BidirectionalMask()
		}
		return nil
	})
	return mask, err
}

// String is the mask in ParseMask's form.
func (k Mask) String() string {
	switch {
	case k.block == 1:
		return "causal"
	case k.block < 0:
		return "bidir"
	case k.block == 0:
		return "invalid"
	}
	return fmt.Sprintf("block:%d", k.block)
}

// Logits runs one forward pass of m over tokens (absolute positions 0…len−1) on a fresh
// cache and returns the float32 logits, [len(tokens) × VocabSize] row-major. It is the
// raw model output, for checking the model against a reference implementation. A
// non-finite logit is a *dllm.NonFiniteError.
func Logits(m *dllm.Model, tokens []int32, mask Mask) ([]float32, error) {
	if m == nil {
		return nil, invalid.Errorf("dllm: Logits of a nil model")
	}
	info := m.Info()
	switch {
	case len(tokens) == 0:
		return nil, invalid.Errorf("dllm: no tokens")
	case len(tokens) > info.ContextLength:
		return nil, invalid.Errorf("dllm: %d tokens exceed the context of %d", len(tokens), info.ContextLength)
	case mask.block == 0:
		return nil, invalid.Errorf("dllm: the zero Mask (use BlockMask, CausalMask, BidirectionalMask or ParseMask)")
	}
	if err := invalid.CheckIDs(tokens, info.VocabSize); err != nil {
		return nil, err
	}
	var out []float32
	err := modelview.Use(m, func(v modelview.View) (err error) {
		out, err = v.Net.Logits(tokens, max(mask.block, 0))
		return err
	})
	return out, err
}
