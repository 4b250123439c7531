package dllm

import (
	"context"
	"errors"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/dllm-go/dllm/dllm/internal/arch"
	"github.com/dllm-go/dllm/dllm/internal/decode"
	"github.com/dllm-go/dllm/dllm/internal/invalid"
	"github.com/dllm-go/dllm/dllm/internal/sample"
)

// Session is one conversation on a Model: a KV cache, scratch buffers and the chat
// history. The bidirectional families (LLaDA, LLaDA-MoE, Dream, RND1) keep no KV cache:
// every step of every generation recomputes the whole window, prompt included, as their
// official code does. It generates for one goroutine at a time (a concurrent call is ErrBusy);
// Close may be called at any time.
type Session struct {
	m *Model
	// st and dec are used by the one generation that holds busy, without mu; they are
	// released by whoever sees the session closed and not busy (Close or release).
	st  *arch.State
	dec *decode.Decoder

	mu      sync.Mutex
	busy    bool
	cancel  context.CancelCauseFunc // of the running generation
	closed  bool
	cached  []int32 // canvas tokens whose K/V the state holds
	block   int     // block length the cache was computed with
	system  string
	history []Message
}

// NewSession opens a session with an empty KV cache. The cache grows as needed up to the
// model's context length.
func (m *Model) NewSession() (*Session, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if err := m.usable(); err != nil {
		return nil, err
	}
	if m.windowed() {
		return &Session{m: m}, nil // the window state is sized by the first generation
	}
	st, err := m.net.NewState(arch.StateOptions{KVF16: m.kv16, MaxRun: MaxBlockLength})
	if err != nil {
		return nil, err
	}
	return &Session{m: m, st: st, dec: decode.New(st, m.info.VocabSize, st.Capacity(), st.MaxRun())}, nil
}

// Close releases the session's KV cache. It may be called at any time, from any
// goroutine, a callback included: a generation running on the session is cancelled
// and returns ErrClosed with its partial result, and the cache is released when it
// returns (Close does not wait for it). Closing twice is harmless.
func (s *Session) Close() error {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.busy {
		s.cancel(ErrClosed)
		return nil
	}
	s.free()
	return nil
}

// free drops the cache; s.mu is held and no generation runs.
func (s *Session) free() { s.st, s.dec, s.cached = nil, nil, nil }

// CachedTokens returns the token ids whose keys and values the session's cache holds:
// the prompt and output of its last generation, up to the last whole block. A next
// prompt that starts with them reuses that work (Stats.CachedTokens) when it is decoded
// with the same BlockLength, so a server that
// keeps several sessions gives each conversation the one whose cache it extends. It is
// empty for the bidirectional families, which keep no cache.
func (s *Session) CachedTokens() []int32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int32(nil), s.cached...)
}

// SetSystem sets the system prompt used by Chat from the next turn on.
func (s *Session) SetSystem(text string) {
	s.mu.Lock()
	s.system = text
	s.mu.Unlock()
}

// Reset forgets the chat history (the KV cache is reused where the next prompt agrees
// with it, so a reset costs nothing until then).
func (s *Session) Reset() {
	s.mu.Lock()
	s.history = nil
	s.mu.Unlock()
}

// History returns the chat turns so far.
func (s *Session) History() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.history...)
}

// Generate continues a raw prompt. Special-token text in it (such as <|role_end|>) is
// recognised, so a prompt rendered by hand in the model's chat format works. A prompt
// holding the mask token, here or in GenerateIDs, is ErrInvalid: infilling is not
// supported, and the decoder would overwrite it unreported.
func (s *Session) Generate(ctx context.Context, prompt string, opts GenerateOptions) (Result, error) {
	if !utf8.ValidString(prompt) {
		return Result{}, invalidf("dllm: prompt is not valid UTF-8")
	}
	if prompt == "" {
		return Result{}, invalidf("dllm: empty prompt")
	}
	return s.GenerateIDs(ctx, s.m.tok.Encode(prompt), opts)
}

// GenerateChat renders msgs with the model's chat template, adds the assistant
// generation prompt and generates the reply. The session's history is not changed.
// Message contents are plain text: special-token text in them is not parsed, so a
// message cannot forge a turn or inject mask tokens (use Generate to pass special
// tokens on purpose).
func (s *Session) GenerateChat(ctx context.Context, msgs []Message, opts GenerateOptions) (Result, error) {
	ids, err := s.m.encodeChat(msgs)
	if err != nil {
		return Result{}, err
	}
	return s.GenerateIDs(ctx, ids, opts)
}

