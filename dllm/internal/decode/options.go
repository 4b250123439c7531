package decode

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/dllm-go/dllm/dllm/internal/sample"
)

// Variant selects the decoding policy of one model generation.
type Variant uint8

const (
	// V20 is LLaDA2.0 threshold decoding: masked positions above the threshold are
	// committed, with a fixed per-step minimum (the transfer schedule); committed tokens
	// are final (llada2-spec.md §3.4).
	V20 Variant = iota
	// V21 is LLaDA2.1 joint-threshold decoding: mask→token commits plus token→token edits
	// inside the current block until it converges (llada2-spec.md §4.3).
	V21
)

func (v Variant) String() string {
	switch v {
	case V20:
		return "2.0"
	case V21:
		return "2.1"
	}
	return fmt.Sprintf("Variant(%d)", uint8(v))
}

// Options parameterise one generation. Every field is explicit: the special token ids come
// from the tokenizer, the rest from the caller or one of the presets (V20Defaults,
// V21Quality, V21Speed).
type Options struct {
	Variant Variant

	// BlockLength is B, the diffusion block; blocks are aligned to absolute position 0.
	BlockLength int
	// GenLength is the maximum number of generated tokens.
	GenLength int
	// Threshold is τ: a masked position is committed when its confidence is strictly
	// greater. In [0, 1].
	Threshold float64

	// Steps (2.0) caps the denoising steps per block and sets the transfer schedule;
	// it is first clamped to GenLength/MinimalTopK, as in the reference.
	Steps int
	// MinimalTopK (2.0) is the reference's minimal_topk (>= 1; 1 in every preset).
	MinimalTopK int

	// EditThreshold (2.1) is τ_edit: an unmasked generated position of the current block
	// is rewritten when the argmax differs and its confidence is strictly greater. In
	// [0, 1]; 0 means "whenever the argmax differs" (the official Speed mode).
	EditThreshold float64
	// MaxPostSteps (2.1) bounds the forwards spent editing a block after it has no mask.
	MaxPostSteps int
	// NumToTransfer (2.1) is the minimum number of masks committed per step when too few
	// clear the threshold (>= 1, or a block could never finish).
	NumToTransfer int

	// EOSEarlyStop stops before the end of the block/canvas as soon as the output is
	// complete up to a stop token: mid-block for 2.0, between blocks for 2.1.
	EOSEarlyStop bool

	// Sampling is the per-position rule; sample.Greedy reproduces the goldens.
	Sampling sample.Params
	// Seed names the random stream used when Sampling.Temperature > 0.
	Seed uint64

	// MaskID is the diffusion mask token, EOSID the reference's eos_id.
	MaskID, EOSID int32
	// StopIDs are the tokens that end the output wherever the reference checks eos_id
	// (typically <|endoftext|> and <|role_end|>). Empty means {EOSID}.
	StopIDs []int32

	// NoCache recomputes the whole window x[0:(b+1)B] every step from an empty state,
	// exactly like the reference generate(). For tests: it is O(window) per forward.
	NoCache bool
	// BlockCache turns on the approximate in-block cache (LLaDA2.0 decoding only; the
	// Model must be a PartialModel). A block's first step, and every Refresh-th step
	// after it, is the exact forward of the whole block; the steps between run only the
	// rows that are still masked (they need logits) and those whose token changed since
	// their keys and values were last computed (just filled) and their neighbours within
	// Vicinity, against the exact cache of
	// the finished blocks plus the keys and values the block's other positions kept from
	// an earlier step of the block. Those are stale once the block changed around them,
	// so the output can differ from the exact mode's. Fewer rows route to fewer experts,
	// which is what a step costs on a mixture of experts. The block's commit forward
	// stays exact, so every later block sees an exact cache.
	BlockCache bool
	// Refresh (with BlockCache) makes step s of a block (s counted from 0) a full forward
	// when s is a multiple of Refresh; 0 means only the block's first step.
	Refresh int
	// Vicinity (with BlockCache) also runs, at a partial step, the positions within
	// Vicinity of one filled since its K/V were computed (dInfer's vicinity refresh).
	Vicinity int
	// Window (with BlockCache), when > 0, makes only the first Window masked positions
	// of the block (at least a step's scheduled count) candidates at each step: only they
	// get logits, and a partial step runs no masked row after them (but those within
	// Vicinity of a fill), the others keeping the keys and values of the block's last
	// full forward. Decoding then moves left to right through the block in a sliding
	// window, and a step's rows, and so its experts and LM-head rows, stay few.
	Window int
	// ReusePrefix says that the model state already holds the K/V of the first
	// ReusePrefix prompt tokens, computed with the same BlockLength (an earlier turn of the
	// same conversation). Whole blocks of that prefix are kept instead of prefilled again.
	ReusePrefix int

	// OnStep is called after every decoding forward with what changed; false stops
	// generation (ErrStopped). It runs on the caller's goroutine; slices in the event are
	// only valid during the call.
	OnStep func(StepEvent) bool
	// OnCommit is called when output tokens become final, always as the next contiguous
	// piece of the output; false stops generation (ErrStopped).
	OnCommit func(CommitEvent) bool
}

