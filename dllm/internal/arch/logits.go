package arch

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseMask turns a mask name of the `dllm logits` command into a Forward block size:
// "block:N" → N, "causal" → 1, "bidir" → 0 (bidirectional over the whole input).
func ParseMask(s string) (block int, err error) {
	switch {
	case s == "causal":
		return 1, nil
	case s == "bidir":
		return 0, nil
	case strings.HasPrefix(s, "block:"):
		n, err := strconv.Atoi(strings.TrimPrefix(s, "block:"))
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("llada2: bad mask %q: block size must be a positive integer", s)
		}
		return n, nil
	}
	return 0, fmt.Errorf("llada2: unknown mask %q (want block:N, causal or bidir)", s)
}

// Logits returns the logits of every position of tokens, [len(tokens) × vocab], computed
// on a fresh state with the given block mask (see Forward). With a block size above one
// the input is processed block by block, committing each block before the next — the
// cached path a decoder takes — which equals one run under the block-causal mask. Causal
// (block 1) and bidirectional (block <= 0) inputs run as one Forward call.
func (m *Model) Logits(tokens []int32, block int) ([]float32, error) {
	if len(tokens) == 0 {
		return nil, fmt.Errorf("llada2: no tokens")
	}
	run, maxRun := len(tokens), len(tokens)
	switch {
	case block > 1:
		// A block covering the whole input is the same mask as one block of its length,
		// and buffers must be sized by the input, not by the number the caller wrote.
		run = min(block, len(tokens))
		maxRun = run
	case block == 1:
		maxRun = min(maxRun, 512) // causal runs split anywhere, exactly
	}
	s, err := m.NewState(StateOptions{Capacity: len(tokens), MaxRun: maxRun})
	if err != nil {
		return nil, err
	}
	V := m.cfg.VocabSize
	out := make([]float32, len(tokens)*V)
	rows := make([]int, run)
	for i := range rows {
		rows[i] = i
	}
	for start := 0; start < len(tokens); start += run {
		end := min(len(tokens), start+run)
		if err := s.Forward(tokens[start:end], block, true, rows[:end-start], out[start*V:end*V]); err != nil {
			return nil, err
		}
	}
	return out, nil
}
