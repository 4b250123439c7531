package tools

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/dllm-go/dllm/dllm"
	"github.com/dllm-go/dllm/dllm/internal/arch"
	"github.com/dllm-go/dllm/dllm/internal/invalid"
	"github.com/dllm-go/dllm/dllm/internal/modelview"
	"github.com/dllm-go/dllm/dllm/internal/weights"
	"github.com/dllm-go/dllm/kernels"
)

// BenchOptions controls Bench. Zero fields take the defaults in brackets.
type BenchOptions struct {
	Reps        int   // timed repetitions of each measurement [5]
	Warmup      int   // untimed runs before them [1]
	BlockLength int   // diffusion block, the block forward's length [32]
	Prefill     []int // prompt lengths to prefill [128, 512]
	// GenTokens is the generation length of the end-to-end run [32], rounded up so the
	// prompt and the generation end on a block boundary (the canvas is whole blocks
	// anyway; this way every decoded position counts in tokens/s); negative skips it.
	GenTokens int
	// Prompt is the user message of the end-to-end run (chat template applied).
	Prompt string
	// Log, if set, receives a line as each measurement starts (they can take minutes on
	// big models).
	Log func(string)
}

// BenchTiming summarises the repetitions of one measurement: seconds per run and the
// matching throughput in tokens per second (Best = from the fastest run).
type BenchTiming struct {
	Tokens     int     `json:"tokens"` // tokens processed per run
	Reps       int     `json:"reps"`
	MinSec     float64 `json:"min_s"`
	MedianSec  float64 `json:"median_s"`
	MaxSec     float64 `json:"max_s"`
	TokPerSec  float64 `json:"tok_per_s"`      // from the median
	BestPerSec float64 `json:"best_tok_per_s"` // from the minimum
}

// BenchDecode is the end-to-end generation measurement.
type BenchDecode struct {
	BenchTiming
	PromptTokens     int     `json:"prompt_tokens"`
	Forwards         int     `json:"forwards"`           // denoising forwards per run
	TokensPerForward float64 `json:"tokens_per_forward"` // generated tokens / forwards
}

// BenchResult is what Bench measured, with everything needed to compare runs: the model,
// the machine, the thread count and the kernel implementation.
type BenchResult struct {
	Model      string `json:"model"`
	Format     string `json:"format"`
	WeightType string `json:"weight_type"` // most common matrix type, e.g. "q8_0"
	FileBytes  int64  `json:"file_bytes"`
	Layers     int    `json:"layers"`
	Hidden     int    `json:"hidden"`
	Experts    int    `json:"experts"`
	Vocab      int    `json:"vocab"`

	CPU     string `json:"cpu"`
	Cores   int    `json:"cores"` // logical CPUs
	Threads int    `json:"threads"`
	Kernels string `json:"kernels"` // active kernel implementation ("avx2", "neon", "generic")
	Go      string `json:"go"`

	// BlockForward is one diffusion step: a BlockLength-token block against a committed
	// prefix of the same length, logits for every position of the block (all LM-head
	// rows), as the decoder runs it.
	BlockForward BenchTiming `json:"block_forward"`
	// BlockForward1Row is the same forward with the LM head on the last row only: what
	// llama-bench's pp32 measures (it computes logits for the last token of a batch).
	BlockForward1Row BenchTiming   `json:"block_forward_1row"`
	Prefill          []BenchTiming `json:"prefill"` // commit a prompt, no LM head
	Decode           *BenchDecode  `json:"decode,omitempty"`
}

