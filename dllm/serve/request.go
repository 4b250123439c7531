package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"

	"github.com/dllm-go/dllm/dllm"
)

// maxStops is how many stop strings a request may give, as in the OpenAI API.
const maxStops = 4

// samplingFields are the request fields shared by chat and completions: the OpenAI ones
// this server honours, then dllm's own knobs. Pointers tell an absent field from a zero.
type samplingFields struct {
	Model               string          `json:"model"`
	MaxTokens           *int            `json:"max_tokens"`
	MaxCompletionTokens *int            `json:"max_completion_tokens"`
	Temperature         *float64        `json:"temperature"`
	TopP                *float64        `json:"top_p"`
	TopK                *int            `json:"top_k"`
	Seed                *int64          `json:"seed"`
	Stop                stopList        `json:"stop"`
	Stream              bool            `json:"stream"`
	StreamOptions       *streamOptions  `json:"stream_options"`
	N                   *int            `json:"n"`
	Logprobs            json.RawMessage `json:"logprobs"`

	Preset        string   `json:"preset"`
	BlockLength   *int     `json:"block_length"`
	Steps         *int     `json:"steps"`
	Threshold     *float64 `json:"threshold"`
	EditThreshold *float64 `json:"edit_threshold"`
	EOSEarlyStop  *bool    `json:"eos_early_stop"`
	// The bidirectional families' options (GenerateOptions.Algorithm, …).
	Algorithm *string  `json:"algorithm"`
	CFGScale  *float64 `json:"cfg_scale"`
	Eps       *float64 `json:"eps"`
	AlgTemp   *float64 `json:"alg_temp"`
	EBGamma   *float64 `json:"eb_gamma"`
	Cache     *string  `json:"cache"`
	DLLM      *struct {
		Steps bool `json:"steps"`
	} `json:"dllm"`
}

type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

type chatRequest struct {
	samplingFields
	Messages []chatMessage `json:"messages"`
}

type completionRequest struct {
	samplingFields
	Prompt json.RawMessage `json:"prompt"`
}

type chatMessage struct {
	Role    string      `json:"role"`
	Content textContent `json:"content"`
}

// textContent is a message's content: a string, null, or an array of parts of which
// only {"type": "text"} ones are accepted.
type textContent string

func (c *textContent) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		*c = ""
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*c = textContent(s)
		return nil
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(b, &parts); err != nil {
		return errors.New("must be a string or an array of text parts")
	}
	var sb strings.Builder
	for _, p := range parts {
		if p.Type != "text" {
			return fmt.Errorf("has a part of type %q; this model reads text parts only", p.Type)
		}
		sb.WriteString(p.Text)
	}
	*c = textContent(sb.String())
	return nil
}

// stopList is the stop field: null, one string or an array of strings.
type stopList []string

func (s *stopList) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		*s = nil
		return nil
	}
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = stopList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("must be a string or an array of strings")
	}
	*s = many
	return nil
}

// decodeBody reads a JSON body of at most limit bytes into v: unknown fields are
// ignored, as OpenAI servers do; every other problem is an apiError naming it.
func decodeBody(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	// A browser sends a form or text/plain cross-origin without asking first (no CORS
	// preflight); requiring JSON from browsers keeps other sites' pages from making
	// a local server generate. curl and SDKs send no Origin and may omit the type.
	if ct := r.Header.Get("Content-Type"); r.Header.Get("Origin") != "" && !strings.HasPrefix(ct, "application/json") {
		return &apiError{Status: http.StatusUnsupportedMediaType, Type: "invalid_request_error",
			Message: fmt.Sprintf("Content-Type must be application/json, got %q", ct), Code: strPtr("unsupported_media_type")}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return &apiError{Status: http.StatusRequestEntityTooLarge, Type: "invalid_request_error",
			Message: fmt.Sprintf("the request body exceeds the server's limit of %d bytes", limit),
			Code:    strPtr("request_too_large")}
	case err != nil:
		return badRequest("", "reading the request body: %v", err)
	case len(bytes.TrimSpace(body)) == 0:
		return badRequest("", "the request body is empty; send a JSON object")
	}
	err = json.Unmarshal(body, v)
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &syntax):
		return withCode(badRequest("", "the body is not valid JSON: %v (at byte %d)", err, syntax.Offset), "invalid_json")
	case errors.As(err, &typ) && typ.Field == "":
		return withCode(badRequest("", "the body must be a JSON object, got %s", typ.Value), "invalid_json")
	case errors.As(err, &typ):
		field := strings.TrimPrefix(typ.Field, "samplingFields.") // json names the embedded struct too
		return withCode(badRequest(field, "%s must be %s, got %s", field, jsonKind(typ.Type.Kind().String()), typ.Value), "invalid_type")
	}
	// A field decoder of ours (content, stop) refused its value; json names no field then.
	return withCode(badRequest("", "invalid request: %v", err), "invalid_type")
}

