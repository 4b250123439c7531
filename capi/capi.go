// Command capi is libdllm: the C ABI of package dllm, declared in include/dllm.h.
//
// Build it with
//
//	go build -buildmode=c-shared -o build/libdllm.so ./capi
//	go build -buildmode=c-archive -o build/libdllm.a ./capi
//
// Every export is a thin wrapper over package dllm: its body runs inside export,
// withModel or withSession (errors.go: panic recovery, poisoning and the handle
// references of handles.go), checks the C arguments (NULL, sizes, UTF-8) and converts
// between C and Go values; every other bound is package dllm's. Go pointers never
// reach C.
package main

/*
#cgo CFLAGS: -I${SRCDIR}/../include -DDLLM_BUILD
#include "private.h"
*/
import "C"

import (
	"context"
	"fmt"
	"unicode/utf8"
	"unsafe"

	"github.com/dllm-go/dllm/dllm"
)

func main() {}

// The version is the header's: dllm.h defines it once.
//
//export dllm_version
func dllm_version() C.uint32_t {
	return C.DLLM_VERSION_NUMBER
}

//export dllm_status_string
func dllm_status_string(st C.dllm_status) *C.cchar_t {
	return C.dllmcapi_status_name(st)
}

//export dllm_free
func dllm_free(p unsafe.Pointer) {
	defer guard(nil)
	C.free(p)
}

//export dllm_model_errmsg
func dllm_model_errmsg(box *C.dllm_model, buf *C.char, n C.size_t) (st C.dllm_status) {
	defer guard(&st)
	if poisoned.Load() {
		copyMessage(poisonMessage(), buf, n)
		return C.DLLM_STATUS_INTERNAL
	}
	h := lookupModel(box)
	if h == nil {
		return copyMessage("invalid model (NULL, freed or never created)", buf, n)
	}
	return copyMessage(h.errs.get(), buf, n)
}

//export dllm_session_errmsg
func dllm_session_errmsg(box *C.dllm_session, buf *C.char, n C.size_t) (st C.dllm_status) {
	defer guard(&st)
	if poisoned.Load() {
		copyMessage(poisonMessage(), buf, n)
		return C.DLLM_STATUS_INTERNAL
	}
	h := lookupSession(box)
	if h == nil {
		return copyMessage("invalid session (NULL, freed or never created)", buf, n)
	}
	return copyMessage(h.errs.get(), buf, n)
}

//export dllm_last_errmsg
func dllm_last_errmsg(buf *C.char, n C.size_t) (st C.dllm_status) {
	defer guard(&st)
	var p *C.cchar_t
	l := C.dllmcapi_last_error(&p)
	msg := C.GoStringN((*C.char)(unsafe.Pointer(p)), C.int(l))
	st = copyMessage(msg, buf, n)
	if poisoned.Load() {
		return C.DLLM_STATUS_INTERNAL
	}
	return st
}

// readStruct copies a caller's versioned struct (size bytes, starting with struct_size)
// over dst, which holds the defaults: fields the caller's version lacks keep them.
func readStruct[T any](dst *T, src unsafe.Pointer, size C.size_t) {
	n := min(int(size), int(unsafe.Sizeof(*dst)))
	copy(unsafe.Slice((*byte)(unsafe.Pointer(dst)), n), unsafe.Slice((*byte)(src), n))
}

// writeStruct copies src over the caller's struct of size bytes, keeping struct_size.
func writeStruct[T any](dst unsafe.Pointer, src *T, size C.size_t) {
	n := min(int(size), int(unsafe.Sizeof(*src)))
	const keep = C.sizeof_size_t
	if n > keep {
		copy(unsafe.Slice((*byte)(dst), n)[keep:], unsafe.Slice((*byte)(unsafe.Pointer(src)), n)[keep:])
	}
}

func structSizeError(name string, size C.size_t) string {
	return fmt.Sprintf("%s.struct_size is %d: set it to sizeof(%s)", name, size, name)
}

// ---- models ----

func defaultLoadParams() C.dllm_load_params {
	return C.dllm_load_params{struct_size: C.sizeof_dllm_load_params}
}

//export dllm_load_default_params
func dllm_load_default_params(p *C.dllm_load_params) C.dllm_status {
	return export(func() C.dllm_status {
		if p == nil {
			return fail(nil, C.DLLM_STATUS_INVALID_ARGUMENT, "params is NULL")
		}
		if p.struct_size < C.sizeof_size_t {
			return fail(nil, C.DLLM_STATUS_INVALID_ARGUMENT, structSizeError("dllm_load_params", p.struct_size))
		}
		d := defaultLoadParams()
		writeStruct(unsafe.Pointer(p), &d, p.struct_size)
		return C.DLLM_STATUS_OK
	})
}

