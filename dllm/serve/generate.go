package serve

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/dllm-go/dllm/dllm"
)

// job is one generation request, parsed and checked.
type job struct {
	fields *samplingFields
	ids    []int32
	opts   dllm.GenerateOptions
	shape  shape
}

// shape builds the response objects of one endpoint (chat or completions).
type shape interface {
	// chunk is a streamed piece of text, with finish set the closing chunk, with first
	// the opening one (nil where the endpoint has none).
	chunk(id string, created int64, model, text string, finish *string, first bool) any
	// full is the whole non-streamed response.
	full(id string, created int64, model, text, finish string, u usage) any
	// prefix starts the response ids ("chatcmpl-", "cmpl-").
	prefix() string
	// chunkObject is the object name of a streamed chunk.
	chunkObject() string
}

type usage struct {
	PromptTokens        int `json:"prompt_tokens"`
	CompletionTokens    int `json:"completion_tokens"`
	TotalTokens         int `json:"total_tokens"`
	PromptTokensDetails struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
}

func (s *Server) chat(w http.ResponseWriter, r *http.Request) error {
	var req chatRequest
	if err := decodeBody(w, r, s.o.MaxBodyBytes, &req); err != nil {
		return err
	}
	if err := s.checkModel(req.Model); err != nil {
		return err
	}
	if len(req.Messages) == 0 {
		return badRequest("messages", "messages must hold at least one message")
	}
	msgs := make([]dllm.Message, len(req.Messages))
	for i, m := range req.Messages {
		role := m.Role
		switch role {
		case "developer":
			role = "system" // the newer name of the system role
		case "system", "user", "assistant", "tool":
		default:
			return badRequest(fmt.Sprintf("messages[%d].role", i), "messages[%d].role must be system, developer, user, assistant or tool, got %q", i, m.Role)
		}
		msgs[i] = dllm.Message{Role: role, Content: string(m.Content)}
	}
	ids, err := s.m.Tokenizer().EncodeChat(msgs, true)
	if err != nil {
		return badRequest("messages", "%v", err)
	}
	return s.generate(w, r, &job{fields: &req.samplingFields, ids: ids, shape: chatShape{}})
}

func (s *Server) completions(w http.ResponseWriter, r *http.Request) error {
	var req completionRequest
	if err := decodeBody(w, r, s.o.MaxBodyBytes, &req); err != nil {
		return err
	}
	if err := s.checkModel(req.Model); err != nil {
		return err
	}
	var prompt string
	if err := json.Unmarshal(req.Prompt, &prompt); err != nil {
		var one []string
		if json.Unmarshal(req.Prompt, &one) != nil || len(one) != 1 {
			return badRequest("prompt", "prompt must be a string (or an array of one string)")
		}
		prompt = one[0]
	}
	if prompt == "" {
		return badRequest("prompt", "prompt must not be empty")
	}
	ids, err := s.m.Tokenize(prompt, true)
	if err != nil {
		return badRequest("prompt", "%v", err)
	}
	return s.generate(w, r, &job{fields: &req.samplingFields, ids: ids, shape: completionShape{}})
}

