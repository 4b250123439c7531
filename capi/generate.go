package main

/*
#include "private.h"
*/
import "C"

import (
	"context"
	"fmt"
	"math"
	"unicode/utf8"
	"unsafe"

	"github.com/dllm-go/dllm/dllm"
)

// cParams converts Go options to the C struct (callbacks unset; algorithm and cache
// NULL: the options the library fills leave Algorithm and Cache "").
func cParams(o dllm.GenerateOptions) C.dllm_generate_params {
	b := func(v bool) C.int32_t {
		if v {
			return 1
		}
		return 0
	}
	editThreshold := -1.0 // the C struct's "editing off"
	if o.Edit {
		editThreshold = o.EditThreshold
	}
	return C.dllm_generate_params{
		struct_size:      C.sizeof_dllm_generate_params,
		max_tokens:       C.int32_t(o.MaxTokens),
		block_length:     C.int32_t(o.BlockLength),
		steps:            C.int32_t(o.Steps),
		max_post_steps:   C.int32_t(o.MaxPostSteps),
		num_to_transfer:  C.int32_t(o.NumToTransfer),
		top_k:            C.int32_t(o.TopK),
		threshold:        C.double(o.Threshold),
		edit_threshold:   C.double(editThreshold),
		temperature:      C.double(o.Temperature),
		top_p:            C.double(o.TopP),
		seed:             C.uint64_t(o.Seed),
		eos_early_stop:   b(o.EOSEarlyStop),
		stop_on_role_end: b(!o.IgnoreRoleEnd),
		no_cache:         b(o.NoCache),
		cfg_scale:        C.double(o.CFGScale),
		eps:              C.double(o.Eps),
		alg_temp:         C.double(o.AlgTemp),
		eb_gamma:         C.double(o.EBGamma),
	}
}

func writeParams(p *C.dllm_generate_params, o dllm.GenerateOptions) C.dllm_status {
	if p == nil {
		return fail(nil, C.DLLM_STATUS_INVALID_ARGUMENT, "params is NULL")
	}
	if p.struct_size < C.sizeof_size_t {
		return fail(nil, C.DLLM_STATUS_INVALID_ARGUMENT, structSizeError("dllm_generate_params", p.struct_size))
	}
	c := cParams(o)
	writeStruct(unsafe.Pointer(p), &c, p.struct_size)
	return C.DLLM_STATUS_OK
}

//export dllm_generate_default_params
func dllm_generate_default_params(p *C.dllm_generate_params) C.dllm_status {
	return export(func() C.dllm_status { return writeParams(p, dllm.DefaultOptions()) })
}

//export dllm_generate_quality_params
func dllm_generate_quality_params(p *C.dllm_generate_params) C.dllm_status {
	return export(func() C.dllm_status { return writeParams(p, dllm.QualityOptions()) })
}

//export dllm_model_default_params
func dllm_model_default_params(box *C.dllm_model, p *C.dllm_generate_params) C.dllm_status {
	return withModel(box, func(h *modelHandle) C.dllm_status {
		if p != nil && p.struct_size < C.sizeof_size_t {
			return fail(&h.errs, C.DLLM_STATUS_INVALID_ARGUMENT, structSizeError("dllm_generate_params", p.struct_size))
		}
		if p == nil {
			return fail(&h.errs, C.DLLM_STATUS_INVALID_ARGUMENT, "params is NULL")
		}
		return writeParams(p, h.m.DefaultOptions())
	})
}

//export dllm_generate_speed_params
func dllm_generate_speed_params(p *C.dllm_generate_params) C.dllm_status {
	return export(func() C.dllm_status { return writeParams(p, dllm.SpeedOptions()) })
}

