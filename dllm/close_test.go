package dllm

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestCloseDuringGenerate closes sessions while they generate, from another goroutine
// after a varying number of forwards and from inside the callbacks: no data race (run
// with -race), no deadlock; the generation ends with ErrClosed and its partial result
// (or finished first), and the session refuses further work.
func TestCloseDuringGenerate(t *testing.T) {
	m := loadModel(t, filepath.Join(microDir, "hf"))
	o := DefaultOptions()
	o.MaxTokens, o.BlockLength, o.Steps, o.Threshold = 64, 8, 8, 1 // one commit per forward: 64 forwards
	prompt := []int32{1, 2, 3, 4, 5}
	check := func(t *testing.T, s *Session, res Result, err error) {
		t.Helper()
		if err != nil && !errors.Is(err, ErrClosed) {
			t.Fatalf("generation ended with %v, want ErrClosed or success", err)
		}
		// Closed before it began (Close won the race with the start): nothing ran and
		// there is no partial result; closed while running: the partial result.
		closedBeforeStart := res.StopReason == "" && res.Stats.Forwards == 0
		if err != nil && res.StopReason != StopCancelled && !closedBeforeStart {
			t.Fatalf("closed generation: stop reason %q after %d forwards", res.StopReason, res.Stats.Forwards)
		}
		if _, err := s.GenerateIDs(context.Background(), prompt, o); !errors.Is(err, ErrClosed) {
			t.Fatalf("generate after Close: %v", err)
		}
		s.SetSystem("x")
		s.Reset()
		_ = s.History()
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	closedMidRun := 0
	for i := range 12 {
		s, err := m.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		steps := make(chan struct{}, 128)
		oo := o
		oo.OnStep = func(StepEvent) bool { steps <- struct{}{}; return true }
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range i * 4 { // close after a varying number of forwards
				select {
				case <-steps:
				case <-time.After(5 * time.Second):
				}
			}
			s.Close()
		}()
		res, err := s.GenerateIDs(context.Background(), prompt, oo)
		wg.Wait()
		if err != nil && res.StopReason == StopCancelled {
			closedMidRun++
		}
		check(t, s, res, err)
	}
	if closedMidRun == 0 {
		t.Fatal("no generation was closed while running")
	}
	// From inside the callbacks, on the generating goroutine: no deadlock.
	for _, cb := range []string{"OnStep", "OnText"} {
		s, err := m.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		oo := o
		if cb == "OnStep" {
			oo.OnStep = func(StepEvent) bool { s.Close(); return true }
		} else {
			oo.OnText = func(string) bool { s.Close(); return true }
		}
		res, err := s.GenerateIDs(context.Background(), prompt, oo)
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("%s closed the session: %v, want ErrClosed", cb, err)
		}
		check(t, s, res, err)
	}
}
