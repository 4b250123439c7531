// Package serve is an OpenAI-compatible HTTP API over a loaded dllm model, with a web
// page that shows blocks denoising live. New returns an http.Handler that a program
// mounts in its own mux or serves on its own http.Server; `dllm serve` is that, behind
// flags.
//
// Routes: POST /v1/chat/completions, POST /v1/completions, GET /v1/models,
// GET /v1/models/{id}, GET /health, and the page at GET /. Request and response bodies
// have the shapes of the OpenAI API; dllm's own decoding knobs (preset, block_length,
// steps, threshold, edit_threshold, eos_early_stop, top_k, and for LLaDA, LLaDA-MoE,
// Dream and RND1 algorithm, cfg_scale, eps, alg_temp, eb_gamma) go in the same body, and
// a streaming request with "dllm": {"steps": true} also receives one "dllm.step" event
// per forward pass and a "dllm.stats" event at the end. For those families a request
// without a preset takes the family's defaults ((*dllm.Model).DefaultOptions), and a
// dllm.step event shows the whole generated region as block 0, its step counting the
// generation's steps. The README's "Serve it" section documents the whole surface.
package serve

import (
	"context"
	"crypto/subtle"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dllm-go/dllm/dllm"
)

// Defaults that a zero Options field takes.
const (
	DefaultMaxQueue       = 64
	DefaultMaxBodyBytes   = 4 << 20
	DefaultRequestTimeout = 10 * time.Minute
)

// Options configures a Server. The zero value serves one session with a queue of 64, a
// 4 MiB body limit and a 10-minute limit per request, without authentication or CORS.
type Options struct {
	// ModelID is the model's name in /v1/models and responses; requests naming another
	// model get 404. "" means "dllm". A request with no model is served too.
	ModelID string
	// Parallel is how many requests generate at once, each on a session (KV cache) of
	// its own; 0 means 1.
	Parallel int
	// MaxQueue is how many requests may wait for a session; beyond it a request gets
	// 503 with Retry-After. 0 means DefaultMaxQueue; negative means no queue.
	MaxQueue int
	// ContextLength caps prompt plus generation per request, in tokens; 0 means the
	// model's context length. A longer prompt gets 400 naming the limit.
	ContextLength int
	// APIKey, when set, is required on every /v1 route as "Authorization: Bearer KEY".
	APIKey string
	// CORSOrigin, when set, lets pages from that origin ("*" for any) call the API from
	// a browser. Unset, no CORS headers are sent.
	CORSOrigin string
	// MaxBodyBytes bounds a request body (413 beyond it); 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// RequestTimeout bounds one request, queueing included (504 when it runs out);
	// 0 means DefaultRequestTimeout.
	RequestTimeout time.Duration
	// Logger, if set, receives one line per request.
	Logger *slog.Logger
}

// Server answers the API for one model. It is an http.Handler.
type Server struct {
	m       *dllm.Model
	o       Options
	pool    *pool
	ctxLen  int
	created int64
	mux     map[string]route

	active    atomic.Int64
	closeOnce sync.Once
	// finished, if set (by tests), sees how every generation ended.
	finished func(dllm.Result, error)
}

// route is one path's handler, the method it takes, and whether it needs the API key.
type route struct {
	method string
	auth   bool
	fn     func(http.ResponseWriter, *http.Request) error
}

//go:embed web
var webFiles embed.FS

// New makes a Server over m with o.Parallel sessions. The model stays the caller's:
// close the Server, then the model.
func New(m *dllm.Model, o Options) (*Server, error) {
	if m == nil {
		return nil, fmt.Errorf("serve: nil model: %w", dllm.ErrInvalid)
	}
	switch {
	case o.Parallel < 0:
		return nil, fmt.Errorf("serve: Parallel must not be negative, got %d: %w", o.Parallel, dllm.ErrInvalid)
	case o.ContextLength < 0:
		return nil, fmt.Errorf("serve: ContextLength must not be negative, got %d: %w", o.ContextLength, dllm.ErrInvalid)
	case o.MaxBodyBytes < 0 || o.RequestTimeout < 0:
		return nil, fmt.Errorf("serve: MaxBodyBytes and RequestTimeout must not be negative: %w", dllm.ErrInvalid)
	}
	if o.ModelID == "" {
		o.ModelID = "dllm"
	}
	if o.Parallel == 0 {
		o.Parallel = 1
	}
	switch {
	case o.MaxQueue == 0:
		o.MaxQueue = DefaultMaxQueue
	case o.MaxQueue < 0:
		o.MaxQueue = 0
	}
	if o.MaxBodyBytes == 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.RequestTimeout == 0 {
		o.RequestTimeout = DefaultRequestTimeout
	}
	ctxLen := m.Info().ContextLength
	if o.ContextLength > 0 && o.ContextLength < ctxLen {
		ctxLen = o.ContextLength
	}
	p, err := newPool(m, o.Parallel, o.MaxQueue)
	if err != nil {
		return nil, err
	}
	s := &Server{m: m, o: o, pool: p, ctxLen: ctxLen, created: time.Now().Unix()}
	s.mux = map[string]route{
		"/":                    {http.MethodGet, false, s.page},
		"/health":              {http.MethodGet, false, s.health},
		"/v1/models":           {http.MethodGet, true, s.models},
		"/v1/chat/completions": {http.MethodPost, true, s.chat},
		"/v1/completions":      {http.MethodPost, true, s.completions},
	}
	return s, nil
}

