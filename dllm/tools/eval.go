package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"

	"github.com/dllm-go/dllm/dllm"
	"github.com/dllm-go/dllm/dllm/internal/invalid"
)

// EvalOptions controls Eval.
type EvalOptions struct {
	// Options are the generation options of every question; a zero MaxTokens takes the
	// eval file's gen_length (64 for the tiny-chat eval).
	Options dllm.GenerateOptions
	// Limit, if > 0, runs only the first Limit questions of each task.
	Limit int
	// Log, if set, receives a line after each task.
	Log func(string)
}

// EvalTask is the score of one task of the eval (or of all of them: Task "all").
type EvalTask struct {
	Task     string  `json:"task"`
	N        int     `json:"n"`
	Correct  int     `json:"correct"`
	Accuracy float64 `json:"accuracy"` // Correct / N
	// Agree counts the outputs equal, token for token, to the eval file's reference
	// outputs (output_ids: the exact decoding at items_threshold).
	Agree            int     `json:"agree"`
	Forwards         int     `json:"forwards"`
	Committed        int     `json:"committed"`
	OutputTokens     int     `json:"output_tokens"`
	TokensPerForward float64 `json:"tokens_per_forward"` // Committed / Forwards
	// Rows sums the positions the forwards ran (Stats.RowsPerForward × Forwards);
	// RowsPerForward is Rows / Forwards: the block length in exact decoding.
	Rows           int     `json:"rows"`
	RowsPerForward float64 `json:"rows_per_forward"`
	// Reference is the eval file's accuracy of the task at the options' threshold, when
	// the file has one (its summary); -1 otherwise.
	Reference float64 `json:"reference"`
}

// EvalResult is what Eval measured: one entry per task (sorted by name), then "all".
type EvalResult struct {
	Cache string     `json:"cache"` // Options.Cache ("" exact)
	Tasks []EvalTask `json:"tasks"`
	All   EvalTask   `json:"all"`
	// Outputs are the generated token ids, one per question in the file's order.
	Outputs [][]int32 `json:"-"`
}

// evalFile is the tiny-chat eval format (testdata/llada2-tiny-chat/golden/eval.json).
type evalFile struct {
	Params struct {
		GenLength      int     `json:"gen_length"`
		ItemsThreshold float64 `json:"items_threshold"`
	} `json:"params"`
	Summary map[string]map[string]struct {
		Accuracy *float64 `json:"accuracy"`
	} `json:"summary"`
	Items []struct {
		Task        string  `json:"task"`
		PromptIDs   []int32 `json:"prompt_ids"`
		ExpectedIDs []int32 `json:"expected_ids"`
		OutputIDs   []int32 `json:"output_ids"`
	} `json:"items"`
}

// Eval runs a question-answer eval file (the tiny-chat format: items with prompt_ids,
// expected_ids and the reference's output_ids) with the given options, one fresh
// generation per question on one session, and scores each task: an answer is correct
// when the output equals expected_ids token for token. It also counts the outputs
// equal to the file's reference outputs, so an approximate mode (Options.Cache) reports
// both its accuracy and its agreement with the exact one. The demo model's eval is
// deterministic (greedy), so its figures are exact, not samples.
func Eval(ctx context.Context, m *dllm.Model, data []byte, o EvalOptions) (*EvalResult, error) {
	if ctx == nil || m == nil {
		return nil, invalid.Errorf("dllm: Eval with a nil context or model")
	}
	var f evalFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, invalid.Errorf("dllm: eval file: %v", err)
	}
	if len(f.Items) == 0 {
		return nil, invalid.Errorf("dllm: eval file has no items")
	}
	opts := o.Options
	if opts.MaxTokens == 0 {
		opts.MaxTokens = f.Params.GenLength
	}
	thr := opts.Threshold
	if thr == 0 {
		thr = dllm.DefaultOptions().Threshold
	}
	s, err := m.NewSession()
	if err != nil {
		return nil, err
	}
	defer s.Close()
	res := &EvalResult{Cache: opts.Cache, Outputs: make([][]int32, len(f.Items))}
	by := map[string]*EvalTask{}
	seen := map[string]int{}
	add := func(t *EvalTask, r dllm.Result, correct, agree bool) {
		t.N++
		if correct {
			t.Correct++
		}
		if agree {
			t.Agree++
		}
		t.Forwards += r.Stats.Forwards
		t.Committed += int(r.Stats.TokensPerForward*float64(r.Stats.Forwards) + 0.5)
		t.OutputTokens += r.Stats.Tokens
		t.Rows += int(r.Stats.RowsPerForward*float64(r.Stats.Forwards) + 0.5)
	}
	for i, it := range f.Items {
		if o.Limit > 0 && seen[it.Task] >= o.Limit {
			continue
		}
		seen[it.Task]++
		r, err := s.GenerateIDs(ctx, it.PromptIDs, opts)
		if err != nil {
			return nil, fmt.Errorf("dllm: eval item %d (%s): %w", i, it.Task, err)
		}
		res.Outputs[i] = r.Tokens
		t := by[it.Task]
		if t == nil {
			t = &EvalTask{Task: it.Task, Reference: -1}
			if a := f.Summary[it.Task][fmt.Sprint(thr)].Accuracy; a != nil {
				t.Reference = *a
			}
			by[it.Task] = t
		}
		correct, agree := slices.Equal(r.Tokens, it.ExpectedIDs), slices.Equal(r.Tokens, it.OutputIDs)
		add(t, r, correct, agree)
		add(&res.All, r, correct, agree)
	}
	res.All.Task, res.All.Reference = "all", -1
	for _, t := range by {
		res.Tasks = append(res.Tasks, *t)
	}
	sort.Slice(res.Tasks, func(i, j int) bool { return res.Tasks[i].Task < res.Tasks[j].Task })
	for i := range res.Tasks {
		finishTask(&res.Tasks[i])
		if o.Log != nil {
			t := res.Tasks[i]
			o.Log(fmt.Sprintf("%-8s accuracy %.3f (%d/%d), %d agree, %.2f tokens/forward", t.Task, t.Accuracy, t.Correct, t.N, t.Agree, t.TokensPerForward))
		}
	}
	finishTask(&res.All)
	return res, nil
}

func finishTask(t *EvalTask) {
	if t.N > 0 {
		t.Accuracy = float64(t.Correct) / float64(t.N)
	}
	if t.Forwards > 0 {
		t.TokensPerForward = float64(t.Committed) / float64(t.Forwards)
		t.RowsPerForward = float64(t.Rows) / float64(t.Forwards)
	}
}
