package main

/*
#include "callbacks.h"
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

// guard is deferred first by every export: it turns a panic into DLLM_STATUS_INTERNAL
// and poisons the library. st may be nil for exports without a status.
func guard(st *C.dllm_status) {
	if r := recover(); r != nil {
		poison(r)
		setLastError(poisonMessage())
		if st != nil {
			*st = C.DLLM_STATUS_INTERNAL
		}
	}
}

// checkPoison reports DLLM_STATUS_INTERNAL once the library is poisoned.
func checkPoison() (C.dllm_status, bool) {
	if poisoned.Load() {
		setLastError(poisonMessage())
		return C.DLLM_STATUS_INTERNAL, true
	}
	return C.DLLM_STATUS_OK, false
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

// generateStatus classifies an error from a generating call.
func generateStatus(err error) C.dllm_status {
	switch {
	case err == nil:
		return C.DLLM_STATUS_OK
	case errors.Is(err, dllm.ErrStopped):
		return C.DLLM_STATUS_STOPPED
	case errors.Is(err, context.Canceled):
		return C.DLLM_STATUS_CANCELLED
	case errors.Is(err, dllm.ErrClosed):
		return C.DLLM_STATUS_CLOSED
	case errors.Is(err, dllm.ErrBusy):
		return C.DLLM_STATUS_BUSY
	case errors.Is(err, dllm.ErrInvalid):
		return C.DLLM_STATUS_INVALID_ARGUMENT
	case errors.Is(err, dllm.ErrModelChanged):
		return C.DLLM_STATUS_IO
	case errors.Is(err, dllm.ErrNonFinite):
		return C.DLLM_STATUS_NON_FINITE
	}
	return C.DLLM_STATUS_FAILED
}