// Bench measures the speed of a loaded model on its worker pool (dllm.LoadOptions.Threads):
// block forwards, prompt prefill and an end-to-end generation, each after warm-up runs
// (which also fault in the mapped weights) and repeated. Inputs are fixed, so results
// are comparable across runs and machines.
func Bench(ctx context.Context, m *dllm.Model, o BenchOptions) (*BenchResult, error) {
	if ctx == nil {
		return nil, invalid.Errorf("dllm: Bench with a nil context")
	}
	if m == nil {
		return nil, invalid.Errorf("dllm: Bench of a nil model")
	}
	if o.Reps <= 0 {
		o.Reps = 5
	}
	if o.Warmup < 0 {
		o.Warmup = 0
	} else if o.Warmup == 0 {
		o.Warmup = 1
	}
	if o.BlockLength <= 0 {
		o.BlockLength = 32
	}
	if o.Prefill == nil {
		o.Prefill = []int{128, 512}
	}
	if o.GenTokens == 0 {
		o.GenTokens = 32
	}
	if o.Prompt == "" {
		o.Prompt = "Write a short story about a robot who learns to paint."
	}
	logf := func(format string, args ...any) {
		if o.Log != nil {
			o.Log(fmt.Sprintf(format, args...))
		}
	}
	r := &BenchResult{}
	err := modelview.Use(m, func(v modelview.View) error { return benchForwards(ctx, m.Info(), v, o, logf, r) })
	if err != nil {
		return nil, err
	}
	// End to end: the chat prompt, default (LLaDA2.0 threshold) decoding, greedy, a new
	// session per run so no KV prefix is reused.
	if o.GenTokens > 0 {
		msgs := []dllm.Message{{Role: "user", Content: o.Prompt}}
		prompt, err := m.Tokenizer().EncodeChat(msgs, true)
		if err != nil {
			return nil, err
		}
		B := o.BlockLength
		gen := (len(prompt)+o.GenTokens+B-1)/B*B - len(prompt)
		logf("generation, %d tokens after a %d-token prompt", gen, len(prompt))
		opts := dllm.DefaultOptions()
		opts.MaxTokens, opts.BlockLength, opts.Steps = gen, B, B
		d := &BenchDecode{}
		var lastTokens int
		t, err := timeIt(ctx, o, 0, func() error {
			sess, err := m.NewSession()
			if err != nil {
				return err
			}
			defer sess.Close()
			res, err := sess.GenerateChat(ctx, msgs, opts)
			if err != nil {
				return err
			}
			d.PromptTokens, d.Forwards, lastTokens = res.Stats.PromptTokens, res.Stats.Forwards, res.Stats.Tokens
			return nil
		})
		if err != nil {
			return nil, err
		}
		t.Tokens = lastTokens
		t.TokPerSec, t.BestPerSec = float64(lastTokens)/t.MedianSec, float64(lastTokens)/t.MinSec
		d.BenchTiming = t
		if d.Forwards > 0 {
			d.TokensPerForward = float64(lastTokens) / float64(d.Forwards)
		}
		r.Decode = d
	}
	return r, nil
}

// benchForwards fills r with the model's description and the forward timings, under
// the model's internals v.
func benchForwards(ctx context.Context, info dllm.ModelInfo, v modelview.View, o BenchOptions, logf func(string, ...any), r *BenchResult) error {
	net := v.Net
	cfg := net.Config()
	*r = BenchResult{
		Model: info.Path, Format: info.Format, WeightType: weightType(v.Checkpoint), FileBytes: v.Checkpoint.TotalBytes(),
		Layers: cfg.NumLayers, Hidden: cfg.HiddenSize, Experts: cfg.NumExperts, Vocab: cfg.VocabSize,
		CPU: cpuModel(), Cores: runtime.NumCPU(), Threads: v.Threads, Kernels: activeKernels(),
		Go: runtime.Version(),
	}
	if st, err := os.Stat(info.Path); err == nil && st.Mode().IsRegular() {
		r.FileBytes = st.Size() // the whole GGUF, header included
	}
	B, V := o.BlockLength, cfg.VocabSize
	// Fixed pseudo-random token ids away from the top of the vocabulary (where the
	// special tokens sit).
	tokens := func(n, salt int) []int32 {
		t := make([]int32, n)
		for i := range t {
			t[i] = int32((i*997 + salt*131) % max(1, V-16))
		}
		return t
	}
	// Block forward: commit a B-token prefix once, then time uncommitted B-token runs.
	for _, all := range []bool{true, false} {
		logf("block forward, %d tokens, LM head on %s", B, map[bool]string{true: "all rows", false: "the last row"}[all])
		s, err := net.NewState(arch.StateOptions{Capacity: 2 * B, MaxRun: B})
		if err != nil {
			return err
		}
		if err := s.Forward(tokens(B, 1), B, true, nil, nil); err != nil {
			return err
		}
		rows := []int{B - 1}
		if all {
			rows = make([]int, B)
			for i := range rows {
				rows[i] = i
			}
		}
		out := make([]float32, len(rows)*V)
		blk := tokens(B, 2)
		t, err := timeIt(ctx, o, B, func() error { return s.Forward(blk, B, false, rows, out) })
		if err != nil {
			return err
		}
		if all {
			r.BlockForward = t
		} else {
			r.BlockForward1Row = t
		}
	}

	// Prefill: commit n prompt tokens into an empty cache, as the decoder does before
	// the first decoded block (block-causal, no logits).
	for _, n := range o.Prefill {
		if n <= 0 || n > cfg.MaxPositionEmbeddings {
			continue
		}
		logf("prefill, %d tokens", n)
		s, err := net.NewState(arch.StateOptions{Capacity: n, MaxRun: min(n, 512)})
		if err != nil {
			return err
		}
		prompt := tokens(n, 3)
		t, err := timeIt(ctx, o, n, func() error {
			if err := s.Truncate(0); err != nil {
				return err
			}
			return s.Forward(prompt, B, true, nil, nil)
		})
		if err != nil {
			return err
		}
		r.Prefill = append(r.Prefill, t)
	}

	return nil
}

