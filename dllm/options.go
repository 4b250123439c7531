package dllm

import (
	"math"
	"strings"

	"github.com/dllm-go/dllm/dllm/internal/decode"
)

// Upper bounds that Validate enforces, so that no option value can make a request
// allocate or loop without limit. MaxTokens is bounded by the model's context, checked
// when a session runs the request.
const (
	// MaxBlockLength is the longest block one forward pass of a Session holds.
	MaxBlockLength = 512
	// MaxSteps bounds Steps and MaxPostSteps.
	MaxSteps = 1 << 16
)

// Defaults that a zero GenerateOptions field takes.
const (
	defaultMaxTokens     = 2048
	defaultBlockLength   = 32
	defaultSteps         = 32
	defaultThreshold     = 0.95
	defaultNumToTransfer = 1
	defaultTopP          = 1
	// recommendedPostSteps is what the presets give MaxPostSteps (llada2-spec.md §4).
	recommendedPostSteps = 16
)

// GenerateOptions controls one generation. On another family than LLaDA2, a zero field
// means that family's recommended setting ((*Model).DefaultOptions; sampling fields keep
// their meaning: Temperature 0 is greedy) and the comments below on defaults are
// LLaDA2's. On LLaDA2 the zero value is LLaDA2.0 threshold decoding with the
// recommended settings (block 32, steps 32, threshold 0.95, greedy,
// 2048 new tokens at most, ending at the end of the assistant's turn): each field's zero
// means the default its comment gives. QualityOptions and SpeedOptions are the LLaDA2.1
// draft-and-edit presets; change what you need from there.
type GenerateOptions struct {
	// MaxTokens is the generation length (the reference's gen_length): the canvas holds
	// the prompt followed by MaxTokens masks, rounded up to whole blocks. 0 means 2048.
	// The other families decode exactly MaxTokens positions (0: 128 LLaDA, LLaDA-MoE;
	// 512 Dream; 256 RND1).
	MaxTokens int
	// BlockLength is the number of positions decoded together (B). 0 means 32 (LLaDA,
	// LLaDA-MoE too; Dream and RND1 have no blocks; llama.cpp's loop: 0 is its timestep
	// schedule).
	BlockLength int
	// Steps caps the denoising iterations per block and sets the LLaDA2.0 fallback
	// schedule; 0 means 32. LLaDA2.1 editing ignores it. The other families: the steps
	// of the whole generation (LLaDA: a multiple of the number of blocks); 0 means
	// MaxTokens (llama.cpp's loop: 128).
	Steps int
	// Threshold is the confidence a masked position must strictly exceed to be filled;
	// 0 means 0.95. Confidences are float32 probabilities, so
	// math.SmallestNonzeroFloat64 is exactly "any confidence": every position is filled
	// at a block's first step. On LLaDA, LLaDA-MoE and Dream, 0 is their exact schedule
	// and a Threshold selects Fast-dLLM's confidence-threshold parallel decoding
	// (approximate; Dream: Algorithm "confidence_threshold", default 0.9).
	Threshold float64
	// Edit turns on LLaDA2.1 token editing: an already filled position is rewritten when
	// the model's choice differs with a confidence above EditThreshold. false (the zero
	// value) decodes as LLaDA2.0, without editing.
	Edit bool
	// EditThreshold is the confidence an edit must strictly exceed, in [0,1]; 0 means any
	// change is taken (the speed preset). Setting it without Edit is ErrInvalid.
	EditThreshold float64
	// MaxPostSteps bounds the editing iterations after a block has no mask left (with
	// Edit); 0 means none. The presets and DefaultOptions use 16, the recommended value.
	MaxPostSteps int
	// NumToTransfer is the minimum number of positions filled per LLaDA2.1 iteration;
	// 0 means 1.
	NumToTransfer int
	// Temperature 0 picks the most probable token; above 0 samples with TopK/TopP
	// (LLaDA: Gumbel noise; RND1: it also scales the entropies that order positions, so
	// TopK 1 is greedy at a given temperature).
	Temperature float64
	TopK        int     // 0 = no top-k filter
	TopP        float64 // nucleus filter in (0,1]; 0 means 1, no filter
	Seed        uint64  // RNG seed for sampling
	// EOSEarlyStop stops as soon as an end-of-text token is final and everything before
	// it is decoded, instead of at the end of its block.
	EOSEarlyStop bool
	// IgnoreRoleEnd keeps decoding past the end-of-turn token <|role_end|> and ends the
	// output at <|endoftext|> only, as the reference does. By default (false) either ends
	// it.
	IgnoreRoleEnd bool
	// NoCache recomputes the whole window every forward, as the reference does. Slower;
	// for verification.
	NoCache bool

	// The options below are those of the bidirectional families (LLaDA, LLaDA-MoE, Dream,
	// RND1; README "Run LLaDA, LLaDA-MoE, Dream and RND1"); setting one for a family
	// that does not use it, LLaDA2 included, is ErrInvalid naming it.

	// Algorithm is the decoding algorithm; "" means the family's recommended one.
	// LLaDA, LLaDA-MoE: "low_confidence" or "random" (remasking); Dream: "entropy",
	// "origin", "maskgit_plus", "topk_margin" or "confidence_threshold"; RND1: "entropy"
	// or "entropy_bounded". Every family also runs llama.cpp's diffusion-cli loop:
	// "llama.cpp:origin", "llama.cpp:entropy", "llama.cpp:margin", "llama.cpp:random",
	// "llama.cpp:confidence" ("llama.cpp" alone), with its block schedule when
	// BlockLength > 0 and its timestep schedule (Eps) otherwise. Algorithms lists them.
	Algorithm string
	// CFGScale > 0 adds classifier-free guidance (LLaDA, LLaDA-MoE): a second forward
	// with the prompt masked per step. 0 means none.
	CFGScale float64
	// Eps is the last timestep of Dream's and llama.cpp's timestep schedule, in (0,1);
	// 0 means 1e-3.
	Eps float64
	// AlgTemp > 0 draws the positions to reveal at random, weighted by confidence, at
	// this temperature (Dream's alg_temp: maskgit_plus, topk_margin, entropy); 0 takes
	// the most confident.
	AlgTemp float64
	// EBGamma is RND1's entropy-bounded sampler's budget (eb_gamma, ≥ 0); setting it
	// selects Algorithm "entropy_bounded".
	EBGamma float64
	// Cache turns on an approximate cache, for speed. The bidirectional families (LLaDA,
	// LLaDA-MoE, Dream) take Fast-dLLM's: "prefix" computes the keys and values of the
	// prompt and the finished blocks once per block, "dual" also those after the current
	// block, so a step runs only the current positions; steps run block by block
	// (BlockLength, 32 by default). LLaDA2, whose cache of finished blocks is exact and
	// always on, takes "block": inside the current block, a step after the block's first
	// runs only the positions still masked, those filled since the previous step and
	// their neighbours within 2 positions, the block's other positions keeping the keys
	// and values of an earlier step;
	// "block:N" also runs the whole block exactly at every N-th step of a block;
	// "window:W" (and "window:W:N", with that refresh) is "block" decoding only the
	// first W masked positions of the block at each step (at least the step's
	// scheduled count): only they get logits and run, the masked positions after them
	// keeping the keys and values of the block's last full step, so a step runs about
	// W + a few rows whatever the block length (README "Block cache for LLaDA2").
	// Fewer rows route to fewer experts, so a step reads less.
	// Cached values go stale as tokens change, so the output can differ from the exact
	// mode ("", the zero value); `dllm bench` measures the speed-up, `dllm eval` the
	// accuracy and how often the tokens agree. "block" decodes LLaDA2.0 only (Edit
	// needs the logits of every filled position: ErrInvalid). A value the loaded family
	// does not take is ErrInvalid (RND1 and the llama.cpp loop take none).
	Cache string

	// OnStep, if set, is called after every forward with what changed. Returning false
	// stops generation (Generate returns the partial result and ErrStopped).
	OnStep func(StepEvent) bool
	// OnText, if set, receives newly final text, left to right, never splitting a UTF-8
	// character. Returning false stops generation.
	OnText func(delta string) bool
}

