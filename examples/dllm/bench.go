package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/dllm-go/dllm/dllm/tools"
)

func runBench(args []string, std stdio) error {
	out := std.out
	fs := newCommandFlags("bench", "dllm bench -m PATH [--json] [--threads N] [--reps N]", out)
	fs.notes = `Measures block-forward throughput (one diffusion step: a block of tokens against a
committed prefix, logits for every row; and with the LM head on the last row only,
which is what llama-bench's pp measures), prompt prefill and an end-to-end generation,
each after warm-up, repeated, with min and median. The machine, thread count and kernel
implementation are printed with the figures.
`
	model := fs.StringP("model", "m", "", "`PATH` of "+modelFlagHelp+" (required)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	threads := fs.Int("threads", 0, "worker threads (0 = all cores)")
	reps := fs.Int("reps", 5, "timed repetitions of each measurement")
	warmup := fs.Int("warmup", 1, "untimed runs before the timed ones")
	block := fs.Int("block", 32, "block length (tokens per block forward)")
	prefill := fs.String("prefill", "128,512", "prompt lengths to prefill, comma-separated (empty: none)")
	gen := fs.Int("gen", 32, "tokens to generate end to end (0: skip)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	quiet := fs.BoolP("quiet", "q", false, "no progress lines on stderr")
	if err := fs.parse(args); err != nil {
		return err
	}
	if err := fs.noArgs(); err != nil {
		return err
	}
	if *model == "" {
		return fs.required("-m PATH")
	}
	var lengths []int
	for _, f := range strings.Split(*prefill, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return usagef("--prefill: %q is not a positive length", f)
		}
		lengths = append(lengths, n)
	}
	if lengths == nil {
		lengths = []int{}
	}
	genTokens := *gen
	if genTokens == 0 {
		genTokens = -1
	}
	m, err := loadModel(*model, *threads)
	if err != nil {
		return err
	}
	defer m.Close()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts := tools.BenchOptions{
		Reps: *reps, Warmup: *warmup, BlockLength: *block, Prefill: lengths, GenTokens: genTokens,
	}
	if *warmup == 0 {
		opts.Warmup = -1
	}
	if !*quiet {
		opts.Log = func(s string) { fmt.Fprintln(std.err, "bench:", s) }
	}
	r, err := tools.Bench(ctx, m, opts)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	printBench(out, r)
	return nil
}

func printBench(out io.Writer, r *tools.BenchResult) {
	fmt.Fprintf(out, "model    %s (%s, %s, %s)\n", r.Model, r.Format, r.WeightType, humanBytes(r.FileBytes))
	fmt.Fprintf(out, "shape    %d layers, hidden %d, %d experts, vocab %d\n", r.Layers, r.Hidden, r.Experts, r.Vocab)
	fmt.Fprintf(out, "machine  %s, %d logical CPUs; %d threads; kernels %s; %s\n\n", r.CPU, r.Cores, r.Threads, r.Kernels, r.Go)
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "measurement\ttokens\treps\tmin ms\tmedian ms\ttok/s (median)\ttok/s (best)\t")
	row := func(name string, t tools.BenchTiming) {
		fmt.Fprintf(w, "%s\t%d\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t\n", name, t.Tokens, t.Reps, 1e3*t.MinSec, 1e3*t.MedianSec, t.TokPerSec, t.BestPerSec)
	}
	row("block forward (all rows)", r.BlockForward)
	row("block forward (1 row)", r.BlockForward1Row)
	for _, p := range r.Prefill {
		row(fmt.Sprintf("prefill %d", p.Tokens), p)
	}
	if d := r.Decode; d != nil {
		row("generate", d.BenchTiming)
	}
	w.Flush()
	if d := r.Decode; d != nil {
		fmt.Fprintf(out, "\ngenerate: %d prompt tokens, %d tokens in %d forwards (%.2f tokens/forward)\n", d.PromptTokens, d.Tokens, d.Forwards, d.TokensPerForward)
	}
}