// Close cancels the generations in progress (their requests end with an error) and
// turns away queued and new requests. It does not close the model.
func (s *Server) Close() error {
	s.closeOnce.Do(s.pool.close)
	return nil
}

// Active returns how many requests are being served, queued ones included.
func (s *Server) Active() int { return int(s.active.Load()) }

// ServeHTTP routes a request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.active.Add(1)
	defer s.active.Add(-1)
	start := time.Now()
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	err := s.route(rec, r)
	if err != nil && !rec.wrote {
		writeError(rec, err)
	}
	if l := s.o.Logger; l != nil {
		attrs := []any{"method", r.Method, "path", r.URL.Path, "status", rec.status, "duration", time.Since(start).Round(time.Millisecond)}
		if err != nil {
			attrs = append(attrs, "error", err.Error())
		}
		l.Info("request", attrs...)
	}
}

func (s *Server) route(w *recorder, r *http.Request) error {
	path := r.URL.Path
	rt, ok := s.mux[path]
	if !ok && strings.HasPrefix(path, "/v1/models/") {
		rt, ok = route{http.MethodGet, true, s.model}, true
	}
	if s.o.CORSOrigin != "" && s.cors(w, r) {
		return nil // a preflight, answered
	}
	if (ok && rt.auth) || strings.HasPrefix(path, "/v1/") {
		if !s.authorized(r) {
			return errUnauthorized
		}
	}
	if !ok {
		return withCode(&apiError{Status: http.StatusNotFound, Type: "invalid_request_error",
			Message: fmt.Sprintf("no route %s %s", r.Method, path)}, "not_found")
	}
	if r.Method != rt.method && !(rt.method == http.MethodGet && r.Method == http.MethodHead) {
		w.Header().Set("Allow", rt.method)
		return withCode(&apiError{Status: http.StatusMethodNotAllowed, Type: "invalid_request_error",
			Message: fmt.Sprintf("%s takes %s, not %s", path, rt.method, r.Method)}, "method_not_allowed")
	}
	return rt.fn(w, r)
}

func (s *Server) authorized(r *http.Request) bool {
	if s.o.APIKey == "" {
		return true
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(token), []byte(s.o.APIKey)) == 1
}

// cors adds the CORS headers for an allowed origin and reports whether r was a
// preflight, which it answers.
func (s *Server) cors(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || (s.o.CORSOrigin != "*" && origin != s.o.CORSOrigin) {
		return false
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", s.o.CORSOrigin)
	h.Add("Vary", "Origin")
	if r.Method != http.MethodOptions || r.Header.Get("Access-Control-Request-Method") == "" {
		return false
	}
	h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
	return true
}

func (s *Server) page(w http.ResponseWriter, r *http.Request) error {
	b, err := webFiles.ReadFile("web/index.html")
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; connect-src 'self'; base-uri 'none'; form-action 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	w.Write(b)
	return nil
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, map[string]any{"status": "ok", "model": s.o.ModelID, "queued": s.pool.waiting()})
	return nil
}

// modelObject is an entry of /v1/models.
type modelObject struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

func (s *Server) modelObject() modelObject {
	return modelObject{ID: s.o.ModelID, Object: "model", Created: s.created, OwnedBy: "dllm"}
}

func (s *Server) models(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, map[string]any{"object": "list", "data": []modelObject{s.modelObject()}})
	return nil
}

func (s *Server) model(w http.ResponseWriter, r *http.Request) error {
	if err := s.checkModel(strings.TrimPrefix(r.URL.Path, "/v1/models/")); err != nil {
		return err
	}
	writeJSON(w, s.modelObject())
	return nil
}

// checkModel accepts the served model's id, or none.
func (s *Server) checkModel(id string) error {
	if id == "" || id == s.o.ModelID {
		return nil
	}
	return withCode(&apiError{Status: http.StatusNotFound, Type: "invalid_request_error", Param: strPtr("model"),
		Message: fmt.Sprintf("the model %q does not exist; this server serves %q", id, s.o.ModelID)}, "model_not_found")
}

// recorder remembers the status and whether anything was written, for the log and so
// that an error after the response began is not written over it.
type recorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (flushing streams).
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// isCancel reports whether err comes from a cancelled or expired context.
func isCancel(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
