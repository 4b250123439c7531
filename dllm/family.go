package dllm

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"

	"github.com/dllm-go/dllm/dllm/internal/arch"
	"github.com/dllm-go/dllm/dllm/internal/decode"
)

// The values GenerateOptions.Algorithm takes, by family. "" is the family's
// recommended algorithm (the first of each list).
var (
	// lladaAlgorithms are ML-GSAI generate's remasking rules (LLaDA, LLaDA-MoE).
	lladaAlgorithms = []string{"low_confidence", "random"}
	// dreamAlgorithms are diffusion_generate's alg values (Dream).
	dreamAlgorithms = []string{"entropy", "origin", "maskgit_plus", "topk_margin", "confidence_threshold"}
	// rnd1Algorithms are RND1 diffusion_sample's samplers.
	rnd1Algorithms = []string{"entropy", "entropy_bounded"}
	// llamaCppAlgorithms are llama-diffusion-cli's --diffusion-algorithm 0…4, for every
	// bidirectional family; "llama.cpp" alone is its default, confidence.
	llamaCppAlgorithms = []string{"llama.cpp:origin", "llama.cpp:entropy", "llama.cpp:margin", "llama.cpp:random", "llama.cpp:confidence"}
)

// Algorithms lists the values GenerateOptions.Algorithm accepts for a family (an
// Architecture name of ModelInfo), the recommended one first; nil for LLaDA2, which
// takes none, and for an unknown name. Use it to offer the choices in a program.
func Algorithms(family string) []string {
	var own []string
	switch family {
	case "llada", "llada-moe":
		own = lladaAlgorithms
	case "dream":
		own = dreamAlgorithms
	case "rnd1":
		own = rnd1Algorithms
	default:
		return nil
	}
	return slices.Concat(own, []string{"llama.cpp"}, llamaCppAlgorithms)
}

// knownAlgorithm says whether name is an algorithm of some family, for Validate.
func knownAlgorithm(name string) bool {
	return name == "" || name == "llama.cpp" || slices.Contains(lladaAlgorithms, name) ||
		slices.Contains(dreamAlgorithms, name) || slices.Contains(rnd1Algorithms, name) ||
		slices.Contains(llamaCppAlgorithms, name)
}

// The families' recommended settings (their model cards and official READMEs); zero
// GenerateOptions fields take them, (*Model).DefaultOptions writes them out.
const (
	lladaMaxTokens   = 128 // LLaDA-8B-Instruct and LLaDA-MoE cards: gen_length 128, steps 128, block 32
	lladaBlockLength = 32
	dreamMaxTokens   = 512 // Dream-v0-Instruct-7B card: max_new_tokens 512, steps 512
	dreamEps         = 1e-3
	dreamThreshold   = 0.9 // Fast-dLLM's confidence_threshold default
	rnd1MaxTokens    = 256 // RND1's sampler: num_diffusion_steps 256, max_new_tokens 256
	llamaCppSteps    = 128 // llama.cpp's --diffusion-steps default
	llamaCppEps      = 1e-3
)

// DefaultOptions returns the recommended options of the loaded model's family, every
// field written out but Algorithm, left "" (the family's recommended algorithm, first in
// Algorithms, which Threshold or EBGamma may then switch): for LLaDA2 the package's DefaultOptions; for LLaDA and LLaDA-MoE
// 128 tokens in blocks of 32, 128 steps, low_confidence, greedy; for Dream 512 tokens
// in 512 steps, entropy, temperature 0.2, top-p 0.95 and top-k 50 (the model card's
// call, with the top-k Dream's code applies when none is given); for RND1 256 tokens in
// 256 steps, entropy, greedy at temperature 1 (TopK 1). A zero GenerateOptions takes the
// same structure (length, steps, block, algorithm) but keeps its zero sampling fields,
// which mean greedy, so DefaultOptions is the way to sample as the model card does.
func (m *Model) DefaultOptions() GenerateOptions {
	var o GenerateOptions
	switch m.info.Architecture {
	case "llada", "llada-moe":
		o = GenerateOptions{MaxTokens: lladaMaxTokens, Steps: lladaMaxTokens, BlockLength: lladaBlockLength, TopP: 1}
	case "dream":
		o = GenerateOptions{MaxTokens: dreamMaxTokens, Steps: dreamMaxTokens, Eps: dreamEps,
			Temperature: 0.2, TopP: 0.95, TopK: 50}
	case "rnd1":
		o = GenerateOptions{MaxTokens: rnd1MaxTokens, Steps: rnd1MaxTokens, Temperature: 1, TopK: 1, TopP: 1}
	default:
		return DefaultOptions()
	}
	return o
}

