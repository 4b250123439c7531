package decode

import (
	"encoding/json"
	"strconv"
	"time"
)

// Commit is one mask→token decision: position (absolute canvas index), token, confidence.
// It marshals as the goldens' [position, token, confidence].
type Commit struct {
	Pos   int
	Token int32
	Conf  float32
}

// Edit is one LLaDA2.1 token→token rewrite. It marshals as [position, old, new, confidence].
type Edit struct {
	Pos      int
	Old, New int32
	Conf     float32
}

// MarshalJSON writes the golden trace form.
func (c Commit) MarshalJSON() ([]byte, error) {
	b := append([]byte{'['}, strconv.Itoa(c.Pos)...)
	b = append(append(b, ','), strconv.Itoa(int(c.Token))...)
	b = append(append(b, ','), strconv.FormatFloat(float64(c.Conf), 'g', -1, 32)...)
	return append(b, ']'), nil
}

// UnmarshalJSON reads [position, token, confidence].
func (c *Commit) UnmarshalJSON(b []byte) error {
	var a [3]float64
	if err := json.Unmarshal(b, &a); err != nil {
		return err
	}
	*c = Commit{Pos: int(a[0]), Token: int32(a[1]), Conf: float32(a[2])}
	return nil
}

// MarshalJSON writes the golden trace form.
func (e Edit) MarshalJSON() ([]byte, error) {
	b := append([]byte{'['}, strconv.Itoa(e.Pos)...)
	b = append(append(b, ','), strconv.Itoa(int(e.Old))...)
	b = append(append(b, ','), strconv.Itoa(int(e.New))...)
	b = append(append(b, ','), strconv.FormatFloat(float64(e.Conf), 'g', -1, 32)...)
	return append(b, ']'), nil
}

// UnmarshalJSON reads [position, old, new, confidence].
func (e *Edit) UnmarshalJSON(b []byte) error {
	var a [4]float64
	if err := json.Unmarshal(b, &a); err != nil {
		return err
	}
	*e = Edit{Pos: int(a[0]), Old: int32(a[1]), New: int32(a[2]), Conf: float32(a[3])}
	return nil
}

// TraceStep records one decoding forward with the fields of the goldens' trace entries.
type TraceStep struct {
	Variant   Variant // selects the JSON fields: scheduled (2.0) or post_step/edited (2.1)
	Block     int     // block index (absolute: positions Block·B … Block·B+B−1)
	Step      int     // forward index within the block
	PostStep  int     // 2.1: iterations so far that started with no mask left
	Window    int     // W = (Block+1)·B, the reference's window x[0:W]
	Masked    int     // masked positions of the block before the step
	Above     int     // how many candidates (the masked, or Options.Window's) had confidence > threshold
	Scheduled int     // 2.0: the transfer schedule's minimum for this step
	Fallback  bool    // the top-k fallback chose the commits
	Committed []Commit
	Edited    []Edit // 2.1
}

type traceV20 struct {
	Block     int      `json:"block"`
	Step      int      `json:"step"`
	Window    int      `json:"window"`
	Masked    int      `json:"masked"`
	Above     int      `json:"above"`
	Scheduled int      `json:"scheduled"`
	Fallback  bool     `json:"fallback"`
	Committed []Commit `json:"committed"`
}

type traceV21 struct {
	Block     int      `json:"block"`
	Step      int      `json:"step"`
	PostStep  int      `json:"post_step"`
	Window    int      `json:"window"`
	Masked    int      `json:"masked"`
	Above     int      `json:"above"`
	Fallback  bool     `json:"fallback"`
	Committed []Commit `json:"committed"`
	Edited    []Edit   `json:"edited"`
}