// Chat adds a user turn to the session's history, generates the assistant's reply and
// records it. The KV cache of the conversation so far is reused (LLaDA2), so each turn
// only computes what is new.
func (s *Session) Chat(ctx context.Context, user string, opts GenerateOptions) (Result, error) {
	s.mu.Lock()
	var msgs []Message
	if s.system != "" {
		msgs = append(msgs, Message{Role: "system", Content: s.system})
	}
	msgs = append(msgs, s.history...)
	msgs = append(msgs, Message{Role: "user", Content: user})
	s.mu.Unlock()
	ids, err := s.m.encodeChat(msgs)
	if err != nil {
		return Result{}, err
	}
	res, err := s.GenerateIDs(ctx, ids, opts)
	if err == nil {
		s.mu.Lock()
		s.history = append(s.history, Message{Role: "user", Content: user}, Message{Role: "assistant", Content: res.Text})
		s.mu.Unlock()
	}
	return res, err
}

// windowed says whether the model is a bidirectional family, decoded by recomputing
// the window at every step without a KV cache (everything but LLaDA2).
func (m *Model) windowed() bool { return m.info.Architecture != "llada2" }

func (m *Model) encodeChat(msgs []Message) ([]int32, error) {
	for i, msg := range msgs {
		if !utf8.ValidString(msg.Content) {
			return nil, invalidf("dllm: message %d (%s) is not valid UTF-8", i, msg.Role)
		}
	}
	ids, err := m.tok.EncodeChat(msgs, true)
	if err != nil {
		return nil, invalidArg(err)
	}
	return ids, nil
}

// GenerateIDs generates from prompt token ids.
func (s *Session) GenerateIDs(ctx context.Context, prompt []int32, opts GenerateOptions) (Result, error) {
	if ctx == nil {
		return Result{}, invalidf("dllm: nil context (use context.Background())")
	}
	if err := opts.Validate(); err != nil {
		return Result{}, err
	}
	if err := invalid.CheckIDs(prompt, s.m.info.VocabSize); err != nil {
		return Result{}, err
	}
	if s.m.windowed() {
		return s.generateWindow(ctx, prompt, opts)
	}
	if f := opts.windowOnlyField(); f != "" {
		return Result{}, invalidf("dllm: %s is not an option of LLaDA2 decoding", f)
	}
	opts = opts.withDefaults()
	ctx, err := s.acquire(ctx)
	if err != nil {
		return Result{}, err
	}
	defer s.release()
	m := s.m
	m.mu.RLock()
	defer m.mu.RUnlock()
	if err := m.usable(); err != nil {
		return Result{}, err
	}
	switch c := s.st.Capacity(); {
	case len(prompt) > c:
		return Result{}, invalidf("dllm: prompt of %d tokens exceeds the context of %d", len(prompt), c)
	case opts.MaxTokens > c-len(prompt):
		return Result{}, invalidf("dllm: MaxTokens %d after a prompt of %d tokens exceeds the context of %d",
			opts.MaxTokens, len(prompt), c)
	}

	do, flush := s.decodeOptions(prompt, &opts)
	res, err := s.dec.Generate(ctx, prompt, do)
	flush()
	if err != nil && res.Canvas == nil {
		if errors.Is(err, decode.ErrInvalid) {
			err = invalidArg(err)
		}
		return Result{}, err // rejected before decoding started: the cache is untouched
	}
	s.mu.Lock() // CachedTokens reads it while we run
	s.cached, s.block = append(s.cached[:0], res.Canvas[:res.Cached]...), opts.BlockLength
	s.mu.Unlock()
	return s.finish(ctx, m.result(prompt, res.Tokens, res.Reason, res.Stats), err)
}

// result is the public form of a decoder's outcome, for either kind of decoder.
func (m *Model) result(prompt, tokens []int32, reason StopReason, st decode.Stats) Result {
	out := Result{
		Tokens:     tokens,
		Text:       m.tok.DecodeSkipSpecial(tokens),
		StopReason: reason,
		Stats: Stats{
			PromptTokens:     len(prompt),
			CachedTokens:     st.ReusedTokens,
			Tokens:           len(tokens),
			Forwards:         st.Forwards,
			ModelCalls:       st.ModelCalls,
			TokensPerForward: st.TokensPerForward,
			TimeToFirstToken: st.TimeToFirstToken,
			Duration:         st.Duration,
			TokensPerSecond:  st.TokensPerSecond,
		},
	}
	if st.Forwards > 0 {
		out.Stats.RowsPerForward = float64(st.RowsComputed) / float64(st.Forwards)
	}
	return out
}