// jsonKind names a Go kind as the JSON type a client should send.
func jsonKind(k string) string {
	switch {
	case strings.HasPrefix(k, "int"), strings.HasPrefix(k, "uint"):
		return "an integer"
	case strings.HasPrefix(k, "float"):
		return "a number"
	case k == "string":
		return "a string"
	case k == "bool":
		return "a boolean"
	case k == "slice":
		return "an array"
	}
	return "an object"
}

// options turns the request's fields into GenerateOptions: the preset first, then each
// field given over it. MaxTokens stays 0 when the request names no limit: what the
// context leaves is known only with the prompt. Without a preset a bidirectional family
// (windowed) starts from the zero options, which mean its defaults.
func (f *samplingFields) options(windowed bool) (dllm.GenerateOptions, error) {
	var o dllm.GenerateOptions
	if f.Preset != "" || !windowed {
		var err error
		if o, err = dllm.PresetOptions(f.Preset); err != nil {
			return o, badRequest("preset", "%s", strings.TrimPrefix(err.Error(), "dllm: "))
		}
	}
	if f.N != nil && *f.N != 1 {
		return o, badRequest("n", "n must be 1: this server returns one choice per request, got %d", *f.N)
	}
	if len(f.Logprobs) > 0 && !bytes.Equal(f.Logprobs, []byte("false")) && !bytes.Equal(f.Logprobs, []byte("null")) {
		return o, badRequest("logprobs", "logprobs are not supported")
	}
	if len(f.Stop) > maxStops {
		return o, badRequest("stop", "stop takes at most %d strings, got %d", maxStops, len(f.Stop))
	}
	for _, s := range f.Stop {
		if s == "" {
			return o, badRequest("stop", "stop strings must not be empty")
		}
	}
	param, limit := f.maxTokens()
	if limit != nil {
		if *limit < 1 {
			return o, badRequest(param, "%s must be at least 1, got %d", param, *limit)
		}
		o.MaxTokens = *limit
	}
	if f.Temperature != nil {
		o.Temperature = *f.Temperature
	}
	if f.TopP != nil {
		if *f.TopP == 0 {
			return o, badRequest("top_p", "top_p must be in (0,1], got 0")
		}
		o.TopP = *f.TopP
	}
	if f.TopK != nil {
		o.TopK = *f.TopK
	}
	if f.Seed != nil {
		o.Seed = uint64(*f.Seed)
	}
	if f.BlockLength != nil {
		o.BlockLength = *f.BlockLength
		if o.BlockLength == 0 {
			return o, badRequest("block_length", "block_length must be in [1,%d], got 0", dllm.MaxBlockLength)
		}
	}
	if f.Steps != nil {
		o.Steps = *f.Steps
		if o.Steps == 0 {
			return o, badRequest("steps", "steps must be in [1,%d], got 0", dllm.MaxSteps)
		}
	}
	if f.Threshold != nil {
		// 0 is literal here (fill every position at its first step); the library's 0
		// means its default, and this is exactly "any confidence" there.
		o.Threshold = *f.Threshold
		if o.Threshold == 0 {
			o.Threshold = math.SmallestNonzeroFloat64
		}
	}
	if f.EditThreshold != nil {
		o.Edit, o.EditThreshold = true, *f.EditThreshold
	}
	if f.EOSEarlyStop != nil {
		o.EOSEarlyStop = *f.EOSEarlyStop
	}
	if f.Algorithm != nil {
		o.Algorithm = *f.Algorithm
	}
	if f.Cache != nil {
		o.Cache = *f.Cache
	}
	for _, v := range []struct {
		dst *float64
		src *float64
	}{{&o.CFGScale, f.CFGScale}, {&o.Eps, f.Eps}, {&o.AlgTemp, f.AlgTemp}, {&o.EBGamma, f.EBGamma}} {
		if v.src != nil {
			*v.dst = *v.src
		}
	}
	if err := o.Validate(); err != nil {
		return o, optionError(err)
	}
	return o, nil
}

// paramOfOption names the request field behind each GenerateOptions field, so that the
// library's range checks read as errors about the request.
var paramOfOption = map[string]string{
	"MaxTokens": "max_tokens", "BlockLength": "block_length", "Steps": "steps",
	"Threshold": "threshold", "EditThreshold": "edit_threshold",
	"Temperature": "temperature", "TopK": "top_k", "TopP": "top_p",
	"Algorithm": "algorithm", "CFGScale": "cfg_scale", "Eps": "eps", "AlgTemp": "alg_temp", "EBGamma": "eb_gamma", "Cache": "cache",
	"Edit": "edit_threshold",
}

func optionError(err error) *apiError {
	msg := strings.TrimPrefix(err.Error(), "dllm: ")
	field, rest, _ := strings.Cut(msg, " ")
	if p, ok := paramOfOption[field]; ok {
		return badRequest(p, "%s %s", p, rest)
	}
	return badRequest("", "%s", msg)
}

// maxTokens returns the generation limit the request gives and the field that gave it;
// max_completion_tokens, the newer name, wins over max_tokens.
func (f *samplingFields) maxTokens() (string, *int) {
	if f.MaxCompletionTokens != nil {
		return "max_completion_tokens", f.MaxCompletionTokens
	}
	return "max_tokens", f.MaxTokens
}