// goOptions reads the caller's params for a generation on m (NULL: m's defaults); the
// callbacks are bridged to the caller's C function pointers. The session checks the
// options (GenerateOptions.Validate).
func goOptions(params *C.cdllm_generate_params, m *dllm.Model) (dllm.GenerateOptions, string) {
	llada2 := m.Info().Architecture == "llada2"
	p := cParams(m.DefaultOptions())
	if params != nil {
		if params.struct_size < C.sizeof_size_t {
			return dllm.GenerateOptions{}, structSizeError("dllm_generate_params", params.struct_size)
		}
		readStruct(&p, unsafe.Pointer(params), params.struct_size)
	}
	// In C a zero is literal, never "the default" as in Go: a zero count is a mistake,
	// a zero threshold fills every position (math.SmallestNonzeroFloat64 is exactly that
	// in Go), and a negative edit_threshold turns editing off. On the other families a
	// zero block_length, num_to_transfer or threshold is what Go's zero means there: no
	// block (or the family's), unused, no threshold.
	counts := []struct {
		name string
		v    C.int32_t
	}{{"max_tokens", p.max_tokens}, {"steps", p.steps}}
	if llada2 {
		counts = append(counts, []struct {
			name string
			v    C.int32_t
		}{{"block_length", p.block_length}, {"num_to_transfer", p.num_to_transfer}}...)
	}
	for _, f := range counts {
		if f.v == 0 {
			return dllm.GenerateOptions{}, "dllm: " + f.name + " must be positive, got 0"
		}
	}
	if p.top_p == 0 {
		return dllm.GenerateOptions{}, "dllm: top_p must be in (0,1], got 0"
	}
	if p.threshold == 0 && llada2 {
		p.threshold = math.SmallestNonzeroFloat64
	}
	var algorithm string
	if p.algorithm != nil {
		var msg string
		if algorithm, msg = validText("algorithm", p.algorithm); msg != "" {
			return dllm.GenerateOptions{}, msg
		}
	}
	var cache string
	if p.cache != nil {
		var msg string
		if cache, msg = validText("cache", p.cache); msg != "" {
			return dllm.GenerateOptions{}, msg
		}
	}
	edit := !(p.edit_threshold < 0) // NaN goes on to Validate, which refuses it
	if !edit {
		p.edit_threshold = 0
	}
	o := dllm.GenerateOptions{
		MaxTokens:     int(p.max_tokens),
		BlockLength:   int(p.block_length),
		Steps:         int(p.steps),
		Threshold:     float64(p.threshold),
		Edit:          edit,
		EditThreshold: float64(p.edit_threshold),
		MaxPostSteps:  int(p.max_post_steps),
		NumToTransfer: int(p.num_to_transfer),
		Temperature:   float64(p.temperature),
		TopK:          int(p.top_k),
		TopP:          float64(p.top_p),
		Seed:          uint64(p.seed),
		EOSEarlyStop:  p.eos_early_stop != 0,
		IgnoreRoleEnd: p.stop_on_role_end == 0,
		NoCache:       p.no_cache != 0,
		Algorithm:     algorithm,
		CFGScale:      float64(p.cfg_scale),
		Eps:           float64(p.eps),
		AlgTemp:       float64(p.alg_temp),
		EBGamma:       float64(p.eb_gamma),
		Cache:         cache,
	}
	if cb, ud := p.on_step, p.step_user_data; cb != nil {
		o.OnStep = func(ev dllm.StepEvent) bool { return callStep(cb, ud, ev) }
	}
	if cb, ud := p.on_text, p.text_user_data; cb != nil {
		o.OnText = func(delta string) bool { return callText(cb, ud, delta) }
	}
	return o, ""
}

// callStep hands one event to a C step callback. The event and its arrays live in one
// C allocation freed when the callback returns.
func callStep(cb C.dllm_step_callback, ud unsafe.Pointer, ev dllm.StepEvent) bool {
	var e C.dllm_step_event
	sizeEv := unsafe.Sizeof(e)
	sizeCanvas := uintptr(len(ev.Canvas)) * C.sizeof_int32_t
	sizeCommits := uintptr(len(ev.Committed)) * C.sizeof_dllm_commit
	sizeEdits := uintptr(len(ev.Edited)) * C.sizeof_dllm_edit
	align := func(n uintptr) uintptr { return (n + 7) &^ 7 }
	offCanvas := align(sizeEv)
	offCommits := align(offCanvas + sizeCanvas)
	offEdits := align(offCommits + sizeCommits)
	mem := C.calloc(1, C.size_t(offEdits+sizeEdits))
	defer C.free(mem)
	pe := (*C.dllm_step_event)(mem)
	pe.struct_size = C.size_t(sizeEv)
	pe.block = C.int32_t(ev.Block)
	pe.step = C.int32_t(ev.Step)
	pe.window = C.int32_t(ev.Window)
	pe.start = C.int32_t(ev.Start)
	pe.masked = C.int32_t(ev.Masked)
	pe.post_step = C.int32_t(ev.PostStep)
	if n := len(ev.Canvas); n > 0 {
		p := unsafe.Add(mem, offCanvas)
		copy(unsafe.Slice((*int32)(p), n), ev.Canvas)
		pe.canvas, pe.n_canvas = (*C.int32_t)(p), C.size_t(n)
	}
	if n := len(ev.Committed); n > 0 {
		p := unsafe.Add(mem, offCommits)
		cs := unsafe.Slice((*C.dllm_commit)(p), n)
		for i, c := range ev.Committed {
			cs[i] = C.dllm_commit{pos: C.int32_t(c.Pos), token: C.int32_t(c.Token), confidence: C.double(c.Confidence)}
		}
		pe.committed, pe.n_committed = (*C.dllm_commit)(p), C.size_t(n)
	}
	if n := len(ev.Edited); n > 0 {
		p := unsafe.Add(mem, offEdits)
		es := unsafe.Slice((*C.dllm_edit)(p), n)
		for i, e := range ev.Edited {
			es[i] = C.dllm_edit{pos: C.int32_t(e.Pos), old_token: C.int32_t(e.Old), new_token: C.int32_t(e.New), confidence: C.double(e.Confidence)}
		}
		pe.edited, pe.n_edited = (*C.dllm_edit)(p), C.size_t(n)
	}
	return C.dllmcapi_call_step(cb, pe, ud) == 0
}

