package dllm

import (
	"errors"
	"time"
)

// ErrStopped is returned, together with the partial Result, when an OnStep or OnText
// callback returned false. A cancelled context returns ctx.Err() instead.
var ErrStopped = errors.New("dllm: generation stopped by a callback")

// Message is one turn of a chat. Role is "system", "user", "assistant" or
// "observation" (a tool result).
type Message struct {
	Role    string
	Content string
}

// Commit is a position filled in one step.
type Commit struct {
	Pos        int     // absolute canvas position
	Token      int32   // token written
	Confidence float64 // probability of that token
}

// Edit is an already filled position rewritten in one step (LLaDA2.1 editing).
type Edit struct {
	Pos        int
	Old, New   int32
	Confidence float64
}

// StepEvent describes one forward pass of the denoising loop.
type StepEvent struct {
	Block  int     // block index (blocks are aligned to absolute position 0)
	Step   int     // iteration within the block
	Window int     // canvas positions the model saw (end of the current block)
	Start  int     // absolute position of Canvas[0]
	Canvas []int32 // the block's tokens after the step (the mask id where still masked)
	// Committed and Edited list what this step changed.
	Committed []Commit
	Edited    []Edit
	Masked    int // masked positions left in the block
}

// Stop reasons reported in Result.StopReason.
const (
	StopLength       = "gen_length"     // MaxTokens reached
	StopEOSBlock     = "eos_block"      // a finished block contained an end-of-text token
	StopEOSEarly     = "eos_early_stop" // EOSEarlyStop saw a final end-of-text token
	StopToken        = "stop_token"     // a finished block contained an end-of-turn token
	StopByCallback   = "stopped"        // a callback returned false
	StopCancellation = "cancelled"      // the context was cancelled
)

// Result is the outcome of a generation.
type Result struct {
	Tokens     []int32 // generated ids, cut after the first end-of-text token (inclusive)
	Text       string  // Tokens decoded, special tokens removed
	StopReason string
	Stats      Stats
}

// Stats measures a generation.
type Stats struct {
	PromptTokens     int
	Tokens           int // tokens in Result.Tokens
	Forwards         int // model forward passes, commit passes included
	TokensPerForward float64
	TimeToFirstToken time.Duration // until the first token became final
	Duration         time.Duration
	TokensPerSecond  float64
}