// BlockCacheVicinity is the Vicinity that Cache "block" of package dllm uses: measured
// on the tiny-chat eval (README "Fast mode"), 2 keeps every task within one point of
// the exact mode where 0 loses up to five.
const BlockCacheVicinity = 2

// BlockCacheMode is a parsed block-cache name: the Options fields it sets.
type BlockCacheMode struct {
	Refresh int // Options.Refresh
	Window  int // Options.Window (0: every masked position)
}

// Apply turns on the block cache in o, with Vicinity BlockCacheVicinity.
func (m BlockCacheMode) Apply(o *Options) {
	o.BlockCache, o.Refresh, o.Window, o.Vicinity = true, m.Refresh, m.Window, BlockCacheVicinity
}

// ParseBlockCache reads the block cache's names: "block" (refresh 0: a full forward at a
// block's first step only), "block:N" (a full forward every N steps), "window:W" (the
// block cache decoding the first W masked positions of the block at each step) and
// "window:W:N" (that, with a full forward every N steps); N and W whole numbers in
// [1, max]. ok is false for any other string, a malformed number included.
func ParseBlockCache(s string, max int) (m BlockCacheMode, ok bool) {
	num := func(t string) (int, bool) {
		n, err := strconv.Atoi(t)
		return n, err == nil && n >= 1 && n <= max && strconv.Itoa(n) == t
	}
	if s == "block" {
		return m, true
	}
	if rest, found := strings.CutPrefix(s, "block:"); found {
		m.Refresh, ok = num(rest)
		return m, ok
	}
	rest, found := strings.CutPrefix(s, "window:")
	if !found {
		return m, false
	}
	w, refresh, two := strings.Cut(rest, ":")
	if m.Window, ok = num(w); !ok {
		return m, false
	}
	if two {
		m.Refresh, ok = num(refresh)
	}
	return m, ok
}

// V20Defaults are the LLaDA2.0 reference settings (block 32, steps 32, τ 0.95, T 0).
func V20Defaults(genLength int, maskID, eosID int32) Options {
	return Options{
		Variant: V20, BlockLength: 32, GenLength: genLength, Threshold: 0.95,
		Steps: 32, MinimalTopK: 1, EditThreshold: 0, MaxPostSteps: 16, NumToTransfer: 1,
		Sampling: sample.Greedy, MaskID: maskID, EOSID: eosID,
	}
}

// V21Quality is the LLaDA2.1 "Q mode" of the model card (τ 0.7, τ_edit 0.5).
func V21Quality(genLength int, maskID, eosID int32) Options {
	o := V20Defaults(genLength, maskID, eosID)
	o.Variant, o.Threshold, o.EditThreshold = V21, 0.7, 0.5
	return o
}

// V21Speed is the LLaDA2.1 "S mode" of the model card (τ 0.5, τ_edit 0).
func V21Speed(genLength int, maskID, eosID int32) Options {
	o := V20Defaults(genLength, maskID, eosID)
	o.Variant, o.Threshold, o.EditThreshold = V21, 0.5, 0
	return o
}

// ErrInvalid is wrapped by every validation error, so callers can tell a bad request
// from a failed forward.
var ErrInvalid = errors.New("decode: invalid request")

// ErrStopped is returned (with the partial Result) when OnStep or OnCommit asked to stop.
var ErrStopped = errors.New("decode: stopped by callback")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

func badUnit(x float64) bool { return math.IsNaN(x) || x < 0 || x > 1 }