func callText(cb C.dllm_text_callback, ud unsafe.Pointer, delta string) bool {
	s := C.CString(delta)
	defer C.free(unsafe.Pointer(s))
	return C.dllmcapi_call_text(cb, s, C.size_t(len(delta)), ud) == 0
}

// stopReasons joins the header's dllm_stop_reason values to package dllm's reasons,
// whose strings are also the names dllm_stop_reason_string returns.
var stopReasons = [...]dllm.StopReason{
	C.DLLM_STOP_LENGTH:    dllm.StopLength,
	C.DLLM_STOP_EOS_BLOCK: dllm.StopEOSBlock,
	C.DLLM_STOP_EOS_EARLY: dllm.StopEOSEarly,
	C.DLLM_STOP_TOKEN:     dllm.StopToken,
	C.DLLM_STOP_CALLBACK:  dllm.StopCallback,
	C.DLLM_STOP_CANCELLED: dllm.StopCancelled,
}

// The names as static C strings (the library is never unloaded), the last "unknown".
var stopReasonNames = func() (names [len(stopReasons) + 1]*C.cchar_t) {
	for i, r := range stopReasons {
		names[i] = (*C.cchar_t)(C.CString(string(r)))
	}
	names[len(stopReasons)] = (*C.cchar_t)(C.CString("unknown"))
	return names
}()

// stopCode is the dllm_stop_reason of r, or -1.
func stopCode(r dllm.StopReason) C.dllm_stop_reason {
	for i, known := range stopReasons {
		if known == r {
			return C.dllm_stop_reason(i)
		}
	}
	return -1
}

//export dllm_stop_reason_string
func dllm_stop_reason_string(r C.dllm_stop_reason) *C.cchar_t {
	if r < 0 || int(r) >= len(stopReasons) {
		return stopReasonNames[len(stopReasons)]
	}
	return stopReasonNames[r]
}

// cResult copies a Go result into a C allocation for dllm_result_free.
func cResult(r dllm.Result) *C.dllm_result {
	cr := (*C.dllm_result)(C.calloc(1, C.sizeof_dllm_result))
	cr.struct_size = C.sizeof_dllm_result
	if n := len(r.Tokens); n > 0 {
		p := C.malloc(C.size_t(n) * C.sizeof_int32_t)
		copy(unsafe.Slice((*int32)(p), n), r.Tokens)
		cr.tokens, cr.n_tokens = (*C.int32_t)(p), C.size_t(n)
	}
	cr.text = C.CString(r.Text)
	cr.text_len = C.size_t(len(r.Text))
	cr.stop = stopCode(r.StopReason)
	cr.stop_reason = dllm_stop_reason_string(cr.stop)
	s := r.Stats
	cr.rows_per_forward = C.double(s.RowsPerForward)
	cr.stats = C.dllm_stats{
		prompt_tokens:          C.int32_t(s.PromptTokens),
		tokens:                 C.int32_t(s.Tokens),
		forwards:               C.int32_t(s.Forwards),
		model_calls:            C.int32_t(s.ModelCalls),
		tokens_per_forward:     C.double(s.TokensPerForward),
		time_to_first_token_ns: C.int64_t(s.TimeToFirstToken),
		duration_ns:            C.int64_t(s.Duration),
		tokens_per_second:      C.double(s.TokensPerSecond),
	}
	return cr
}

//export dllm_result_free
func dllm_result_free(r *C.dllm_result) {
	defer guard(nil)
	if r == nil {
		return
	}
	C.free(unsafe.Pointer(r.tokens))
	C.free(unsafe.Pointer(r.text))
	C.free(unsafe.Pointer(r))
}