// familyTitle is the family as people write it, for messages.
func (m *Model) familyTitle() string {
	if f := arch.FamilyByName(m.info.Architecture); f != nil && f.Title != "" {
		return f.Title
	}
	return m.info.Architecture
}

// windowJob is one generation of a bidirectional family, ready to run.
type windowJob struct {
	genLength int
	run       func(ctx context.Context, d *decode.WindowDecoder, prompt []int32, c decode.WindowCommon) (decode.WindowResult, error)
	// logProb: the decoder's confidences are log-probabilities (RND1).
	logProb bool
}

// windowOptions maps o (validated, not defaulted) onto the family's decoder; an option
// the family does not use is ErrInvalid naming it.
func (m *Model) windowOptions(o *GenerateOptions) (windowJob, error) {
	fam := m.info.Architecture
	title := m.familyTitle()
	unused := func(names ...string) error {
		for _, n := range names {
			set := false
			switch n {
			case "BlockLength":
				set = o.BlockLength != 0
			case "Threshold":
				set = o.Threshold != 0
			case "CFGScale":
				set = o.CFGScale != 0
			case "Eps":
				set = o.Eps != 0
			case "AlgTemp":
				set = o.AlgTemp != 0
			case "EBGamma":
				set = o.EBGamma != 0
			case "Cache":
				set = o.Cache != ""
			case "TopK":
				set = o.TopK != 0
			case "TopP":
				set = o.TopP != 0 && o.TopP != 1
			}
			if set {
				alg := o.Algorithm
				if alg == "" {
					return invalidf("dllm: %s is not an option of %s decoding", n, title)
				}
				return invalidf("dllm: %s is not an option of %s decoding with Algorithm %q", n, title, alg)
			}
		}
		return nil
	}
	switch {
	case o.Edit || o.EditThreshold != 0:
		return windowJob{}, invalidf("dllm: Edit is LLaDA2.1 token editing, not an option of %s decoding", title)
	case o.MaxPostSteps != 0:
		return windowJob{}, invalidf("dllm: MaxPostSteps is LLaDA2.1 editing, not an option of %s decoding", title)
	case o.NumToTransfer != 0:
		return windowJob{}, invalidf("dllm: NumToTransfer is LLaDA2.1 decoding, not an option of %s decoding", title)
	}
	if o.Algorithm != "" && !slices.Contains(Algorithms(fam), o.Algorithm) {
		return windowJob{}, invalidf("dllm: Algorithm %q is not one of %s's: %s", o.Algorithm, title, strings.Join(Algorithms(fam), ", "))
	}
	or := func(v, d int) int {
		if v == 0 {
			return d
		}
		return v
	}
	var j windowJob
	if block, _, _ := parseCache(o.Cache); block {
		return j, invalidf("dllm: Cache %q is LLaDA2's in-block cache, not an option of %s decoding (it takes \"prefix\" or \"dual\")", o.Cache, title)
	}
	cache, err := decode.ParseCacheMode(o.Cache)
	if err != nil {
		return windowJob{}, invalidArg(err)
	}
	if o.Algorithm == "llama.cpp" || strings.HasPrefix(o.Algorithm, "llama.cpp:") {
		if err := unused("CFGScale", "AlgTemp", "EBGamma", "Threshold", "Cache"); err != nil {
			return j, err
		}
		alg := decode.LlamaCppConfidence
		if i := slices.Index(llamaCppAlgorithms, o.Algorithm); i >= 0 {
			alg = decode.LlamaCppAlg(i)
		}
		lo := decode.LlamaCppOptions{Alg: alg, Steps: or(o.Steps, llamaCppSteps), BlockLength: o.BlockLength,
			Temperature: o.Temperature, TopK: o.TopK, TopP: o.TopP}
		if o.BlockLength > 0 {
			if err := unused("Eps"); err != nil {
				return j, invalidf("dllm: Eps is the timestep schedule's, not an option of llama.cpp's block schedule (BlockLength %d)", o.BlockLength)
			}
			lo.Schedule = decode.LlamaCppBlock
		} else {
			lo.Eps = float32(llamaCppEps)
			if o.Eps != 0 {
				lo.Eps = float32(o.Eps)
			}
		}
		j.genLength = or(o.MaxTokens, m.familyMaxTokens())
		lo.GenLength = j.genLength
		j.run = func(ctx context.Context, d *decode.WindowDecoder, p []int32, c decode.WindowCommon) (decode.WindowResult, error) {
			lo.WindowCommon = c
			return d.GenerateLlamaCpp(ctx, p, lo)
		}
		return j, nil
	}
	switch fam {
	case "llada", "llada-moe":
		if err := unused("Eps", "AlgTemp", "EBGamma", "TopK", "TopP"); err != nil {
			return j, err
		}
		j.genLength = or(o.MaxTokens, lladaMaxTokens)
		lo := decode.LLaDAOptions{GenLength: j.genLength, Steps: or(o.Steps, j.genLength),
			BlockLength: or(o.BlockLength, min(lladaBlockLength, j.genLength)),
			Temperature: o.Temperature, CFGScale: o.CFGScale, Threshold: o.Threshold, Cache: cache}
		if o.Algorithm == "random" {
			lo.Remasking = decode.RandomRemasking
		}
		j.run = func(ctx context.Context, d *decode.WindowDecoder, p []int32, c decode.WindowCommon) (decode.WindowResult, error) {
			lo.WindowCommon = c
			return d.GenerateLLaDA(ctx, p, lo)
		}
	case "dream":
		if err := unused("CFGScale", "EBGamma"); err != nil {
			return j, err
		}
		if cache == decode.CacheNone {
			if err := unused("BlockLength"); err != nil {
				return j, invalidf("dllm: BlockLength is an option of Dream's cached decoding (Cache), not of its exact decoding")
			}
		}
		name := o.Algorithm
		switch {
		case name == "" && o.Threshold != 0:
			name = "confidence_threshold"
		case name == "":
			name = dreamAlgorithms[0]
		case name != "confidence_threshold" && o.Threshold != 0:
			return j, invalidf("dllm: Threshold is an option of Dream's confidence_threshold algorithm, not of %q", name)
		}
		alg, err := decode.ParseDreamAlg(name)
		if err != nil {
			return j, invalidArg(err)
		}
		j.genLength = or(o.MaxTokens, dreamMaxTokens)
		do := decode.DreamOptions{Alg: alg, GenLength: j.genLength, Steps: or(o.Steps, j.genLength), Eps: o.Eps,
			Temperature: o.Temperature, TopP: o.TopP, TopK: o.TopK, AlgTemp: o.AlgTemp, Threshold: o.Threshold, Cache: cache}
		if cache != decode.CacheNone {
			do.BlockLength = or(o.BlockLength, min(lladaBlockLength, j.genLength))
		}
		if do.Eps == 0 {
			do.Eps = dreamEps
		}
		if alg == decode.DreamConfidenceThreshold && do.Threshold == 0 {
			do.Threshold = dreamThreshold
		}
		j.run = func(ctx context.Context, d *decode.WindowDecoder, p []int32, c decode.WindowCommon) (decode.WindowResult, error) {
			do.WindowCommon = c
			return d.GenerateDream(ctx, p, do)
		}
	case "rnd1":
		if err := unused("BlockLength", "CFGScale", "Eps", "AlgTemp", "Threshold", "Cache"); err != nil {
			return j, err
		}
		if o.EBGamma != 0 && o.Algorithm == "entropy" {
			return j, invalidf("dllm: EBGamma is an option of RND1's entropy_bounded algorithm, not of \"entropy\"")
		}
		j.genLength = or(o.MaxTokens, rnd1MaxTokens)
		ro := decode.RND1Options{GenLength: j.genLength, Steps: or(o.Steps, j.genLength), Temperature: o.Temperature,
			Greedy: o.Temperature == 0 || o.TopK == 1, TopK: o.TopK, TopP: o.TopP,
			EntropyBounded: o.Algorithm == "entropy_bounded" || o.EBGamma != 0, EBGamma: o.EBGamma,
			EOSID: m.info.EOSID, PadID: m.pad}
		if ro.TopK == 1 {
			ro.TopK = 0 // top-1 is greedy decoding: the official greedy=True
		}
		j.logProb = true
		j.run = func(ctx context.Context, d *decode.WindowDecoder, p []int32, c decode.WindowCommon) (decode.WindowResult, error) {
			ro.WindowCommon = c
			return d.GenerateRND1(ctx, p, ro)
		}
	default:
		return j, invalidf("dllm: no window decoder for family %s", title)
	}
	return j, nil
}

