package dllm

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// TestMaskInPrompt: a mask token in a prompt is refused, in every position and through
// every raw path, before any forward; chat contents that spell it are plain text and run.
func TestMaskInPrompt(t *testing.T) {
	m := loadModel(t, filepath.Join(microDir, "hf"))
	s := newSession(t, m)
	ctx := context.Background()
	o := DefaultOptions()
	o.MaxTokens, o.BlockLength, o.Steps = 8, 4, 4
	mask := m.Info().MaskID
	for _, edit := range []float64{-1, 0.5} {
		o.Edit, o.EditThreshold = edit >= 0, max(edit, 0)
		for _, prompt := range [][]int32{{mask}, {1, mask}, {mask, 2, 3, 4, 5}, {1, 2, 3, 4, 5, 6, 7, mask}} {
			_, err := s.GenerateIDs(ctx, prompt, o)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "mask token") {
				t.Errorf("edit %g, prompt %v: %v, want ErrInvalid about the mask token", edit, prompt, err)
			}
		}
		if _, err := s.Generate(ctx, "fill <|mask|> in", o); !errors.Is(err, ErrInvalid) {
			t.Errorf("raw prompt with <|mask|>: %v, want ErrInvalid", err)
		}
		if _, err := s.GenerateChat(ctx, []Message{{Role: "user", Content: "fill <|mask|> in"}}, o); err != nil {
			t.Errorf("chat content spelling <|mask|>: %v", err)
		}
	}
}