// timeIt runs fn o.Warmup times untimed, then o.Reps times timed.
func timeIt(ctx context.Context, o BenchOptions, tokens int, fn func() error) (BenchTiming, error) {
	for i := 0; i < o.Warmup; i++ {
		if err := ctx.Err(); err != nil {
			return BenchTiming{}, err
		}
		if err := fn(); err != nil {
			return BenchTiming{}, err
		}
	}
	secs := make([]float64, 0, o.Reps)
	for i := 0; i < o.Reps; i++ {
		if err := ctx.Err(); err != nil {
			return BenchTiming{}, err
		}
		// A clock coarser than one run reads 0 (Windows' advances every 0.5–15.6 ms), so
		// run again until it moves and take the mean: no rate may come out infinite.
		t0, runs := time.Now(), 0
		var d time.Duration
		for d <= 0 {
			if err := fn(); err != nil {
				return BenchTiming{}, err
			}
			runs++
			d = time.Since(t0)
		}
		secs = append(secs, d.Seconds()/float64(runs))
	}
	slices.Sort(secs)
	med := secs[len(secs)/2]
	if len(secs)%2 == 0 {
		med = (secs[len(secs)/2-1] + secs[len(secs)/2]) / 2
	}
	t := BenchTiming{Tokens: tokens, Reps: len(secs), MinSec: secs[0], MedianSec: med, MaxSec: secs[len(secs)-1]}
	if tokens > 0 {
		t.TokPerSec, t.BestPerSec = float64(tokens)/med, float64(tokens)/secs[0]
	}
	return t, nil
}

// weightType returns the most common type among the checkpoint's matrices.
func weightType(ck *weights.Checkpoint) string {
	count := map[string]int64{}
	for _, t := range ck.Tensors {
		if len(t.Shape) >= 2 {
			count[t.DType.String()] += int64(len(t.Data))
		}
	}
	best, n := "", int64(-1)
	for k, v := range count {
		if v > n || v == n && k < best {
			best, n = k, v
		}
	}
	return best
}

// cpuModel reads the CPU's marketing name from /proc/cpuinfo (Linux); elsewhere, or if
// absent, the architecture.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), ":")
			k = strings.TrimSpace(k)
			if ok && (k == "model name" || k == "Model" || k == "Hardware") {
				return strings.TrimSpace(v)
			}
		}
	}
	return runtime.GOOS + "/" + runtime.GOARCH
}

// activeKernels names the best enabled kernel implementation (the one whose kernels
// run, "generic" filling in what it lacks).
func activeKernels() string {
	for _, im := range kernels.Implementations() {
		if im.Available && im.Enabled {
			return im.Name
		}
	}
	return "generic"
}
