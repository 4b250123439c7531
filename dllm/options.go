package dllm

import (
	"math"
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

// GenerateOptions controls one generation. Start from DefaultOptions (LLaDA2.0 threshold
// decoding), QualityOptions or SpeedOptions (LLaDA2.1 draft-and-edit presets) and change
// what you need; the zero value is not valid.
type GenerateOptions struct {
	// MaxTokens is the generation length (the reference's gen_length): the canvas holds
	// the prompt followed by MaxTokens masks, rounded up to whole blocks.
	MaxTokens int
	// BlockLength is the number of positions decoded together (B).
	BlockLength int
	// Steps caps the denoising iterations per block and sets the LLaDA2.0 fallback
	// schedule. LLaDA2.1 editing ignores it.
	Steps int
	// Threshold is the confidence a masked position must strictly exceed to be filled.
	Threshold float64
	// EditThreshold enables LLaDA2.1 token editing when ≥ 0: an already filled position
	// is rewritten when the model's choice differs and its confidence exceeds this value
	// (0 means any change). Negative disables editing (LLaDA2.0 decoding).
	EditThreshold float64
	// MaxPostSteps bounds the editing iterations after a block has no mask left (2.1).
	MaxPostSteps int
	// NumToTransfer is the minimum number of positions filled per LLaDA2.1 iteration.
	NumToTransfer int
	// Temperature 0 picks the most probable token; above 0 samples with TopK/TopP.
	Temperature float64
	TopK        int     // 0 = no top-k filter
	TopP        float64 // 1 = no nucleus filter
	Seed        uint64  // RNG seed for sampling
	// EOSEarlyStop stops as soon as an end-of-text token is final and everything before
	// it is decoded, instead of at the end of its block.
	EOSEarlyStop bool
	// StopOnRoleEnd also ends the output at the end-of-turn token <|role_end|>, not only
	// at <|endoftext|> (the reference stops on the latter alone).
	StopOnRoleEnd bool
	// NoCache recomputes the whole window every forward, as the reference does. Slower;
	// for verification.
	NoCache bool

	// OnStep, if set, is called after every forward with what changed. Returning false
	// stops generation (Generate returns the partial result and ErrStopped).
	OnStep func(StepEvent) bool
	// OnText, if set, receives newly final text, left to right, never splitting a UTF-8
	// character. Returning false stops generation.
	OnText func(delta string) bool
}

// DefaultOptions returns the LLaDA2.0 recommended settings: block 32, steps 32,
// threshold 0.95, greedy, 2048 new tokens at most.
func DefaultOptions() GenerateOptions {
	return GenerateOptions{
		MaxTokens:     2048,
		BlockLength:   32,
		Steps:         32,
		Threshold:     0.95,
		EditThreshold: -1,
		MaxPostSteps:  16,
		NumToTransfer: 1,
		TopP:          1,
		StopOnRoleEnd: true,
	}
}

// QualityOptions returns the LLaDA2.1 "quality" preset: threshold 0.7, edit threshold
// 0.5. EOSEarlyStop is on: LLaDA2.1 decoding otherwise runs on to MaxTokens after the
// end of text (as the reference does) only to cut the output there.
func QualityOptions() GenerateOptions {
	o := DefaultOptions()
	o.Threshold, o.EditThreshold, o.EOSEarlyStop = 0.7, 0.5, true
	return o
}

// SpeedOptions returns the LLaDA2.1 "speed" preset: threshold 0.5, edit threshold 0
// (edit whenever the model changes its mind), EOSEarlyStop on as in QualityOptions.
func SpeedOptions() GenerateOptions {
	o := DefaultOptions()
	o.Threshold, o.EditThreshold, o.EOSEarlyStop = 0.5, 0, true
	return o
}

// Validate reports the first option that is out of range.
func (o *GenerateOptions) Validate() error {
	switch {
	case o.MaxTokens <= 0:
		return invalidf("dllm: MaxTokens must be positive, got %d", o.MaxTokens)
	case o.BlockLength <= 0 || o.BlockLength > MaxBlockLength:
		return invalidf("dllm: BlockLength must be in [1,%d], got %d", MaxBlockLength, o.BlockLength)
	case o.Steps <= 0 || o.Steps > MaxSteps:
		return invalidf("dllm: Steps must be in [1,%d], got %d", MaxSteps, o.Steps)
	case !(o.Threshold >= 0 && o.Threshold <= 1):
		return invalidf("dllm: Threshold must be in [0,1], got %g", o.Threshold)
	case o.EditThreshold > 1 || o.EditThreshold != o.EditThreshold:
		return invalidf("dllm: EditThreshold must be in [0,1] (or negative to disable editing), got %g", o.EditThreshold)
	case o.MaxPostSteps < 0 || o.MaxPostSteps > MaxSteps:
		return invalidf("dllm: MaxPostSteps must be in [0,%d], got %d", MaxSteps, o.MaxPostSteps)
	case o.NumToTransfer <= 0:
		return invalidf("dllm: NumToTransfer must be positive, got %d", o.NumToTransfer)
	case !(o.Temperature >= 0) || math.IsInf(o.Temperature, 1):
		return invalidf("dllm: Temperature must be finite and not negative, got %g", o.Temperature)
	case o.TopK < 0:
		return invalidf("dllm: TopK must not be negative, got %d", o.TopK)
	case !(o.TopP > 0 && o.TopP <= 1):
		return invalidf("dllm: TopP must be in (0,1], got %g", o.TopP)
	}
	return nil
}
