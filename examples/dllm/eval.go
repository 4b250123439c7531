package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/dllm-go/dllm/dllm/tools"
)

// defaultEvalFile is the demo model's eval, as the repository lays it out.
const defaultEvalFile = "testdata/llada2-tiny-chat/golden/eval.json"

func runEval(args []string, std stdio) error {
	fs := newCommandFlags("eval", "dllm eval [-m PATH] [--file EVAL.json] [--cache MODE] [decoding flags] [--json]", std.out)
	fs.notes = `Runs a question-answer eval (the tiny-chat format: items with prompt_ids, expected_ids
and the exact decoding's output_ids; the demo model's 440 questions by default) with the
decoding flags given, and prints per task: accuracy (output = expected, token for token),
the file's reference accuracy at that threshold, how many outputs equal the reference's
(exact) outputs, tokens filled per forward and rows run per forward (32 in exact LLaDA2
decoding; fewer with --cache block). Greedy decoding is deterministic, so two runs —
exact and an approximate --cache — compare quality exactly.
`
	var g genFlags
	g.registerModel(fs)
	file := fs.String("file", defaultEvalFile, "the eval `FILE` (JSON)")
	limit := fs.Int("limit", 0, "run only the first N questions of each task (0: all)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	g.register(fs)
	if err := fs.parse(args); err != nil {
		return err
	}
	if err := fs.noArgs(); err != nil {
		return err
	}
	o, err := g.options(fs)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(*file)
	if err != nil {
		return fmt.Errorf("--file: %w", err)
	}
	m, _, err := g.load(std.err)
	if err != nil {
		return err
	}
	defer m.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := tools.Eval(ctx, m, data, tools.EvalOptions{Options: o, Limit: *limit})
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(std.out)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	mode := res.Cache
	if mode == "" {
		mode = "exact"
	}
	fmt.Fprintf(std.out, "eval %s, cache %s\n", *file, mode)
	tw := tabwriter.NewWriter(std.out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "task\tn\taccuracy\treference\tagree\ttokens/fwd\trows/fwd\t")
	for _, t := range append(res.Tasks, res.All) {
		ref := "-"
		if t.Reference >= 0 {
			ref = fmt.Sprintf("%.3f", t.Reference)
		}
		fmt.Fprintf(tw, "%s\t%d\t%.3f\t%s\t%d\t%.2f\t%.2f\t\n", strings.TrimSpace(t.Task), t.N, t.Accuracy, ref, t.Agree, t.TokensPerForward, t.RowsPerForward)
	}
	return tw.Flush()
}
