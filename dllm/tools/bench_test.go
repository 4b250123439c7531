package tools

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dllm-go/dllm/dllm"
)

// TestBench runs every measurement once on the micro model and checks that the result
// is complete and self-consistent (figures positive, min ≤ median ≤ max, throughput =
// tokens / time), and that it survives a JSON round trip (the --json contract).
func TestBench(t *testing.T) {
	m := loadModel(t, filepath.Join(microDir, "hf"))
	r, err := Bench(context.Background(), m, BenchOptions{Reps: 3, Prefill: []int{64}, GenTokens: 16})
	if err != nil {
		t.Fatal(err)
	}
	if r.CPU == "" || r.Kernels == "" || r.Threads != 2 || r.Layers != 3 || r.WeightType != "bf16" || r.FileBytes <= 0 {
		t.Errorf("header %+v", r)
	}
	check := func(name string, bt BenchTiming, tokens int) {
		t.Helper()
		if bt.Reps != 3 || bt.Tokens != tokens || !(0 < bt.MinSec && bt.MinSec <= bt.MedianSec && bt.MedianSec <= bt.MaxSec) {
			t.Errorf("%s: %+v", name, bt)
		}
		if d := bt.TokPerSec - float64(tokens)/bt.MedianSec; d*d > 1e-6 {
			t.Errorf("%s: tok/s %v for %d tokens in %v s", name, bt.TokPerSec, tokens, bt.MedianSec)
		}
	}
	check("block forward", r.BlockForward, 32)
	check("block forward 1 row", r.BlockForward1Row, 32)
	if len(r.Prefill) != 1 {
		t.Fatalf("prefill %+v", r.Prefill)
	}
	check("prefill", r.Prefill[0], 64)
	if r.Decode == nil || r.Decode.Forwards <= 0 || r.Decode.Tokens <= 0 || r.Decode.PromptTokens <= 0 {
		t.Fatalf("decode %+v", r.Decode)
	}
	check("decode", r.Decode.BenchTiming, r.Decode.Tokens)
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back BenchResult
	if err := json.Unmarshal(b, &back); err != nil || back.BlockForward != r.BlockForward {
		t.Fatalf("JSON round trip: %v", err)
	}
}

// TestBenchCancelled: a cancelled context stops the benchmark with its error; a nil
// context or a closed model is refused.
func TestBenchCancelled(t *testing.T) {
	m := loadModel(t, filepath.Join(microDir, "hf"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Bench(ctx, m, BenchOptions{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	// A nil context is the mistake under test.
	if _, err := Bench(nil, m, BenchOptions{}); !errors.Is(err, dllm.ErrInvalid) || !strings.Contains(err.Error(), "context") {
		t.Fatalf("nil context: %v", err)
	}
	m.Close()
	if _, err := Bench(context.Background(), m, BenchOptions{}); !errors.Is(err, dllm.ErrClosed) {
		t.Fatalf("closed model: %v", err)
	}
}