//export dllm_model_load
func dllm_model_load(path *C.cchar_t, params *C.cdllm_load_params, out **C.dllm_model) C.dllm_status {
	if out != nil {
		*out = nil
	}
	return export(func() C.dllm_status {
		switch {
		case out == nil:
			return fail(nil, C.DLLM_STATUS_INVALID_ARGUMENT, "out is NULL")
		case path == nil:
			return fail(nil, C.DLLM_STATUS_INVALID_ARGUMENT, "path is NULL")
		}
		p := defaultLoadParams()
		if params != nil {
			if params.struct_size < C.sizeof_size_t {
				return fail(nil, C.DLLM_STATUS_INVALID_ARGUMENT, structSizeError("dllm_load_params", params.struct_size))
			}
			readStruct(&p, unsafe.Pointer(params), params.struct_size)
		}
		goPath := C.GoString((*C.char)(unsafe.Pointer(path)))
		if !utf8.ValidString(goPath) {
			return fail(nil, C.DLLM_STATUS_INVALID_ARGUMENT, "path is not valid UTF-8")
		}
		m, err := dllm.Load(goPath, dllm.LoadOptions{Threads: int(p.threads), KVCacheF16: p.kv_cache_f16 != 0, NoRepack: p.no_repack != 0})
		if err != nil {
			return fail(nil, loadStatus(err), err.Error())
		}
		*out = newModelBox(&modelHandle{m: m, info: m.Info()})
		return C.DLLM_STATUS_OK
	})
}

//export dllm_model_free
func dllm_model_free(box *C.dllm_model) {
	defer guard(nil)
	freeModelBox(box)
}

// cstrcpy copies s into a fixed char array, truncated and NUL-terminated.
func cstrcpy(dst []C.char, s string) {
	n := min(len(s), len(dst)-1)
	for i := 0; i < n; i++ {
		dst[i] = C.char(s[i])
	}
	dst[n] = 0
}

//export dllm_model_get_info
func dllm_model_get_info(box *C.dllm_model, info *C.dllm_model_info) C.dllm_status {
	return withModel(box, func(h *modelHandle) C.dllm_status {
		return modelInfo(h, info)
	})
}

func modelInfo(h *modelHandle, info *C.dllm_model_info) C.dllm_status {
	if info == nil {
		return fail(&h.errs, C.DLLM_STATUS_INVALID_ARGUMENT, "info is NULL")
	}
	if info.struct_size < C.sizeof_size_t {
		return fail(&h.errs, C.DLLM_STATUS_INVALID_ARGUMENT, structSizeError("dllm_model_info", info.struct_size))
	}
	i := h.info
	var ci C.dllm_model_info
	cstrcpy(ci.architecture[:], i.Architecture)
	cstrcpy(ci.format[:], i.Format)
	ci.vocab_size = C.int32_t(i.VocabSize)
	ci.context_length = C.int32_t(i.ContextLength)
	ci.layers = C.int32_t(i.Layers)
	ci.hidden_size = C.int32_t(i.HiddenSize)
	ci.experts = C.int32_t(i.Experts)
	ci.mask_id = C.int32_t(i.MaskID)
	ci.eos_id = C.int32_t(i.EOSID)
	ci.role_end_id = C.int32_t(i.RoleEndID)
	writeStruct(unsafe.Pointer(info), &ci, info.struct_size)
	return C.DLLM_STATUS_OK
}

//export dllm_tokenize
func dllm_tokenize(box *C.dllm_model, text *C.cchar_t, parseSpecial C.int, ids *C.int32_t, capacity C.size_t, nIDs *C.size_t) C.dllm_status {
	return withModel(box, func(h *modelHandle) C.dllm_status {
		return tokenize(h, text, parseSpecial != 0, ids, capacity, nIDs)
	})
}

func tokenize(h *modelHandle, text *C.cchar_t, parseSpecial bool, ids *C.int32_t, capacity C.size_t, nIDs *C.size_t) C.dllm_status {
	switch {
	case text == nil:
		return fail(&h.errs, C.DLLM_STATUS_INVALID_ARGUMENT, "text is NULL")
	case nIDs == nil:
		return fail(&h.errs, C.DLLM_STATUS_INVALID_ARGUMENT, "n_ids is NULL")
	case ids == nil && capacity > 0:
		return fail(&h.errs, C.DLLM_STATUS_INVALID_ARGUMENT, "ids is NULL but cap is not 0")
	}
	toks, err := h.m.Tokenize(C.GoString((*C.char)(unsafe.Pointer(text))), parseSpecial)
	if err != nil {
		return fail(&h.errs, C.DLLM_STATUS_INVALID_ARGUMENT, err.Error())
	}
	*nIDs = C.size_t(len(toks))
	if C.size_t(len(toks)) > capacity {
		return fail(&h.errs, C.DLLM_STATUS_BUFFER_TOO_SMALL, fmt.Sprintf("%d ids do not fit in %d", len(toks), capacity))
	}
	if len(toks) > 0 {
		copy(unsafe.Slice((*int32)(unsafe.Pointer(ids)), len(toks)), toks)
	}
	return C.DLLM_STATUS_OK
}