// generate checks the job against the context, waits for a session and runs it,
// answering in one response or as a stream.
func (s *Server) generate(w http.ResponseWriter, r *http.Request, j *job) error {
	windowed := s.m.Info().Architecture != "llada2"
	o, err := j.fields.options(windowed)
	if err != nil {
		return err
	}
	// The canvas is the prompt plus the generation, rounded up to whole blocks (LLaDA2;
	// the other families' canvas is exactly prompt + generation).
	room := s.ctxLen - len(j.ids)
	if !windowed {
		room = s.ctxLen/o.BlockLength*o.BlockLength - len(j.ids)
	}
	param, limit := j.fields.maxTokens()
	switch {
	case room < 1 && windowed:
		return withCode(badRequest("messages", "the prompt is %d tokens; the context of %d tokens leaves no room to generate",
			len(j.ids), s.ctxLen), "context_length_exceeded")
	case room < 1:
		return withCode(badRequest("messages", "the prompt is %d tokens; with blocks of %d the context of %d tokens leaves no room to generate",
			len(j.ids), o.BlockLength, s.ctxLen), "context_length_exceeded")
	case limit != nil && *limit > room:
		return withCode(badRequest(param, "%s %d does not fit: the prompt is %d tokens and the context %d, which leaves %d",
			param, *limit, len(j.ids), s.ctxLen, room), "context_length_exceeded")
	case limit == nil && windowed:
		o.MaxTokens = min(s.m.DefaultOptions().MaxTokens, room)
	case limit == nil:
		o.MaxTokens = min(o.MaxTokens, room)
	}
	j.opts = o

	ctx, cancel := context.WithTimeoutCause(r.Context(), s.o.RequestTimeout, errTimeout)
	defer cancel()
	e, err := s.pool.acquire(ctx, j.ids, o.BlockLength)
	if err != nil {
		return s.endError(ctx, err)
	}
	defer s.pool.release(e)
	if j.fields.Stream {
		return s.stream(ctx, w, e.sess, j)
	}
	return s.whole(ctx, w, e.sess, j)
}

// endError maps a failed generation to what the client gets; nil when the client has
// gone and there is no one to answer.
func (s *Server) endError(ctx context.Context, err error) error {
	var api *apiError
	switch {
	case errors.As(err, &api):
		return api
	case context.Cause(ctx) == errTimeout:
		return errTimeout
	case isCancel(err):
		return nil
	case errors.Is(err, dllm.ErrClosed):
		return errShuttingDown
	case errors.Is(err, dllm.ErrInvalid):
		return optionError(err) // an option the model's family does not take
	}
	return err
}

// run generates with the job's options plus text and step callbacks: onText receives the
// final text (stop strings cut), onStep each forward when the request asked for steps.
func (s *Server) run(ctx context.Context, sess *dllm.Session, j *job, onText func(string) bool, onStep func(dllm.StepEvent) bool) (dllm.Result, string, bool, error) {
	stops := &stopMatcher{stops: j.fields.Stop}
	o := j.opts
	var text []byte
	o.OnText = func(delta string) bool {
		if out := stops.add(delta); out != "" {
			text = append(text, out...)
			if !onText(out) {
				return false
			}
		}
		return !stops.hit
	}
	o.OnStep = onStep
	res, err := sess.GenerateIDs(ctx, j.ids, o)
	if s.finished != nil {
		s.finished(res, err)
	}
	if errors.Is(err, dllm.ErrStopped) && stops.hit {
		err = nil
	}
	if err == nil && !stops.hit {
		if rest := stops.flush(); rest != "" {
			text = append(text, rest...)
			onText(rest)
		}
	}
	return res, string(text), stops.hit, err
}

func finishReason(res dllm.Result, stopped bool) string {
	if !stopped && res.StopReason == dllm.StopLength {
		return "length"
	}
	return "stop"
}

func usageOf(res dllm.Result) usage {
	u := usage{PromptTokens: res.Stats.PromptTokens, CompletionTokens: res.Stats.Tokens}
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	u.PromptTokensDetails.CachedTokens = res.Stats.CachedTokens
	return u
}

func (s *Server) whole(ctx context.Context, w http.ResponseWriter, sess *dllm.Session, j *job) error {
	res, text, stopped, err := s.run(ctx, sess, j, func(string) bool { return true }, nil)
	if err != nil {
		return s.endError(ctx, err)
	}
	writeJSON(w, j.shape.full(newID(j.shape.prefix()), time.Now().Unix(), s.o.ModelID, text, finishReason(res, stopped), usageOf(res)))
	return nil
}