// MarshalJSON writes the entry exactly as the goldens do for its variant, so `--json`
// output can be diffed against them.
func (t TraceStep) MarshalJSON() ([]byte, error) {
	c := t.Committed
	if c == nil {
		c = []Commit{}
	}
	if t.Variant == V21 {
		e := t.Edited
		if e == nil {
			e = []Edit{}
		}
		return json.Marshal(traceV21{t.Block, t.Step, t.PostStep, t.Window, t.Masked, t.Above, t.Fallback, c, e})
	}
	return json.Marshal(traceV20{t.Block, t.Step, t.Window, t.Masked, t.Above, t.Scheduled, t.Fallback, c})
}

// StepEvent is what OnStep sees after each decoding forward.
type StepEvent struct {
	TraceStep
	// BlockStart is the absolute position of Canvas[0]; Prompt is the prompt length, so
	// positions < Prompt in the first block are prompt, not generated text.
	BlockStart, Prompt int
	// Canvas is the block after the step (MaskID where still masked). Read-only, valid
	// only during the callback.
	Canvas []int32
}

// CommitEvent is what OnCommit sees: Tokens are final output tokens starting at output
// index Offset (absolute position Prompt+Offset). The pieces of successive events are
// contiguous and, once generation ends, concatenate to Result.Tokens. The slice is valid
// only during the callback.
type CommitEvent struct {
	Offset int
	Tokens []int32
}

// Stats summarise a generation.
type Stats struct {
	// Forwards counts decoding forwards (one per trace entry), the goldens' "forwards".
	Forwards int
	// ModelCalls counts every Forward call: decoding forwards, the prompt prefill and the
	// block commits of the KV cache.
	ModelCalls int
	// PrefillTokens is how many prompt tokens were prefilled (not reused from the cache).
	PrefillTokens int
	// ReusedTokens is how many prompt tokens kept the K/V an earlier generation left in
	// the cache (whole blocks of ReusePrefix).
	ReusedTokens int
	// Committed counts mask→token commits; Edits token→token rewrites (2.1).
	Committed, Edits int
	// MultiCommitSteps, FallbackSteps and MaxCommitInOneStep mirror the goldens' stats.
	MultiCommitSteps, FallbackSteps, MaxCommitInOneStep int
	// TokensPerForward is Committed / Forwards: positions filled per decoding forward
	// (the papers' TPF, which counts EOS padding in the last block too).
	TokensPerForward float64
	// OutputTokensPerForward is len(Result.Tokens) / Forwards: returned tokens only.
	OutputTokensPerForward float64
	// TimeToFirstToken is the time until the first output token became final.
	TimeToFirstToken time.Duration
	// Duration is the wall time of the whole generation.
	Duration time.Duration
	// TokensPerSecond is len(Result.Tokens) / Duration.
	TokensPerSecond float64
	// PartialForwards counts the decoding forwards that ran only some rows of the block
	// (Options.BlockCache); RowsComputed sums the rows every decoding forward ran (the
	// block length for a full one).
	PartialForwards, RowsComputed int
}

// Result of one generation. After a cancellation it holds what was final at that point.
type Result struct {
	// Tokens is the output: x[Lp : Lp+GenLength] cut after the first stop token
	// (inclusive). After a cancellation it is the final contiguous prefix, which for 2.0
	// may run past the last piece OnCommit saw if OnStep stopped the run.
	Tokens []int32
	Reason StopReason
	// Canvas is the window x[0:W] when decoding stopped, prompt included.
	Canvas []int32
	// Blocks lists the blocks decoded (entered), in order.
	Blocks []int
	Trace  []TraceStep
	Stats  Stats
	// Cached is how many leading Canvas positions have their K/V committed in the model
	// state (0 with NoCache); a later turn may pass its common prefix as ReusePrefix.
	Cached int
}

// finish fills the rates of a generation that started at start and returned out tokens.
func (st *Stats) finish(start time.Time, out int) {
	st.Duration = time.Since(start)
	if st.Forwards > 0 {
		st.TokensPerForward = float64(st.Committed) / float64(st.Forwards)
		st.OutputTokensPerForward = float64(out) / float64(st.Forwards)
	}
	if s := st.Duration.Seconds(); s > 0 {
		st.TokensPerSecond = float64(out) / s
	}
}