// generate runs one generating call: it validates the common arguments, acquires the
// session, lets prepare check the call's own arguments (returning a non-empty message
// to reject them) and run returns the Go result.
func generate(box *C.dllm_session, params *C.cdllm_generate_params, out **C.dllm_result,
	prepare func() string,
	run func(ctx context.Context, s *dllm.Session, o dllm.GenerateOptions) (dllm.Result, error)) C.dllm_status {
	if out != nil {
		*out = nil
	}
	return withSession(box, func(h *sessionHandle, ctx context.Context) C.dllm_status {
		if out == nil {
			return fail(&h.errs, C.DLLM_STATUS_INVALID_ARGUMENT, "out is NULL")
		}
		o, msg := goOptions(params, h.model.m)
		if msg == "" {
			msg = prepare()
		}
		if msg != "" {
			return fail(&h.errs, C.DLLM_STATUS_INVALID_ARGUMENT, msg)
		}
		res, err := run(ctx, h.s, o)
		return finish(h, res, err, out)
	})
}

// finish hands a generation's result to the caller: for OK, and with the partial result
// for STOPPED and CANCELLED.
func finish(h *sessionHandle, res dllm.Result, err error, out **C.dllm_result) C.dllm_status {
	st := generateStatus(err)
	switch st {
	case C.DLLM_STATUS_OK:
	case C.DLLM_STATUS_STOPPED, C.DLLM_STATUS_CANCELLED:
		fail(&h.errs, st, err.Error())
	default:
		return fail(&h.errs, st, err.Error())
	}
	*out = cResult(res)
	return st
}

func validText(name string, p *C.cchar_t) (string, string) {
	if p == nil {
		return "", name + " is NULL"
	}
	s := C.GoString((*C.char)(unsafe.Pointer(p)))
	if !utf8.ValidString(s) {
		return "", name + " is not valid UTF-8"
	}
	return s, ""
}

//export dllm_session_generate
func dllm_session_generate(box *C.dllm_session, prompt *C.cchar_t, params *C.cdllm_generate_params, out **C.dllm_result) C.dllm_status {
	var text string
	return generate(box, params, out,
		func() (msg string) {
			text, msg = validText("prompt", prompt)
			return msg
		},
		func(ctx context.Context, s *dllm.Session, o dllm.GenerateOptions) (dllm.Result, error) {
			return s.Generate(ctx, text, o)
		})
}

//export dllm_session_generate_ids
func dllm_session_generate_ids(box *C.dllm_session, ids *C.cint32_t, nIDs C.size_t, params *C.cdllm_generate_params, out **C.dllm_result) C.dllm_status {
	var toks []int32
	return generate(box, params, out,
		func() (msg string) {
			toks, msg = goIDs(ids, nIDs)
			return msg
		},
		func(ctx context.Context, s *dllm.Session, o dllm.GenerateOptions) (dllm.Result, error) {
			return s.GenerateIDs(ctx, toks, o)
		})
}

// dllm_session_generate_chat leaves roles to the chat template, the one list of them.
//
//export dllm_session_generate_chat
func dllm_session_generate_chat(box *C.dllm_session, msgs *C.cdllm_message, nMsgs C.size_t, params *C.cdllm_generate_params, out **C.dllm_result) C.dllm_status {
	var conv []dllm.Message
	return generate(box, params, out,
		func() string {
			switch {
			case nMsgs == 0:
				return "no messages"
			case msgs == nil:
				return "msgs is NULL but n_msgs is not 0"
			case uint64(nMsgs) > 1<<24:
				return fmt.Sprintf("n_msgs %d is too large", nMsgs)
			}
			for i, m := range unsafe.Slice((*C.dllm_message)(unsafe.Pointer(msgs)), int(nMsgs)) {
				role, msg := validText(fmt.Sprintf("msgs[%d].role", i), m.role)
				if msg != "" {
					return msg
				}
				content, msg := validText(fmt.Sprintf("msgs[%d].content", i), m.content)
				if msg != "" {
					return msg
				}
				conv = append(conv, dllm.Message{Role: role, Content: content})
			}
			return ""
		},
		func(ctx context.Context, s *dllm.Session, o dllm.GenerateOptions) (dllm.Result, error) {
			return s.GenerateChat(ctx, conv, o)
		})
}

//export dllm_session_chat
func dllm_session_chat(box *C.dllm_session, user *C.cchar_t, params *C.cdllm_generate_params, out **C.dllm_result) C.dllm_status {
	var text string
	return generate(box, params, out,
		func() (msg string) {
			text, msg = validText("user", user)
			return msg
		},
		func(ctx context.Context, s *dllm.Session, o dllm.GenerateOptions) (dllm.Result, error) {
			return s.Chat(ctx, text, o)
		})
}
