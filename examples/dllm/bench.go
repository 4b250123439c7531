package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/dllm-go/dllm/dllm"
	"github.com/dllm-go/dllm/dllm/tools"
)

func runBench(args []string, std stdio) error {
	out := std.out
	fs := newCommandFlags("bench", "dllm bench -m PATH [--json] [--threads N] [--reps N] [--threads-scan]", out)
	fs.notes = `Measures block-forward throughput (one diffusion step: a block of tokens against a
committed prefix, logits for every row; with the LM head on the last row only, which is
what llama-bench's pp measures; and the first decoding step after a prompt, a block of
mask tokens), prompt prefill and an end-to-end generation, each after warm-up, repeated,
with min and median. The machine, thread count and kernel implementation are printed
with the figures, and so are the machine's limits measured in the same run (memory read
bandwidth, float32 FMA peak, 8-bit multiply-add peak) and, per block forward, what it
reads and computes: distinct routed experts per MoE layer, weight and KV-cache bytes,
FLOPs, the achieved GB/s and GFLOP/s, and % of roofline (the least time the forward's
ops could take at the limits, each op bound by its bytes or its FLOPs at its peak —
int8 for quantized weights — ÷ the median time), and the time per kind of op beside
that kind's roofline, in the median of as many recorded runs after the timed ones.
--threads-scan times the block forwards again on 1, 2, 4, … threads up to all cores,
with speed-ups, the whole forward's and each kind of op's, in rounds that each run
every forward on every thread count once (a machine whose speed changes meanwhile
slows every count alike). --context N runs the block
forwards after N committed tokens instead of one block: attention reads every one of
them, and at a few thousand it costs as much as the rest of a step. The limits are
measured before and after the forwards, each figure the higher of the two.

Bidirectional families (LLaDA, LLaDA-MoE, Dream, RND1) have no block forward: bench
times the whole-window forward every exact step runs (the chat prompt plus --gen masks,
rounded up to whole --block blocks) and, except for RND1, compares one generation —
greedy, Fast-dLLM's confidence-threshold decoding (0.9), blocks of --block — exact, then
with the approximate prefix cache and dual cache (the fast mode): time, forwards, tokens
per forward, speed-up over exact and agreement (the fraction of generated positions
holding the same token as exact's).
`
	model := fs.StringP("model", "m", "", "`PATH` of "+modelFlagHelp+" (required)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	threads := fs.Int("threads", 0, "worker threads (0 = all cores)")
	noRepack := fs.Bool("no-repack", false, noRepackHelp)
	reps := fs.Int("reps", 5, "timed repetitions of each measurement")
	warmup := fs.Int("warmup", 1, "untimed runs before the timed ones")
	block := fs.Int("block", 32, "block length (tokens per block forward)")
	contextLen := fs.Int("context", 0, "LLaDA2: committed tokens before the block forwards (0: the block length); at thousands, attention costs as much as the rest of a step")
	prefill := fs.String("prefill", "128,512", "prompt lengths to prefill, comma-separated (empty: none)")
	promptLen := fs.Int("prompt-len", 64, "prompt tokens before the first-step forward (0: skip it)")
	scan := fs.Bool("threads-scan", false, "also time the block forwards on 1, 2, 4, … threads up to all cores")
	gen := fs.Int("gen", 32, "tokens to generate end to end (0: skip)")
	caches := fs.String("cache", "block", "LLaDA2: the approximate modes to decode a block in besides exact, comma-separated (block, block:N, window:W, window:W:N; empty: exact only)")
	decodeSteps := fs.Int("decode-steps", 0, "LLaDA2: Steps of the block decode (0: the block length; a synthetic model takes that many forwards per block)")
	tg := fs.Float64("llamacpp-tg", 0, "llama.cpp's tg tok/s on the same file and threads: prints each mode's break-even tokens per forward")
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
	if *contextLen < 0 {
		return usagef("--context: %d is negative", *contextLen)
	}
	if *promptLen < 0 {
		return usagef("--prompt-len: %d is negative", *promptLen)
	}
	stepPrompt := *promptLen
	if stepPrompt == 0 {
		stepPrompt = -1
	}
	m, err := loadModel(*model, dllm.LoadOptions{Threads: *threads, NoRepack: *noRepack})
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
		Reps: *reps, Warmup: *warmup, BlockLength: *block, Context: *contextLen, Prefill: lengths, GenTokens: genTokens,
		StepPrompt: stepPrompt, ThreadScan: *scan, Caches: []string{}, DecodeSteps: *decodeSteps,
	}
	for _, c := range strings.Split(*caches, ",") {
		if c = strings.TrimSpace(c); c != "" {
			opts.Caches = append(opts.Caches, c)
		}
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
	printBench(out, r, *tg)
	return nil
}

func printBench(out io.Writer, r *tools.BenchResult, tg float64) {
	fmt.Fprintf(out, "model    %s (%s, %s, %s)\n", r.Model, r.Format, r.WeightType, humanBytes(r.FileBytes))
	fmt.Fprintf(out, "shape    %d layers, hidden %d, %d experts, vocab %d\n", r.Layers, r.Hidden, r.Experts, r.Vocab)
	thp := ""
	if r.HugePages != "" {
		thp = "; transparent huge pages " + r.HugePages
	}
	fmt.Fprintf(out, "machine  %s, %d logical CPUs; %d threads; kernels %s%s; %s\n", r.CPU, r.Cores, r.Threads, r.Kernels, thp, r.Go)
	fmt.Fprintf(out, "limits   %s\n\n", limitsText(r.Limits))
	if r.Window != nil {
		printWindowBench(out, r)
		return
	}
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "measurement\ttokens\treps\tmin ms\tmedian ms\ttok/s (median)\ttok/s (best)\t")
	row := func(name string, t tools.BenchTiming) {
		fmt.Fprintf(w, "%s\t%d\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t\n", name, t.Tokens, t.Reps, 1e3*t.MinSec, 1e3*t.MedianSec, t.TokPerSec, t.BestPerSec)
	}
	after := "" // the committed context, where --context set one other than the block
	if r.Context != r.BlockForward.Tokens {
		after = fmt.Sprintf(", after %d tokens", r.Context)
	}
	forwards := []struct {
		name string
		f    tools.BenchForward
	}{{"block forward (all rows" + after + ")", r.BlockForward}, {"block forward (1 row" + after + ")", r.BlockForward1Row}}
	if s := r.FirstStep; s != nil {
		forwards = append(forwards, struct {
			name string
			f    tools.BenchForward
		}{fmt.Sprintf("first step (%d-token prompt, %d masks)", s.PromptTokens, s.MaskRows), s.BenchForward})
	}
	for _, f := range forwards {
		row(f.name, f.f.BenchTiming)
	}
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

	fmt.Fprintf(out, "\nper block forward (median time; roofline: each op at the limits above, bound by its bytes or its FLOPs)\n")
	w = tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "forward\texperts/MoE layer\tweights MB\tKV MB\tGFLOP\tGB/s\tGFLOP/s\troofline ms\t% of roofline\t")
	for _, f := range forwards {
		fw := f.f.BenchWork
		fmt.Fprintf(w, "%s\t%.1f (%d–%d)\t%.1f\t%.2f\t%.2f\t%.1f\t%.1f\t%.2f\t%.1f\t\n", f.name, fw.ExpertsPerLayer, fw.ExpertsMin, fw.ExpertsMax,
			float64(fw.WeightBytes)/1e6, float64(fw.CacheBytes)/1e6, float64(fw.FLOPs)/1e9, fw.GBps, fw.GFLOPS, 1e3*fw.RooflineSec, fw.RooflinePct)
	}
	w.Flush()
	names, works := make([]string, len(forwards)), make([]tools.BenchWork, len(forwards))
	for i, f := range forwards {
		names[i], works[i] = f.name, f.f.BenchWork
	}
	printOpTimes(out, names, works)

	if len(r.BlockDecode) > 0 {
		bd := r.BlockDecode
		fmt.Fprintf(out, "\nblock decode (the block after the first step's prompt, LLaDA2.0 threshold 0.95; block: approximate in-block cache)\n")
		w = tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
		head := "mode\tforwards\tmedian ms\tms/step\trows/step\texperts/MoE layer\tfirst step experts\tMB/step\tspeed-up\troofline speed-up\tagreement\t"
		if tg > 0 {
			head += "break-even tokens/forward\t"
		}
		fmt.Fprintln(w, head)
		for _, d := range bd {
			fmt.Fprintf(w, "%s\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.0f\t%.2f×\t%.2f×\t%.1f %%\t", d.Mode, d.Forwards, 1e3*d.MedianSec, 1e3*d.StepSec,
				d.RowsPerForward, d.ExpertsPerLayer, d.FirstExperts, float64(d.WeightBytes)/1e6, d.Speedup, d.RooflineSpeedup, 100*d.Agreement)
			if tg > 0 {
				fmt.Fprintf(w, "%.1f\t", d.StepSec*tg)
			}
			fmt.Fprintln(w)
		}
		w.Flush()
		if tg > 0 {
			fmt.Fprintf(out, "break-even = ms/step × llama.cpp tg (%.1f tok/s): the tokens per forward at which decoding matches llama.cpp\n", tg)
		}
	}

	if len(r.ThreadScan) > 0 {
		fmt.Fprintf(out, "\nthread scan (median tok/s, speed-up vs 1 thread, %% of roofline at that thread count's limits)\n")
		w = tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
		head := "threads\tread GB/s\tFMA GFLOP/s\tint8 GOP/s\tall rows tok/s\t×\t%\t1 row tok/s\t×\t%\t"
		if r.ThreadScan[0].FirstStep != nil {
			head += "first step tok/s\t×\t%\t"
		}
		fmt.Fprintln(w, head)
		for _, e := range r.ThreadScan {
			fmt.Fprintf(w, "%d\t%.1f\t%.1f\t%.1f\t", e.Threads, e.Limits.ReadGBps, e.Limits.FMAGFLOPS, e.Limits.Int8GOPS)
			for _, p := range e.Points() {
				if p != nil {
					fmt.Fprintf(w, "%.1f\t%.2f\t%.1f\t", p.TokPerSec, p.Speedup, p.RooflinePct)
				}
			}
			fmt.Fprintln(w)
		}
		w.Flush()
		printScanOps(out, r.ThreadScan)
	}
}

