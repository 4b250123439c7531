package dllm

import (
	"encoding/json"
	"time"

	"github.com/dllm-go/dllm/dllm/internal/decode"
	"github.com/dllm-go/dllm/dllm/tokenizer"
)

// Message is one turn of a chat: Role is "system", "user", "assistant", or "tool"
// (alias "observation") for a tool result. It is the tokenizer's type, whose chat
// template renders it.
type Message = tokenizer.Message

// Commit is a position filled in one step.
type Commit struct {
	Pos   int   // absolute canvas position
	Token int32 // token written
	// Confidence is the probability of that token (LLaDA2, LLaDA low_confidence, Dream
	// maskgit_plus and confidence_threshold, RND1, llama.cpp:confidence); for the other
	// family algorithms it is the score they rank positions by (Dream entropy: −entropy,
	// topk_margin: the top-two gap; random remasking: the uniform draw).
	Confidence float64
}

// Edit is an already filled position rewritten in one step (LLaDA2.1 editing).
type Edit struct {
	Pos        int
	Old, New   int32
	Confidence float64
}

// StepEvent describes one forward pass of the denoising loop. For the bidirectional
// families (LLaDA, LLaDA-MoE, Dream, RND1) Canvas is the whole generated region
// (Start = Prompt, Window = prompt + MaxTokens): their algorithms may fill any of it at
// any step; Block is LLaDA's block (0 otherwise), Scheduled the positions the step's
// schedule asked for (0 where a threshold or chance decides) and Above, Fallback and
// PostStep are 0.
type StepEvent struct {
	Block  int     // block index (blocks are aligned to absolute position 0)
	Step   int     // iteration within the block
	Window int     // canvas positions the model saw (end of the current block)
	Start  int     // absolute position of Canvas[0]
	Prompt int     // prompt length: positions before it are prompt, not output
	Canvas []int32 // the block's tokens after the step (the mask id where still masked)
	// Committed and Edited list what this step changed.
	Committed []Commit
	Edited    []Edit
	// The decision record of this step, as in the reference traces.
	Masked    int  // masked positions in the block before the step
	Above     int  // how many of them exceeded the threshold
	Scheduled int  // LLaDA2.0: positions the schedule asked for in this step
	Fallback  bool // the most confident positions were taken because too few cleared the threshold
	PostStep  int  // LLaDA2.1: iterations run after the block had no mask left

	trace any // the decoder's record (decode.TraceStep or decode.WindowStep), for TraceJSON
}

// TraceJSON is the step as one entry of the reference goldens' trace, the form
// `dllm generate --json` prints: LLaDA2.0 steps carry "scheduled", LLaDA2.1 steps
// "post_step" and "edited", confidences as float32; the other families' steps are
// entries of their goldens' traces (testdata/families/*/README.md).
func (ev StepEvent) TraceJSON() ([]byte, error) { return json.Marshal(ev.trace) }

// StopReason says why a generation ended. It is a string (JSON and %v print the
// name); the C ABI numbers the same reasons as enum dllm_stop_reason.
type StopReason = decode.StopReason

// The stop reasons reported in Result.StopReason.
const (
	StopLength    = decode.StopLength    // "gen_length": MaxTokens reached
	StopEOSBlock  = decode.StopEOSBlock  // "eos_block": a finished block contained an end-of-text token
	StopEOSEarly  = decode.StopEOSEarly  // "eos_early_stop": EOSEarlyStop saw a final end-of-text token
	StopToken     = decode.StopToken     // "stop_token": a finished block contained an end-of-turn token
	StopCallback  = decode.StopCallback  // "stopped": a callback returned false
	StopCancelled = decode.StopCancelled // "cancelled": the context was cancelled
)

// Result is the outcome of a generation.
type Result struct {
	Tokens     []int32 // generated ids, cut after the first end-of-text token (inclusive)
	Text       string  // Tokens decoded, special tokens removed
	StopReason StopReason
	Stats      Stats
}

// Stats measures a generation.
type Stats struct {
	PromptTokens int
	// CachedTokens is how many prompt tokens reused the K/V that the session's earlier
	// generations left in its cache (whole blocks of the common prefix), instead of
	// being computed again. Always 0 for the bidirectional families, which keep no cache.
	CachedTokens     int
	Tokens           int           // tokens in Result.Tokens
	Forwards         int           // denoising forward passes (the reference's count)
	ModelCalls       int           // every forward: denoising, prompt prefill and KV-cache commits
	TokensPerForward float64       // positions filled per denoising forward
	TimeToFirstToken time.Duration // until the first token became final
	Duration         time.Duration
	TokensPerSecond  float64
	// RowsPerForward is the positions a LLaDA2 denoising forward ran, on average: the
	// block length in exact decoding, fewer with Cache "block", whose steps run only the
	// masked and just-filled positions (a step's cost grows with its rows: more rows
	// route to more experts). 0 for the bidirectional families.
	RowsPerForward float64
}