// DefaultOptions returns LLaDA2's zero GenerateOptions with every default written out
// (the other families' are (*Model).DefaultOptions) (LLaDA2.0 decoding: block 32, steps 32, threshold 0.95, greedy, 2048 new tokens at
// most), MaxPostSteps at the recommended 16 for a caller who then turns on Edit. Use it
// to read or show the defaults.
func DefaultOptions() GenerateOptions {
	var o GenerateOptions
	o.MaxPostSteps = recommendedPostSteps
	return o.withDefaults()
}

// QualityOptions returns the LLaDA2.1 "quality" preset: threshold 0.7, edit threshold
// 0.5. EOSEarlyStop is on: LLaDA2.1 decoding otherwise runs on to MaxTokens after the
// end of text (as the reference does) only to cut the output there.
func QualityOptions() GenerateOptions {
	o := DefaultOptions()
	o.Threshold, o.Edit, o.EditThreshold, o.EOSEarlyStop = 0.7, true, 0.5, true
	return o
}

// SpeedOptions returns the LLaDA2.1 "speed" preset: threshold 0.5, edit threshold 0
// (edit whenever the model changes its mind), EOSEarlyStop on as in QualityOptions.
func SpeedOptions() GenerateOptions {
	o := DefaultOptions()
	o.Threshold, o.Edit, o.EditThreshold, o.EOSEarlyStop = 0.5, true, 0, true
	return o
}

// Presets names the presets PresetOptions knows, in the order to list them.
var Presets = []string{"default", "quality", "speed"}