// finish gives a stopped or cancelled generation its reason and error.
func (s *Session) finish(ctx context.Context, out Result, err error) (Result, error) {
	switch {
	case errors.Is(err, decode.ErrStopped):
		out.StopReason = StopCallback
		return out, ErrStopped
	case err != nil && ctx.Err() != nil:
		out.StopReason = StopCancelled
		return out, context.Cause(ctx) // ErrClosed when Close cancelled it
	}
	return out, err
}

// decodeOptions translates the public options into the decoder's, adding the model's
// special tokens and the reusable cache prefix.
// The returned flush hands OnText what the streaming decoder still holds (an incomplete
// UTF-8 sequence at the very end of the output).
func (s *Session) decodeOptions(prompt []int32, o *GenerateOptions) (decode.Options, func()) {
	info := s.m.info
	do := decode.Options{
		Variant:       decode.V20,
		BlockLength:   o.BlockLength,
		GenLength:     o.MaxTokens,
		Threshold:     o.Threshold,
		Steps:         o.Steps,
		MinimalTopK:   1,
		MaxPostSteps:  o.MaxPostSteps,
		NumToTransfer: o.NumToTransfer,
		EOSEarlyStop:  o.EOSEarlyStop,
		Sampling:      sample.Params{Temperature: o.Temperature, TopK: o.TopK, TopP: o.TopP},
		Seed:          o.Seed,
		MaskID:        info.MaskID,
		EOSID:         info.EOSID,
		StopIDs:       []int32{info.EOSID},
		NoCache:       o.NoCache,
	}
	if !o.IgnoreRoleEnd && info.RoleEndID >= 0 && info.RoleEndID != info.MaskID {
		do.StopIDs = append(do.StopIDs, info.RoleEndID)
	}
	if o.Edit {
		do.Variant, do.EditThreshold = decode.V21, o.EditThreshold
	}
	if block, mode, _ := parseCache(o.Cache); block { // validated
		mode.Apply(&do)
	}
	if !o.NoCache && s.block == o.BlockLength {
		do.ReusePrefix = commonPrefix(s.cached, prompt)
	}
	if o.OnStep != nil {
		onStep := o.OnStep
		do.OnStep = func(ev decode.StepEvent) bool { return onStep(publicStep(ev)) }
	}
	var flush func()
	do.OnCommit, flush = s.m.textStream(o.OnText)
	return do, flush
}

// textStream turns OnText into the decoder's OnCommit (nil without OnText); flush
// hands OnText what the streaming decoder still holds (an incomplete UTF-8 sequence at
// the very end of the output).
func (m *Model) textStream(onText func(string) bool) (func(decode.CommitEvent) bool, func()) {
	if onText == nil {
		return nil, func() {}
	}
	sd := m.tok.NewStreamDecoder(true)
	flush := func() {
		if rest := sd.Flush(); rest != "" {
			onText(rest)
		}
	}
	var text strings.Builder
	return func(ev decode.CommitEvent) bool {
		text.Reset()
		for _, t := range ev.Tokens {
			text.WriteString(sd.Add(t))
		}
		if text.Len() == 0 {
			return true
		}
		return onText(text.String())
	}, flush
}

func publicStep(ev decode.StepEvent) StepEvent {
	out := StepEvent{
		Block: ev.Block, Step: ev.Step, Window: ev.Window, Start: ev.BlockStart, Prompt: ev.Prompt,
		Canvas: append([]int32(nil), ev.Canvas...),
		Masked: ev.Masked, Above: ev.Above, Scheduled: ev.Scheduled, Fallback: ev.Fallback, PostStep: ev.PostStep,
		trace: ev.TraceStep,
	}
	for _, c := range ev.Committed {
		out.Committed = append(out.Committed, Commit{Pos: c.Pos, Token: c.Token, Confidence: float64(c.Conf)})
	}
	for _, e := range ev.Edited {
		out.Edited = append(out.Edited, Edit{Pos: e.Pos, Old: e.Old, New: e.New, Confidence: float64(e.Conf)})
	}
	return out
}

// acquire makes the caller the session's one generation and returns its context,
// which Close cancels.
func (s *Session) acquire(ctx context.Context) (context.Context, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return nil, ErrClosed
	case s.busy:
		return nil, ErrBusy
	}
	ctx, s.cancel = context.WithCancelCause(ctx)
	s.busy = true
	return ctx, nil
}

func (s *Session) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cancel(nil)
	s.busy, s.cancel = false, nil
	if s.closed {
		s.free()
	}
}

func commonPrefix(a, b []int32) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}