func (s *Server) stream(ctx context.Context, w http.ResponseWriter, sess *dllm.Session, j *job) error {
	id, created, model := newID(j.shape.prefix()), time.Now().Unix(), s.o.ModelID
	sse := newSSE(w)
	if first := j.shape.chunk(id, created, model, "", nil, true); first != nil {
		sse.data(first)
	}
	var onStep func(dllm.StepEvent) bool
	if j.fields.DLLM != nil && j.fields.DLLM.Steps {
		forward := 0
		onStep = func(ev dllm.StepEvent) bool {
			forward++
			return sse.event("dllm.step", s.stepEvent(ev, forward))
		}
	}
	res, _, stopped, err := s.run(ctx, sess, j, func(text string) bool {
		return sse.data(j.shape.chunk(id, created, model, text, nil, false))
	}, onStep)
	if err != nil {
		if e := s.endError(ctx, err); e != nil {
			var api *apiError
			if !errors.As(e, &api) {
				api = &apiError{Status: http.StatusInternalServerError, Type: "server_error", Message: e.Error()}
			}
			sse.raw("error", errorJSON(api))
		}
		return nil // the stream has begun: the error went in it, or there is no one to tell
	}
	finish := finishReason(res, stopped)
	sse.data(j.shape.chunk(id, created, model, "", &finish, false))
	if so := j.fields.StreamOptions; so != nil && so.IncludeUsage {
		u := usageOf(res)
		sse.data(map[string]any{"id": id, "object": j.shape.chunkObject(), "created": created, "model": model,
			"choices": []any{}, "usage": u})
	}
	if onStep != nil {
		sse.event("dllm.stats", statsEvent(res.Stats))
	}
	sse.done()
	return nil
}

// stepCell is one position of a block in a dllm.step event.
type stepCell struct {
	Text  string `json:"text"`
	State string `json:"state"` // prompt, masked, new, edited or filled
}

type stepEvent struct {
	Block     int        `json:"block"`
	Step      int        `json:"step"`
	Start     int        `json:"start"`
	Prompt    int        `json:"prompt"`
	Cells     []stepCell `json:"cells"`
	Committed int        `json:"committed"`
	Edited    int        `json:"edited"`
	Forward   int        `json:"forward"`
}

// stepEvent draws a forward pass as the block's cells, for the page (the bidirectional
// families: the whole generated region, as block 0).
func (s *Server) stepEvent(ev dllm.StepEvent, forward int) stepEvent {
	tok := s.m.Tokenizer()
	mask := s.m.Info().MaskID
	state := make(map[int]string, len(ev.Committed)+len(ev.Edited))
	for _, c := range ev.Committed {
		state[c.Pos] = "new"
	}
	for _, e := range ev.Edited {
		state[e.Pos] = "edited"
	}
	block, step := ev.Block, ev.Step
	if s.m.Info().Architecture != "llada2" {
		// Any position of the generated region may be filled at any step: one block.
		block, step = 0, forward-1
	}
	out := stepEvent{Block: block, Step: step, Start: ev.Start, Prompt: ev.Prompt,
		Committed: len(ev.Committed), Edited: len(ev.Edited), Forward: forward,
		Cells: make([]stepCell, len(ev.Canvas))}
	for i, t := range ev.Canvas {
		pos := ev.Start + i
		c := stepCell{State: "filled"}
		switch st, ok := state[pos]; {
		case pos < ev.Prompt:
			c.State = "prompt"
		case t == mask:
			c.State = "masked"
		case ok:
			c.State = st
		}
		if c.State != "prompt" && t != mask && !tok.IsSpecial(t) { // the client has the prompt
			c.Text = validText(tok.DecodeBytes([]int32{t}, true))
		}
		out.Cells[i] = c
	}
	return out
}

// validText shows a token's bytes as text; a piece of a character split across tokens
// becomes U+FFFD.
func validText(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return string([]rune(string(b)))
}

func statsEvent(st dllm.Stats) map[string]any {
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return map[string]any{
		"forwards": st.Forwards, "tokens": st.Tokens, "tokens_per_forward": st.TokensPerForward,
		"tokens_per_second": st.TokensPerSecond, "time_to_first_token_ms": ms(st.TimeToFirstToken),
		"duration_ms": ms(st.Duration), "prompt_tokens": st.PromptTokens, "cached_tokens": st.CachedTokens,
	}
}

func newID(prefix string) string {
	var b [12]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, err)
		return
	}
	w.Write(append(b, '\n'))
}