// familyMaxTokens is the family's recommended generation length.
func (m *Model) familyMaxTokens() int {
	switch m.info.Architecture {
	case "dream":
		return dreamMaxTokens
	case "rnd1":
		return rnd1MaxTokens
	}
	return lladaMaxTokens
}

// windowOnlyField names a set GenerateOptions field that LLaDA2 does not use, or "".
func (o *GenerateOptions) windowOnlyField() string {
	switch {
	case o.Algorithm != "":
		return "Algorithm"
	case o.CFGScale != 0:
		return "CFGScale"
	case o.Eps != 0:
		return "Eps"
	case o.AlgTemp != 0:
		return "AlgTemp"
	case o.EBGamma != 0:
		return "EBGamma"
	case o.Cache != "":
		if block, _, _ := parseCache(o.Cache); !block {
			return "Cache"
		}
	}
	return ""
}

// generateWindow runs a bidirectional family's decoder: no KV cache, every step
// recomputes the window (prompt + generated positions), as the official code does.
func (s *Session) generateWindow(ctx context.Context, prompt []int32, opts GenerateOptions) (Result, error) {
	m := s.m
	job, err := m.windowOptions(&opts)
	if err != nil {
		return Result{}, err
	}
	n := len(prompt) + job.genLength
	if c := m.info.ContextLength; len(prompt) > c || job.genLength > c-len(prompt) {
		return Result{}, invalidf("dllm: prompt of %d tokens + %d generated exceeds the context of %d", len(prompt), job.genLength, c)
	}
	ctx, err = s.acquire(ctx)
	if err != nil {
		return Result{}, err
	}
	defer s.release()
	m.mu.RLock()
	defer m.mu.RUnlock()
	if err := m.usable(); err != nil {
		return Result{}, err
	}
	if s.st == nil || s.st.MaxRun() < n {
		st, err := m.net.NewWindowState(n)
		if err != nil {
			return Result{}, err
		}
		s.st = st
	}
	c := decode.WindowCommon{MaskID: m.info.MaskID, StopIDs: m.stopIDs(opts.IgnoreRoleEnd), EOSEarlyStop: opts.EOSEarlyStop, Seed: opts.Seed}
	if opts.OnStep != nil {
		onStep, logProb := opts.OnStep, job.logProb
		c.OnStep = func(ev decode.WindowStepEvent) bool { return onStep(windowStep(ev, logProb)) }
	}
	var flush func()
	c.OnCommit, flush = m.textStream(opts.OnText)
	res, err := job.run(ctx, decode.NewWindow(s.st, m.info.VocabSize, n), prompt, c)
	flush()
	if err != nil && res.Canvas == nil {
		if ctx.Err() != nil {
			return Result{StopReason: StopCancelled}, context.Cause(ctx)
		}
		if errors.Is(err, decode.ErrInvalid) {
			err = invalidArg(err)
		}
		return Result{}, err
	}
	return s.finish(ctx, m.result(prompt, res.Tokens, res.Reason, res.Stats), err)
}