// PresetOptions returns the options of a preset by name, for programs that let their
// users choose one (a flag, a request field): "default" (or "") is DefaultOptions,
// "quality" QualityOptions and "speed" SpeedOptions. Another name is ErrInvalid.
func PresetOptions(name string) (GenerateOptions, error) {
	switch name {
	case "", "default":
		return DefaultOptions(), nil
	case "quality":
		return QualityOptions(), nil
	case "speed":
		return SpeedOptions(), nil
	}
	return GenerateOptions{}, invalidf("dllm: preset must be default, quality or speed, got %q", name)
}

// withDefaults gives every zero field its default.
func (o GenerateOptions) withDefaults() GenerateOptions {
	set := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	set(&o.MaxTokens, defaultMaxTokens)
	set(&o.BlockLength, defaultBlockLength)
	set(&o.Steps, defaultSteps)
	set(&o.NumToTransfer, defaultNumToTransfer)
	if o.Threshold == 0 {
		o.Threshold = defaultThreshold
	}
	if o.TopP == 0 {
		o.TopP = defaultTopP
	}
	return o
}

// Validate reports the first option that is out of range; a zero field is valid (it
// takes its default).
func (o *GenerateOptions) Validate() error {
	if o == nil {
		return invalidf("dllm: nil GenerateOptions")
	}
	r := o.withDefaults()
	switch {
	case r.MaxTokens < 0:
		return invalidf("dllm: MaxTokens must not be negative, got %d", r.MaxTokens)
	case r.BlockLength < 0 || r.BlockLength > MaxBlockLength:
		return invalidf("dllm: BlockLength must be in [1,%d], got %d", MaxBlockLength, r.BlockLength)
	case r.Steps < 0 || r.Steps > MaxSteps:
		return invalidf("dllm: Steps must be in [1,%d], got %d", MaxSteps, r.Steps)
	case !(r.Threshold >= 0 && r.Threshold <= 1):
		return invalidf("dllm: Threshold must be in [0,1], got %g", r.Threshold)
	case !(r.EditThreshold >= 0 && r.EditThreshold <= 1):
		return invalidf("dllm: EditThreshold must be in [0,1], got %g", r.EditThreshold)
	case !r.Edit && r.EditThreshold != 0:
		return invalidf("dllm: EditThreshold %g without Edit (set Edit to turn on LLaDA2.1 editing)", r.EditThreshold)
	case r.MaxPostSteps < 0 || r.MaxPostSteps > MaxSteps:
		return invalidf("dllm: MaxPostSteps must be in [0,%d], got %d", MaxSteps, r.MaxPostSteps)
	case r.NumToTransfer < 0:
		return invalidf("dllm: NumToTransfer must not be negative, got %d", r.NumToTransfer)
	case !(r.Temperature >= 0) || math.IsInf(r.Temperature, 1):
		return invalidf("dllm: Temperature must be finite and not negative, got %g", r.Temperature)
	case r.TopK < 0:
		return invalidf("dllm: TopK must not be negative, got %d", r.TopK)
	case !(r.TopP > 0 && r.TopP <= 1):
		return invalidf("dllm: TopP must be in (0,1], got %g", r.TopP)
	case !knownAlgorithm(r.Algorithm):
		return invalidf("dllm: Algorithm must be one that Algorithms lists, got %q", r.Algorithm)
	case !finiteNonNeg(r.CFGScale):
		return invalidf("dllm: CFGScale must be finite and not negative, got %g", r.CFGScale)
	case !(r.Eps >= 0 && r.Eps < 1):
		return invalidf("dllm: Eps must be in (0,1), got %g", r.Eps)
	case !finiteNonNeg(r.AlgTemp):
		return invalidf("dllm: AlgTemp must be finite and not negative, got %g", r.AlgTemp)
	case !finiteNonNeg(r.EBGamma):
		return invalidf("dllm: EBGamma must be finite and not negative, got %g", r.EBGamma)
	}
	if _, _, err := parseCache(r.Cache); err != nil {
		return err
	}
	return nil
}

// parseCache reads GenerateOptions.Cache: block says LLaDA2's in-block cache, mode its
// settings.
func parseCache(c string) (block bool, mode decode.BlockCacheMode, err error) {
	if c == "" || c == "prefix" || c == "dual" {
		return false, mode, nil
	}
	if m, ok := decode.ParseBlockCache(c, MaxSteps); ok {
		return true, m, nil
	}
	if strings.HasPrefix(c, "block:") || strings.HasPrefix(c, "window:") {
		return false, mode, invalidf("dllm: Cache must be \"block:N\", \"window:W\" or \"window:W:N\" with N and W whole numbers in [1,%d], got %q", MaxSteps, c)
	}
	return false, mode, invalidf("dllm: Cache must be \"\" (exact), \"prefix\", \"dual\", \"block\", \"block:N\", \"window:W\" or \"window:W:N\", got %q", c)
}

func finiteNonNeg(x float64) bool { return x >= 0 && !math.IsInf(x, 1) }
