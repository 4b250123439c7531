package main

/*
#include "private.h"
*/
import "C"

import (
	"context"
	"sync"
	"unsafe"

	"github.com/dllm-go/dllm/dllm"
)

// The handle tables. C holds boxes (C memory) containing an id; ids index these maps.
// Ids start at an arbitrary large offset and are never reused, so a stale or forged id
// is found missing instead of naming another object.
var table = struct {
	mu       sync.Mutex
	next     uint64
	models   map[uint64]*modelHandle
	sessions map[uint64]*sessionHandle
}{
	next:     0x1d11_0000_0000,
	models:   map[uint64]*modelHandle{},
	sessions: map[uint64]*sessionHandle{},
}

// errorSlot keeps the message of the last failed call on one object.
type errorSlot struct {
	mu  sync.Mutex
	msg string
}

func (e *errorSlot) set(msg string) {
	e.mu.Lock()
	e.msg = msg
	e.mu.Unlock()
}

func (e *errorSlot) get() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.msg
}

// A modelHandle is reference counted: its box holds one reference and every call in
// flight on the model or on one of its sessions holds one. The Go model (and any
// session still open) is closed when the count drops to zero, so dllm_model_free never
// waits for, nor pulls the weights from under, a generation running in another thread.
type modelHandle struct {
	errs errorSlot
	m    *dllm.Model
	info dllm.ModelInfo

	// Guarded by table.mu.
	refs     int
	freed    bool // dllm_model_free was called
	sessions map[*sessionHandle]struct{}
}

// A sessionHandle is reference counted like a model; busy marks the one call a session
// serves at a time, and cancel cancels it.
type sessionHandle struct {
	errs  errorSlot
	model *modelHandle
	s     *dllm.Session

	// Guarded by table.mu.
	refs     int
	freed    bool // dllm_session_free was called
	goClosed bool // s.Close has been scheduled
	busy     bool
	cancel   context.CancelFunc
}

// closers collects Close calls to run once table.mu is released.
type closers []func()

func (c closers) run() {
	for _, f := range c {
		f()
	}
}

func (h *modelHandle) releaseLocked(c *closers) {
	h.refs--
	if h.refs > 0 {
		return
	}
	for sh := range h.sessions {
		if !sh.goClosed {
			sh.goClosed = true
			*c = append(*c, func() { sh.s.Close() })
		}
	}
	h.sessions = nil
	m := h.m
	*c = append(*c, func() { m.Close() })
}

func (h *sessionHandle) releaseLocked(c *closers) {
	h.refs--
	if h.refs > 0 || h.goClosed {
		return
	}
	h.goClosed = true
	delete(h.model.sessions, h)
	s := h.s
	*c = append(*c, func() { s.Close() })
}

func newModelBox(h *modelHandle) *C.dllm_model {
	box := (*C.dllm_model)(C.malloc(C.sizeof_struct_dllm_model))
	table.mu.Lock()
	id := table.next
	table.next++
	h.refs = 1
	h.sessions = map[*sessionHandle]struct{}{}
	table.models[id] = h
	table.mu.Unlock()
	box.handle = C.uint64_t(id)
	return box
}

func newSessionBox(h *sessionHandle) *C.dllm_session {
	box := (*C.dllm_session)(C.malloc(C.sizeof_struct_dllm_session))
	table.mu.Lock()
	id := table.next
	table.next++
	h.refs = 1
	h.model.sessions[h] = struct{}{}
	table.sessions[id] = h
	table.mu.Unlock()
	box.handle = C.uint64_t(id)
	return box
}

// lookupModel returns the live model behind a box, or nil.
func lookupModel(box *C.dllm_model) *modelHandle {
	if box == nil {
		return nil
	}
	table.mu.Lock()
	defer table.mu.Unlock()
	return table.models[uint64(box.handle)]
}

func lookupSession(box *C.dllm_session) *sessionHandle {
	if box == nil {
		return nil
	}
	table.mu.Lock()
	defer table.mu.Unlock()
	return table.sessions[uint64(box.handle)]
}