// stopIDs are the tokens that end the output: the end of text and, unless ignored, the
// end of a turn (and RND1's pad, which fills its reserved last slot).
func (m *Model) stopIDs(ignoreRoleEnd bool) []int32 {
	ids := []int32{m.info.EOSID}
	add := func(t int32) {
		if t >= 0 && t != m.info.MaskID && !slices.Contains(ids, t) {
			ids = append(ids, t)
		}
	}
	if !ignoreRoleEnd {
		add(m.info.RoleEndID)
	}
	if m.info.Architecture == "rnd1" {
		add(m.pad)
	}
	return ids
}

// windowStep is the public form of a window decoder's step. Canvas is the whole
// generated region (Start = Prompt): these decoders may fill any of it at any step.
func windowStep(ev decode.WindowStepEvent, logProb bool) StepEvent {
	conf := func(c float32) float64 {
		if logProb {
			return math.Exp(float64(c))
		}
		return float64(c)
	}
	out := StepEvent{
		Block: ev.Block, Step: ev.Step, Window: ev.Prompt + len(ev.Canvas), Start: ev.Prompt, Prompt: ev.Prompt,
		Canvas: append([]int32(nil), ev.Canvas...), Masked: len(ev.Masked), Scheduled: max(ev.NumTransfer, 0),
		trace: ev.WindowStep,
	}
	for _, c := range ev.Committed {
		out.Committed = append(out.Committed, Commit{Pos: c.Pos, Token: c.Token, Confidence: conf(c.Conf)})
	}
	return out
}