// printScanOps prints, for each forward of a thread scan, the time its recorded run
// spent per kind of op on each thread count, with the speed-up over 1 thread: the op
// that scales worse than the others shows.
func printScanOps(out io.Writer, scan []tools.BenchThreads) {
	fmt.Fprintf(out, "\nthread scan per op (ms in the recorded forward, speed-up vs 1 thread)\n")
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(w, "forward\top\t")
	for _, e := range scan {
		fmt.Fprintf(w, "%s\t×\t", threadsLabel(e.Threads))
	}
	fmt.Fprintln(w)
	for f, forward := range [3]string{"all rows", "1 row", "first step"} { // BenchThreads.Points
		first := scan[0].Points()[f]
		if first == nil {
			continue
		}
		for i, op := range first.Ops {
			name := ""
			if i == 0 {
				name = forward
			}
			fmt.Fprintf(w, "%s\t%s\t", name, op.Kind)
			for j := range scan {
				p := scan[j].Points()[f]
				k := slices.IndexFunc(p.Ops, func(o tools.BenchOpTime) bool { return o.Kind == op.Kind })
				if k < 0 {
					fmt.Fprint(w, "–\t\t")
					continue
				}
				fmt.Fprintf(w, "%.2f\t%.2f\t", 1e3*p.Ops[k].MeasuredSec, p.Ops[k].Speedup)
			}
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "\twhole\t")
		for j := range scan {
			p, speedup := scan[j].Points()[f], 0.0
			if p.RecordedSec > 0 {
				speedup = first.RecordedSec / p.RecordedSec
			}
			fmt.Fprintf(w, "%.2f\t%.2f\t", 1e3*p.RecordedSec, speedup)
		}
		fmt.Fprintln(w)
	}
	w.Flush()
}