// validate checks a request against the model's vocabulary, context capacity and the
// longest run one forward takes (maxBlock).
func (o *Options) validate(prompt []int32, vocab, capacity, maxBlock int) error {
	switch {
	case o.Variant != V20 && o.Variant != V21:
		return invalid("unknown variant %v", o.Variant)
	case len(prompt) == 0:
		return invalid("empty prompt")
	case o.GenLength <= 0:
		return invalid("generation length %d must be > 0", o.GenLength)
	case o.BlockLength <= 0:
		return invalid("block length %d must be > 0", o.BlockLength)
	case badUnit(o.Threshold):
		return invalid("threshold %v outside [0, 1]", o.Threshold)
	}
	switch o.Variant {
	case V20:
		if o.Steps <= 0 {
			return invalid("steps %d must be > 0", o.Steps)
		}
		if o.MinimalTopK <= 0 {
			return invalid("minimal_topk %d must be > 0", o.MinimalTopK)
		}
		if o.GenLength/o.MinimalTopK == 0 {
			return invalid("generation length %d / minimal_topk %d leaves no step", o.GenLength, o.MinimalTopK)
		}
	case V21:
		if o.BlockCache {
			return invalid("the block cache decodes LLaDA2.0 only: LLaDA2.1 editing needs the logits of every filled position")
		}
		if badUnit(o.EditThreshold) {
			return invalid("edit threshold %v outside [0, 1]", o.EditThreshold)
		}
		if o.MaxPostSteps < 0 {
			return invalid("max post steps %d must be >= 0", o.MaxPostSteps)
		}
		if o.NumToTransfer <= 0 {
			return invalid("num_to_transfer %d must be > 0", o.NumToTransfer)
		}
	}
	if o.BlockCache && o.NoCache {
		return invalid("the block cache and NoCache (the reference recompute) exclude each other")
	}
	if o.Refresh < 0 || o.Vicinity < 0 || o.Window < 0 {
		return invalid("refresh %d, vicinity %d and window %d must be >= 0", o.Refresh, o.Vicinity, o.Window)
	}
	if o.Window > 0 && !o.BlockCache {
		return invalid("a decoding window needs the block cache")
	}
	if err := o.Sampling.Validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	inVocab := func(t int32) bool { return t >= 0 && int(t) < vocab }
	if !inVocab(o.MaskID) {
		return invalid("mask id %d outside the vocabulary [0, %d)", o.MaskID, vocab)
	}
	if !inVocab(o.EOSID) {
		return invalid("eos id %d outside the vocabulary [0, %d)", o.EOSID, vocab)
	}
	if o.EOSID == o.MaskID {
		return invalid("eos id and mask id are both %d", o.MaskID)
	}
	for _, t := range o.StopIDs {
		if !inVocab(t) {
			return invalid("stop id %d outside the vocabulary [0, %d)", t, vocab)
		}
		if t == o.MaskID {
			return invalid("stop id %d is the mask token", t)
		}
	}
	for i, t := range prompt {
		if !inVocab(t) {
			return invalid("prompt token %d at position %d outside the vocabulary [0, %d)", t, i, vocab)
		}
		// The reference would fill a mask in the prompt's last block and drop the result
		// (the output starts after the prompt) while leaving masks in earlier blocks
		// as they are: no coherent meaning, so it is refused (llada2-spec.md §3.2).
		if t == o.MaskID {
			return invalid("prompt token at position %d is the mask token %d (masks in a prompt are not supported)", i, t)
		}
	}
	if o.ReusePrefix < 0 || o.ReusePrefix > len(prompt) {
		return invalid("reuse prefix %d outside [0, %d]", o.ReusePrefix, len(prompt))
	}
	// Each term alone is bounded by the capacity first, so that the sum below cannot
	// overflow whatever sizes the caller passed.
	switch {
	case o.BlockLength > maxBlock:
		return invalid("block length %d exceeds %d, the most positions one forward can hold", o.BlockLength, maxBlock)
	case o.GenLength > capacity:
		return invalid("generation length %d exceeds the context of %d", o.GenLength, capacity)
	case len(prompt) > capacity:
		return invalid("prompt of %d tokens exceeds the context of %d", len(prompt), capacity)
	}
	// The canvas is the prompt plus GenLength, rounded up to whole blocks.
	lp, b := int64(len(prompt)), int64(o.BlockLength)
	total := (lp + int64(o.GenLength) + b - 1) / b * b
	if total > int64(capacity) {
		return invalid("prompt of %d tokens + %d generated, rounded up to %d-token blocks = %d positions, exceeds the context of %d",
			lp, o.GenLength, b, total, capacity)
	}
	return nil
}

// StopReason says why generation ended. Package dllm exports it as dllm.StopReason;
// the strings are the reference goldens' stop_reason values.
type StopReason string

const (
	StopLength    StopReason = "gen_length"     // the canvas was decoded to GenLength
	StopEOSBlock  StopReason = "eos_block"      // a finished block contained <|endoftext|>
	StopEOSEarly  StopReason = "eos_early_stop" // EOSEarlyStop: output complete up to <|endoftext|>
	StopToken     StopReason = "stop_token"     // as the two above, for a stop id other than EOSID
	StopCallback  StopReason = "stopped"        // a callback stopped it (set by package dllm)
	StopCancelled StopReason = "cancelled"      // the decoder's reason for a callback or the context
)
