package tools

import (
	"context"
	"math"
	"os"
	"testing"

	"github.com/dllm-go/dllm/dllm"
)

const tinyChatEval = "../../testdata/llada2-tiny-chat/golden/eval.json"

// TestEvalBlockCache runs the demo model's 440-question eval exactly and with the
// approximate block cache (GenerateOptions.Cache "block", "block:2", and the decoding
// windows "window:4" and "window:12"): the exact run scores the reference's accuracy and
// reproduces every reference output; each cache mode must score within one point of it
// on every task (README "Block cache for LLaDA2" lists the windows that do not). Greedy decoding on a fixed model is
// deterministic, so this checks quality, not timing.
func TestEvalBlockCache(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("880 generations: run without -short and without -race")
	}
	data, err := os.ReadFile(tinyChatEval)
	if err != nil {
		t.Fatal(err)
	}
	m := loadModel(t, dllm.DemoModel)
	exact, err := Eval(context.Background(), m, data, EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range exact.Tasks {
		t.Logf("exact  %-8s accuracy %.3f (reference %.3f), %d/%d agree, %.2f tokens/forward", tk.Task, tk.Accuracy, tk.Reference, tk.Agree, tk.N, tk.TokensPerForward)
		if math.Abs(tk.Accuracy-tk.Reference) > 0.01 {
			t.Errorf("exact %s: accuracy %.3f, reference %.3f", tk.Task, tk.Accuracy, tk.Reference)
		}
	}
	if exact.All.Agree != exact.All.N {
		t.Errorf("exact: %d of %d outputs equal the reference's", exact.All.Agree, exact.All.N)
	}
	for _, cache := range []string{"block", "block:2", "window:4", "window:12"} {
		o := EvalOptions{Options: dllm.GenerateOptions{Cache: cache}}
		got, err := Eval(context.Background(), m, data, o)
		if err != nil {
			t.Fatal(err)
		}
		for i, tk := range got.Tasks {
			ex := exact.Tasks[i]
			t.Logf("%-7s %-8s accuracy %.3f (exact %.3f), %d/%d agree with exact, %.2f tokens/forward", cache, tk.Task, tk.Accuracy, ex.Accuracy, tk.Agree, tk.N, tk.TokensPerForward)
			if math.Abs(tk.Accuracy-ex.Accuracy) > 0.01+1e-9 {
				t.Errorf("%s %s: accuracy %.3f, exact %.3f", cache, tk.Task, tk.Accuracy, ex.Accuracy)
			}
		}
		t.Logf("%-7s all: accuracy %.3f (exact %.3f), %d/%d agree, %.2f tokens/forward, %.2f rows/forward (exact %.2f)", cache, got.All.Accuracy, exact.All.Accuracy, got.All.Agree, got.All.N, got.All.TokensPerForward, got.All.RowsPerForward, exact.All.RowsPerForward)
	}
}