// goIDs copies n C ids (package dllm checks them against the vocabulary).
func goIDs(ids *C.cint32_t, n C.size_t) ([]int32, string) {
	if n == 0 {
		return []int32{}, ""
	}
	if ids == nil {
		return nil, "ids is NULL but n_ids is not 0"
	}
	if uint64(n) > 1<<31 {
		return nil, fmt.Sprintf("n_ids %d is too large", n)
	}
	out := make([]int32, int(n))
	copy(out, unsafe.Slice((*int32)(unsafe.Pointer(ids)), int(n)))
	return out, ""
}

//export dllm_detokenize
func dllm_detokenize(box *C.dllm_model, ids *C.cint32_t, nIDs C.size_t, out **C.char, outLen *C.size_t) C.dllm_status {
	if out != nil {
		*out = nil
	}
	return withModel(box, func(h *modelHandle) C.dllm_status {
		return detokenize(h, ids, nIDs, out, outLen)
	})
}

func detokenize(h *modelHandle, ids *C.cint32_t, nIDs C.size_t, out **C.char, outLen *C.size_t) C.dllm_status {
	if out == nil {
		return fail(&h.errs, C.DLLM_STATUS_INVALID_ARGUMENT, "out is NULL")
	}
	toks, msg := goIDs(ids, nIDs)
	if msg != "" {
		return fail(&h.errs, C.DLLM_STATUS_INVALID_ARGUMENT, msg)
	}
	text, err := h.m.Detokenize(toks)
	if err != nil {
		return fail(&h.errs, C.DLLM_STATUS_INVALID_ARGUMENT, err.Error())
	}
	*out = C.CString(text)
	if outLen != nil {
		*outLen = C.size_t(len(text))
	}
	return C.DLLM_STATUS_OK
}

// ---- sessions ----

//export dllm_session_new
func dllm_session_new(box *C.dllm_model, out **C.dllm_session) C.dllm_status {
	if out != nil {
		*out = nil
	}
	return withModel(box, func(h *modelHandle) C.dllm_status {
		if out == nil {
			return fail(&h.errs, C.DLLM_STATUS_INVALID_ARGUMENT, "out is NULL")
		}
		s, err := h.m.NewSession()
		if err != nil {
			return fail(&h.errs, errorStatus(err), err.Error())
		}
		*out = newSessionBox(&sessionHandle{model: h, s: s})
		return C.DLLM_STATUS_OK
	})
}

//export dllm_session_free
func dllm_session_free(box *C.dllm_session) {
	defer guard(nil)
	freeSessionBox(box)
}

//export dllm_session_cancel
func dllm_session_cancel(box *C.dllm_session) C.dllm_status {
	// Not withSession: cancelling must not wait for, nor be refused by, the busy session.
	return export(func() C.dllm_status {
		if !cancelSession(box) {
			return fail(nil, C.DLLM_STATUS_INVALID_ARGUMENT, invalidSession(box))
		}
		return C.DLLM_STATUS_OK
	})
}

// optionalText converts a string that may be NULL (meaning "").
func optionalText(p *C.cchar_t) (string, bool) {
	if p == nil {
		return "", true
	}
	s := C.GoString((*C.char)(unsafe.Pointer(p)))
	return s, utf8.ValidString(s)
}

//export dllm_session_set_system
func dllm_session_set_system(box *C.dllm_session, text *C.cchar_t) C.dllm_status {
	return withSession(box, func(h *sessionHandle, _ context.Context) C.dllm_status {
		s, ok := optionalText(text)
		if !ok {
			return fail(&h.errs, C.DLLM_STATUS_INVALID_ARGUMENT, "text is not valid UTF-8")
		}
		h.s.SetSystem(s)
		return C.DLLM_STATUS_OK
	})
}

//export dllm_session_reset
func dllm_session_reset(box *C.dllm_session) C.dllm_status {
	return withSession(box, func(h *sessionHandle, _ context.Context) C.dllm_status {
		h.s.Reset()
		return C.DLLM_STATUS_OK
	})
}
