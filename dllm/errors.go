package dllm

import (
	"errors"

	"github.com/dllm-go/dllm/dllm/internal/arch"
	"github.com/dllm-go/dllm/dllm/internal/invalid"
	"github.com/dllm-go/dllm/dllm/internal/weights"
)

// The errors a caller can act on are these values, matched with errors.Is (errors.As
// for NonFiniteError). Any other error is a model that cannot be read — a missing,
// malformed or unsupported file (fs.ErrNotExist where it is missing) — and its message
// names the path.

// ErrInvalid marks errors caused by the caller's input: a nil context, options out of
// range, a prompt that is empty, not UTF-8 or too long for the context, a token id
// outside the vocabulary, an unknown chat role, a negative thread count. The error's
// text names the argument. Returned by Load, Tokenize, Detokenize and every Session
// method that generates.
var ErrInvalid = invalid.ErrInvalid

// ErrClosed is returned by a Model or Session used after Close, and by a generation that
// Close cancelled (with its partial Result).
var ErrClosed = errors.New("dllm: model or session is closed")

// ErrBusy is returned when a Session is used by two goroutines at once: a Session runs
// one generation at a time.
var ErrBusy = errors.New("dllm: session is already generating (use one Session per goroutine)")

// ErrStopped is returned, together with the partial Result, when an OnStep or OnText
// callback returned false. A cancelled context returns context.Cause(ctx) instead.
var ErrStopped = errors.New("dllm: generation stopped by a callback")

// ErrModelChanged is returned by a Model whose files were truncated or rewritten after
// loading: the memory-mapped weights are no longer those that were checked. Reload it.
var ErrModelChanged = weights.ErrChanged

// ErrNonFinite is matched (errors.Is) by a *NonFiniteError: a forward pass produced NaN
// or infinite logits, from a corrupt weight or overflowing activations. Generate
// returns it with the partial result. The dllm/tools package's CheckWeights finds
// corrupt weights ahead of time.
var ErrNonFinite = arch.ErrNonFinite

// NonFiniteError says where a forward pass first produced a non-finite value: the
// weight's Hugging Face name (Tensor), its layer (-1 outside the layers), the first
// affected position and the value. Use errors.As.
type NonFiniteError = arch.NonFiniteError

var (
	invalidf   = invalid.Errorf
	invalidArg = invalid.Wrap
)