// threadsLabel is a thread count as a column heading.
func threadsLabel(n int) string {
	if n == 1 {
		return "1 thread ms"
	}
	return fmt.Sprintf("%d threads ms", n)
}

// limitsText describes the measured limits.
func limitsText(l tools.BenchLimits) string {
	if l.ReadGBps <= 0 && l.FMAGFLOPS <= 0 {
		return "not measured (no probe in this build): no roofline"
	}
	int8 := ""
	if l.Int8GOPS > 0 {
		int8 = fmt.Sprintf(", int8 %.1f GOP/s", l.Int8GOPS)
	}
	loops := ""
	if l.Int8GOPS > 0 && l.LoopQ8GOPS > 0 && l.LoopQ4KGOPS > 0 {
		loops = fmt.Sprintf("; the avx2 kernels' inner loops reach %.0f %% (q8_0) and %.0f %% (q4_k) of int8",
			100*l.LoopQ8GOPS/l.Int8GOPS, 100*l.LoopQ4KGOPS/l.Int8GOPS)
	}
	return fmt.Sprintf("read %.1f GB/s, FMA %.1f GFLOP/s%s on %d threads (kernels/probe, this run)%s", l.ReadGBps, l.FMAGFLOPS, int8, l.Threads, loops)
}

// printWindowBench prints a bidirectional family's figures: the whole-window forward and
// the fast-mode comparison.
func printWindowBench(out io.Writer, r *tools.BenchResult) {
	wf := r.Window
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "measurement\ttokens\treps\tmin ms\tmedian ms\ttok/s (median)\ttok/s (best)\t")
	fmt.Fprintf(w, "%s\t%d\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t\n", fmt.Sprintf("window forward (%d prompt + %d masks)", wf.PromptTokens, wf.GenTokens),
		wf.Tokens, wf.Reps, 1e3*wf.MinSec, 1e3*wf.MedianSec, wf.TokPerSec, wf.BestPerSec)
	w.Flush()
	fw := wf.BenchWork
	fmt.Fprintf(out, "window forward: %.1f MB weights, %.2f GFLOP, %.1f GB/s, %.1f GFLOP/s, roofline %.2f ms (%.1f %%)\n",
		float64(fw.WeightBytes)/1e6, float64(fw.FLOPs)/1e9, fw.GBps, fw.GFLOPS, 1e3*fw.RooflineSec, fw.RooflinePct)
	f := r.Fast
	if f == nil {
		return
	}
	fmt.Fprintf(out, "\nfast mode (approximate: Fast-dLLM prefix / dual KV cache): %s,\n%d tokens after a %d-token prompt; agreement = fraction of generated positions equal to exact's\n",
		f.Decoder, f.GenTokens, f.PromptTokens)
	w = tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "mode\treps\tmin ms\tmedian ms\ttok/s (median)\tforwards\ttokens/forward\tspeed-up\tagreement\t")
	for _, md := range f.Modes {
		fmt.Fprintf(w, "%s\t%d\t%.1f\t%.1f\t%.1f\t%d\t%.2f\t%.2f×\t%.1f %%\t\n", md.Mode, md.Reps, 1e3*md.MinSec, 1e3*md.MedianSec,
			md.TokPerSec, md.Forwards, md.TokensPerForward, md.Speedup, 100*md.Agreement)
	}
	w.Flush()
}

