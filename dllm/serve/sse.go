package serve

import (
	"encoding/json"
	"net/http"
)

// sseWriter writes Server-Sent Events and flushes each one, so a client sees it at once.
// After a failed write (the client went away) it writes nothing more and ok is false.
type sseWriter struct {
	w  http.ResponseWriter
	rc *http.ResponseController
	ok bool
}

func newSSE(w http.ResponseWriter) *sseWriter {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // let reverse proxies pass events through unbuffered
	w.WriteHeader(http.StatusOK)
	s := &sseWriter{w: w, rc: http.NewResponseController(w), ok: true}
	s.flush()
	return s
}

// data sends one unnamed event whose data is v as JSON.
func (s *sseWriter) data(v any) bool { return s.event("", v) }

// event sends one event; name "" leaves it unnamed (the OpenAI stream's kind).
func (s *sseWriter) event(name string, v any) bool {
	b, err := json.Marshal(v)
	if err != nil {
		return false
	}
	return s.raw(name, b)
}

func (s *sseWriter) raw(name string, data []byte) bool {
	if !s.ok {
		return false
	}
	var buf []byte
	if name != "" {
		buf = append(append(append(buf, "event: "...), name...), '\n')
	}
	buf = append(append(append(buf, "data: "...), data...), "\n\n"...)
	if _, err := s.w.Write(buf); err != nil {
		s.ok = false
		return false
	}
	return s.flush()
}

func (s *sseWriter) flush() bool {
	if err := s.rc.Flush(); err != nil {
		s.ok = false
	}
	return s.ok
}

// done ends an OpenAI stream.
func (s *sseWriter) done() { s.raw("", []byte("[DONE]")) }
