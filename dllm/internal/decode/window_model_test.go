package decode

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"

	"github.com/dllm-go/dllm/dllm/internal/arch"
	"github.com/dllm-go/dllm/dllm/internal/weights"
)

// The family goldens run end to end on the real forward pass: package arch's State is
// the WindowModel, loaded from the fixture's HF folder or the GGUF a llama.cpp golden
// names (one the fixture no longer ships is skipped).
func init() {
	openWindowModel = func(path string) (WindowModel, int, error) {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, 0, nil
		}
		ck, err := weights.Open(path) // open for the rest of the test binary
		if err != nil {
			return nil, 0, err
		}
		m, err := arch.Load(ck, arch.LoadOptions{})
		if err != nil {
			ck.Close()
			return nil, 0, err
		}
		return &archWindow{m: m.WithThreads(1)}, m.Config().VocabSize, nil
	}
}

// archWindow is an arch.State whose window grows with the longest canvas seen.
type archWindow struct {
	mu sync.Mutex
	m  *arch.Model
	s  *arch.State
}

func (w *archWindow) Window(tokens []int32, rows []int, logits []float32) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.s == nil || w.s.MaxRun() < len(tokens) {
		s, err := w.m.NewWindowState(max(len(tokens), 128))
		if err != nil {
			return err
		}
		w.s = s
	}
	return w.s.Window(tokens, rows, logits)
}

func (w *archWindow) WindowCached(tokens []int32, from, to int, rows []int, logits []float32) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.s == nil {
		return fmt.Errorf("cached forward before any window")
	}
	return w.s.WindowCached(tokens, from, to, rows, logits)
}