// printOpTimes prints, per kind of op, the time each forward's recorded run spent on it
// beside the op's roofline, then what the ops' spans leave of the run and the whole.
func printOpTimes(out io.Writer, names []string, works []tools.BenchWork) {
	fmt.Fprintf(out, "\nper op: ms in the recorded forward (the median of as many runs after the timed ones) / roofline ms\n")
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "op\t%s\t\n", strings.Join(names, "\t"))
	var kinds []string
	for _, fw := range works {
		for _, op := range fw.Ops {
			if !slices.Contains(kinds, op.Kind) {
				kinds = append(kinds, op.Kind)
			}
		}
	}
	for _, k := range kinds {
		fmt.Fprintf(w, "%s\t", k)
		for _, fw := range works {
			i := slices.IndexFunc(fw.Ops, func(op tools.BenchOpSummary) bool { return op.Kind == k })
			if i < 0 {
				fmt.Fprint(w, "–\t")
				continue
			}
			fmt.Fprintf(w, "%.2f / %.2f\t", 1e3*fw.Ops[i].MeasuredSec, 1e3*fw.Ops[i].RooflineSec)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprint(w, "other\t")
	for _, fw := range works {
		rest := fw.RecordedSec
		for _, op := range fw.Ops {
			rest -= op.MeasuredSec
		}
		fmt.Fprintf(w, "%.2f\t", 1e3*rest)
	}
	fmt.Fprint(w, "\nwhole forward\t")
	for _, fw := range works {
		fmt.Fprintf(w, "%.2f / %.2f\t", 1e3*fw.RecordedSec, 1e3*fw.RooflineSec)
	}
	fmt.Fprintln(w)
	w.Flush()
}
