package tools

import (
	"context"
	"fmt"

	"github.com/dllm-go/dllm/dllm"
	"github.com/dllm-go/dllm/dllm/internal/arch"
	"github.com/dllm-go/dllm/dllm/internal/decode"
	"github.com/dllm-go/dllm/dllm/internal/modelview"
)

// BenchWindow is the whole-window forward of a bidirectional family: PromptTokens of
// chat prompt and GenTokens masks, every position seeing every other, logits for the
// GenTokens rows (BenchTiming.Tokens is the window length).
type BenchWindow struct {
	BenchForward
	PromptTokens int `json:"prompt_tokens"`
	GenTokens    int `json:"gen_tokens"`
}

// BenchFast compares one generation (the chat prompt, greedy, the family's decoder with
// Fast-dLLM's confidence-threshold parallel decoding) run exact and with the approximate
// prefix and dual caches (decode.CacheMode). Exact is, for LLaDA and LLaDA-MoE,
// Fast-dLLM's threshold generate without a cache; for Dream, its block-wise sampler with
// every forward over the whole canvas (decode.DreamOptions.BlockLength without Cache).
type BenchFast struct {
	// Decoder describes the decoding: the algorithm, its threshold and block length.
	Decoder      string `json:"decoder"`
	PromptTokens int    `json:"prompt_tokens"`
	GenTokens    int    `json:"gen_tokens"`
	// Modes are "exact" first, then "prefix" and "dual".
	Modes []BenchFastMode `json:"modes"`
}

// BenchFastMode is one mode of BenchFast: its timing (Tokens = the generated tokens),
// forwards and tokens per forward, speed-up (exact's median time ÷ this one's) and
// agreement with exact (Agreement over the generated positions).
type BenchFastMode struct {
	Mode string `json:"mode"` // "exact", "prefix", "dual"
	BenchTiming
	Forwards         int     `json:"forwards"`
	TokensPerForward float64 `json:"tokens_per_forward"`
	Speedup          float64 `json:"speedup"`
	Agreement        float64 `json:"agreement"`
}

// Agreement is the fraction of positions where a and b hold the same token, over the
// longer of the two (a missing position disagrees); 1 when both are empty.
func Agreement(a, b []int32) float64 {
	n := max(len(a), len(b))
	if n == 0 {
		return 1
	}
	same := 0
	for i := range min(len(a), len(b)) {
		if a[i] == b[i] {
			same++
		}
	}
	return float64(same) / float64(n)
}

// fastThreshold is the confidence threshold of the fast comparison (Fast-dLLM's default).
const fastThreshold = 0.9

// window measures a bidirectional family: the whole-window forward and, where the
// family's decoder has the cache modes, the fast comparison.
func (b *bencher) window(m *dllm.Model, v modelview.View, r *BenchResult) error {
	o := b.o
	b.describe(m.Info(), v, r)
	net, cfg := v.Net, v.Net.Config()
	prompt, err := m.Tokenizer().EncodeChat([]dllm.Message{{Role: "user", Content: o.Prompt}}, true)
	if err != nil {
		return err
	}
	B := o.BlockLength
	gen := max(B, (max(o.GenTokens, 1)+B-1)/B*B) // whole blocks after the prompt
	L := len(prompt) + gen
	if L > cfg.MaxPositionEmbeddings {
		return fmt.Errorf("dllm: bench window of %d tokens exceeds the context of %d", L, cfg.MaxPositionEmbeddings)
	}
	s, err := net.NewWindowState(L)
	if err != nil {
		return err
	}
	canvas := append(append([]int32(nil), prompt...), make([]int32, gen)...)
	rows := make([]int, gen)
	for i := range gen {
		canvas[len(prompt)+i] = b.mask
		rows[i] = len(prompt) + i
	}
	out := make([]float32, gen*cfg.VocabSize)
	fwd := func() error { return s.Window(canvas, rows, out) }
	b.logf("whole-window forward, %d tokens (%d prompt + %d masks)", L, len(prompt), gen)
	t, err := timeIt(b.ctx, o, L, fwd)
	if err != nil {
		return err
	}
	var w arch.Work
	recorded, err := recordRuns(b.ctx, s, &w, fwd, t.Reps)
	if err != nil {
		return err
	}
	r.Limits = b.limitsAgain(v.Threads)
	r.Window = &BenchWindow{BenchForward: BenchForward{BenchTiming: t, BenchWork: workFigures(&w, r.Limits, t.MedianSec)},
		PromptTokens: len(prompt), GenTokens: gen}
	r.Window.RecordedSec = recorded
	if o.GenTokens < 0 {
		return nil
	}
	run, desc := fastDecoder(cfg.Family, decode.NewWindow(s, cfg.VocabSize, L), prompt, gen, B, b.mask)
	if run == nil {
		return nil // RND1: no cache mode
	}
	f := &BenchFast{Decoder: desc, PromptTokens: len(prompt), GenTokens: gen}
	var exact []int32
	for _, c := range []decode.CacheMode{decode.CacheNone, decode.CachePrefix, decode.CacheDual} {
		name := c.String()
		if c == decode.CacheNone {
			name = "exact"
		}
		b.logf("generation, %s, %d tokens after a %d-token prompt", name, gen, len(prompt))
		var res decode.WindowResult
		t, err := timeIt(b.ctx, o, gen, func() error {
			var err error
			res, err = run(b.ctx, c)
			return err
		})
		if err != nil {
			return err
		}
		md := BenchFastMode{Mode: name, BenchTiming: t, Forwards: res.Stats.ModelCalls}
		if md.Forwards > 0 {
			md.TokensPerForward = float64(gen) / float64(md.Forwards)
		}
		got := res.Canvas[len(prompt):]
		if exact == nil {
			exact = got
		}
		md.Agreement = Agreement(got, exact)
		if t.MedianSec > 0 && len(f.Modes) > 0 {
			md.Speedup = f.Modes[0].MedianSec / t.MedianSec
		} else if t.MedianSec > 0 {
			md.Speedup = 1
		}
		f.Modes = append(f.Modes, md)
	}
	r.Fast = f
	return nil
}

// fastDecoder returns the generation of the fast comparison for a family, run in a
// cache mode, and its description; nil for a family without cache modes (RND1).
// Generation fills the whole canvas (no stop token), so every mode decodes the same
// positions.
func fastDecoder(family string, d *decode.WindowDecoder, prompt []int32, gen, block int, mask int32) (func(ctx context.Context, c decode.CacheMode) (decode.WindowResult, error), string) {
	switch family {
	case "llada", "llada-moe":
		return func(ctx context.Context, c decode.CacheMode) (decode.WindowResult, error) {
			o := decode.LLaDAOptions{Steps: gen, GenLength: gen, BlockLength: block, Threshold: fastThreshold, Cache: c}
			o.MaskID = mask
			return d.GenerateLLaDA(ctx, prompt, o)
		}, fmt.Sprintf("LLaDA generate (Fast-dLLM), greedy, threshold %g, block %d", fastThreshold, block)
	case "dream":
		return func(ctx context.Context, c decode.CacheMode) (decode.WindowResult, error) {
			o := decode.DreamOptions{Alg: decode.DreamConfidenceThreshold, Steps: gen, GenLength: gen, Eps: 1e-3,
				Threshold: fastThreshold, Cache: c, BlockLength: block}
			o.MaskID = mask
			return d.GenerateDream(ctx, prompt, o)
		}, fmt.Sprintf("Dream block sampler (Fast-dLLM), greedy, confidence_threshold %g, block %d", fastThreshold, block)
	}
	return nil, ""
}
