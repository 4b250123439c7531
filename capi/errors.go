package main

/*
#include "private.h"
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/dllm-go/dllm/dllm"
)

// The library is poisoned by the first panic an export recovers: from then on every
// call returns DLLM_STATUS_INTERNAL, since a panic may have left shared state half
// updated.
var (
	poisoned    atomic.Bool
	poisonOnce  sync.Once
	poisonMsg   string
	poisonMsgMu sync.Mutex
)

func poison(r any) {
	poisonOnce.Do(func() {
		msg := fmt.Sprintf("dllm: internal error (library poisoned): %v", r)
		poisonMsgMu.Lock()
		poisonMsg = msg
		poisonMsgMu.Unlock()
		poisoned.Store(true)
		fmt.Fprintf(os.Stderr, "%s\n%s", msg, debug.Stack())
	})
}

func poisonMessage() string {
	poisonMsgMu.Lock()
	defer poisonMsgMu.Unlock()
	return poisonMsg
}

// guard is deferred first by every export (through export for those with a status): it
// turns a panic into DLLM_STATUS_INTERNAL and poisons the library. st may be nil for
// exports without a status.
func guard(st *C.dllm_status) {
	if r := recover(); r != nil {
		poison(r)
		setLastError(poisonMessage())
		if st != nil {
			*st = C.DLLM_STATUS_INTERNAL
		}
	}
}

// export runs the body of an export that returns a status: it refuses every call once
// the library is poisoned and recovers a panic of body.
func export(body func() C.dllm_status) (st C.dllm_status) {
	defer guard(&st)
	if poisoned.Load() {
		setLastError(poisonMessage())
		return C.DLLM_STATUS_INTERNAL
	}
	return body()
}

// withModel is export for a call on a model: body holds a reference on it, so
// dllm_model_free in another thread cannot close it under the call.
func withModel(box *C.dllm_model, body func(h *modelHandle) C.dllm_status) C.dllm_status {
	return export(func() C.dllm_status {
		h, st, msg := acquireModel(box)
		if h == nil {
			return fail(nil, st, msg)
		}
		defer h.release()
		return body(h)
	})
}

// withSession is export for a call on a session: body is the one call the session
// serves, and ctx is cancelled by dllm_session_cancel and by freeing the session or its
// model.
func withSession(box *C.dllm_session, body func(h *sessionHandle, ctx context.Context) C.dllm_status) C.dllm_status {
	return export(func() C.dllm_status {
		h, ctx, st, msg := acquireSession(box)
		if st != C.DLLM_STATUS_OK {
			if h != nil {
				return fail(&h.errs, st, msg)
			}
			return fail(nil, st, msg)
		}
		defer h.release()
		return body(h, ctx)
	})
}

func setLastError(msg string) {
	if msg == "" {
		C.dllmcapi_set_last_error(nil, 0)
		return
	}
	b := unsafe.StringData(msg)
	C.dllmcapi_set_last_error((*C.char)(unsafe.Pointer(b)), C.size_t(len(msg)))
}

// fail records msg as the calling thread's last error and on the object (if any) and
// returns st.
func fail(slot *errorSlot, st C.dllm_status, msg string) C.dllm_status {
	if slot != nil {
		slot.set(msg)
	}
	setLastError(msg)
	return st
}

// copyMessage implements the errmsg functions' contract.
func copyMessage(msg string, buf *C.char, n C.size_t) C.dllm_status {
	if buf == nil || n == 0 {
		return C.DLLM_STATUS_INVALID_ARGUMENT
	}
	dst := unsafe.Slice((*byte)(unsafe.Pointer(buf)), int(n))
	st := C.dllm_status(C.DLLM_STATUS_OK)
	if len(msg) >= len(dst) {
		msg = msg[:len(dst)-1]
		st = C.DLLM_STATUS_BUFFER_TOO_SMALL
	}
	copy(dst, msg)
	dst[len(msg)] = 0
	return st
}

// loadStatus classifies an error from dllm.Load. Everything the files themselves are
// to blame for (malformed, inconsistent, special files, absurd sizes) is FORMAT: a bad
// file is never a panic, so it never poisons the library.
func loadStatus(err error) C.dllm_status {
	var pe *fs.PathError
	switch {
	case errors.Is(err, dllm.ErrInvalid):
		return C.DLLM_STATUS_INVALID_ARGUMENT
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, fs.ErrPermission), errors.As(err, &pe),
		errors.Is(err, dllm.ErrModelChanged):
		return C.DLLM_STATUS_IO
	case isUnsupported(err):
		return C.DLLM_STATUS_UNSUPPORTED
	}
	return C.DLLM_STATUS_FORMAT
}

// isUnsupported reports a valid model this library cannot run.
func isUnsupported(err error) bool {
	return errors.Is(err, errors.ErrUnsupported)
}

// errorStatus classifies an error from a call on a model or session.
func errorStatus(err error) C.dllm_status {
	switch {
	case errors.Is(err, dllm.ErrClosed):
		return C.DLLM_STATUS_CLOSED
	case errors.Is(err, dllm.ErrInvalid):
		return C.DLLM_STATUS_INVALID_ARGUMENT
	case errors.Is(err, dllm.ErrModelChanged):
		return C.DLLM_STATUS_IO
	}
	return C.DLLM_STATUS_FAILED
}

// generateStatus classifies the outcome of a generating call: errorStatus plus the ways
// only a generation ends.
func generateStatus(err error) C.dllm_status {
	switch {
	case err == nil:
		return C.DLLM_STATUS_OK
	case errors.Is(err, dllm.ErrStopped):
		return C.DLLM_STATUS_STOPPED
	case errors.Is(err, context.Canceled):
		return C.DLLM_STATUS_CANCELLED
	case errors.Is(err, dllm.ErrBusy):
		return C.DLLM_STATUS_BUSY
	case errors.Is(err, dllm.ErrNonFinite):
		return C.DLLM_STATUS_NON_FINITE
	}
	return errorStatus(err)
}