// acquireModel takes a reference on a live model for the duration of a call.
func acquireModel(box *C.dllm_model) (*modelHandle, C.dllm_status, string) {
	if box == nil {
		return nil, C.DLLM_STATUS_INVALID_ARGUMENT, "model is NULL"
	}
	table.mu.Lock()
	defer table.mu.Unlock()
	h := table.models[uint64(box.handle)]
	if h == nil || h.freed {
		return nil, C.DLLM_STATUS_INVALID_ARGUMENT, "invalid model (never created)"
	}
	h.refs++
	return h, C.DLLM_STATUS_OK, ""
}

func (h *modelHandle) release() {
	var c closers
	table.mu.Lock()
	h.releaseLocked(&c)
	table.mu.Unlock()
	c.run()
}

// acquireSession makes the session busy with one call and takes references on it and
// its model. ctx is cancelled by dllm_session_cancel and by freeing either object.
func acquireSession(box *C.dllm_session) (*sessionHandle, context.Context, C.dllm_status, string) {
	if box == nil {
		return nil, nil, C.DLLM_STATUS_INVALID_ARGUMENT, invalidSession(box)
	}
	table.mu.Lock()
	defer table.mu.Unlock()
	h := table.sessions[uint64(box.handle)]
	switch {
	case h == nil || h.freed:
		return nil, nil, C.DLLM_STATUS_INVALID_ARGUMENT, invalidSession(box)
	case h.model.freed || h.goClosed:
		return h, nil, C.DLLM_STATUS_CLOSED, "the session's model was freed"
	case h.busy:
		return h, nil, C.DLLM_STATUS_BUSY, "the session is serving another call"
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.busy, h.cancel = true, cancel
	h.refs++
	h.model.refs++
	return h, ctx, C.DLLM_STATUS_OK, ""
}

// invalidSession explains a box that names no session. (A freed box is freed memory:
// only a box never created, or overwritten, gets here.)
func invalidSession(box *C.dllm_session) string {
	if box == nil {
		return "session is NULL"
	}
	return "invalid session (never created)"
}

// cancelSession cancels the call the session serves, if any; false when box names no
// session.
func cancelSession(box *C.dllm_session) bool {
	if box == nil {
		return false
	}
	table.mu.Lock()
	defer table.mu.Unlock()
	h := table.sessions[uint64(box.handle)]
	if h != nil && h.cancel != nil {
		h.cancel()
	}
	return h != nil
}

func (h *sessionHandle) release() {
	var c closers
	table.mu.Lock()
	h.busy = false
	if h.cancel != nil {
		h.cancel()
		h.cancel = nil
	}
	m := h.model
	h.releaseLocked(&c)
	m.releaseLocked(&c)
	table.mu.Unlock()
	c.run()
}

func freeModelBox(box *C.dllm_model) {
	if box == nil {
		return
	}
	var c closers
	table.mu.Lock()
	id := uint64(box.handle)
	h := table.models[id]
	delete(table.models, id)
	if h != nil && !h.freed {
		h.freed = true
		for sh := range h.sessions {
			if sh.cancel != nil {
				sh.cancel()
			}
		}
		h.releaseLocked(&c)
	}
	table.mu.Unlock()
	box.handle = 0
	C.free(unsafe.Pointer(box))
	if !poisoned.Load() {
		c.run()
	}
}

func freeSessionBox(box *C.dllm_session) {
	if box == nil {
		return
	}
	var c closers
	table.mu.Lock()
	id := uint64(box.handle)
	h := table.sessions[id]
	delete(table.sessions, id)
	if h != nil && !h.freed {
		h.freed = true
		if h.cancel != nil {
			h.cancel()
		}
		h.releaseLocked(&c)
	}
	table.mu.Unlock()
	box.handle = 0
	C.free(unsafe.Pointer(box))
	if !poisoned.Load() {
		c.run()
	}
}
