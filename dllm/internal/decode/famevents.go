package decode

import "encoding/json"

// WindowStep records one step of a bidirectional-family decoder, with the fields of the
// family goldens' trace entries (testdata/families/*/README.md).
type WindowStep struct {
	// Block is the LLaDA block (0 for Dream and RND1); Step the step within it (Dream,
	// RND1: the step of the whole run; RND1's trace has one step per official forward).
	Block, Step int
	// Calls is how many model forwards the step ran: 1, 2 with classifier-free guidance,
	// 0 when the step could not change the canvas and its forward was skipped (its random
	// draws are still taken, so later steps see the same stream; RND1: the canvas is the
	// last forward's, whose logits are reused).
	Calls int
	// Masked are the positions eligible before the step: LLaDA the masked positions of
	// the current block, Dream every masked position, RND1 every position still to decode.
	Masked []int
	// NumTransfer is the number of positions the schedule asked for, or -1 where no
	// schedule decides (thresholds, Dream origin).
	NumTransfer int
	// Candidates are [position, predicted token, confidence] for the positions whose
	// prediction was computed, in position order (Dream origin: only those revealed).
	Candidates []Commit
	// Committed are the revealed positions in selection order (top-k order where a
	// ranking decides, position order otherwise).
	Committed []Commit
	// Rand are Dream origin's uniforms, one per masked position.
	Rand []float32
	// Entropy is RND1's predictive entropy of each candidate, in Candidates order (whose
	// Conf is then the log-probability of the token).
	Entropy []float32
	// Kind and Input, set in the cache modes (LLaDAOptions.Cache, DreamOptions.Cache),
	// name the step's forward as the fast_* goldens do: "full" (the whole canvas,
	// refreshing the cache), "prefix_cache_suffix" (x[block_start:] against the prefix
	// K/V) or "dual_cache_block" (the current block against the rest's K/V), over the
	// absolute positions [Input[0], Input[1]).
	Kind  string
	Input [2]int
}

type windowStepJSON struct {
	Block       int       `json:"block"`
	Step        int       `json:"step"`
	BatchRows   int       `json:"batch_rows"`
	Masked      []int     `json:"masked"`
	NumTransfer *int      `json:"num_transfer,omitempty"`
	Candidates  []Commit  `json:"candidates"`
	Committed   []Commit  `json:"committed"`
	Rand        []float32 `json:"rand,omitempty"`
	Entropy     []float32 `json:"entropy,omitempty"`
	Kind        string    `json:"kind,omitempty"`
	Input       *[2]int   `json:"input,omitempty"`
}

// MarshalJSON writes the step as a golden trace entry.
func (s WindowStep) MarshalJSON() ([]byte, error) {
	j := windowStepJSON{Block: s.Block, Step: s.Step, BatchRows: s.Calls, Masked: s.Masked,
		Candidates: s.Candidates, Committed: s.Committed, Rand: s.Rand, Entropy: s.Entropy, Kind: s.Kind}
	if s.Kind != "" {
		j.Input = &s.Input
	}
	if s.NumTransfer >= 0 {
		j.NumTransfer = &s.NumTransfer
	}
	for _, p := range []*[]Commit{&j.Candidates, &j.Committed} {
		if *p == nil {
			*p = []Commit{}
		}
	}
	if j.Masked == nil {
		j.Masked = []int{}
	}
	return json.Marshal(j)
}

// WindowStepEvent is what OnStep sees after each step.
type WindowStepEvent struct {
	WindowStep
	// Prompt is the prompt length; Canvas the generated part of the canvas after the
	// step (positions Prompt…, the mask id where still masked). Read-only, valid only
	// during the callback.
	Prompt int
	Canvas []int32
}

// WindowResult is the outcome of one bidirectional-family generation.
type WindowResult struct {
	// Tokens is the generated part of the canvas, cut after the first stop token. After a
	// cancellation it is the final contiguous prefix.
	Tokens []int32
	// Reason is StopLength (no stop token), StopEOSBlock (cut at StopIDs[0]),
	// StopToken (cut at another stop id) or StopCancelled.
	Reason StopReason
	// Canvas is prompt + generated positions when decoding stopped.
	Canvas []int32
	Trace  []WindowStep
	// Stats: Forwards counts steps that ran the model, ModelCalls every forward (two per
	// guided step), Committed the revealed positions.
	Stats Stats
}
