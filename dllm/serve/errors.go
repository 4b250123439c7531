package serve

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// apiError is an error answered as an OpenAI error object:
// {"error": {"message", "type", "param", "code"}} with its HTTP status.
type apiError struct {
	Status  int     `json:"-"`
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
	// RetryAfter, in seconds, is sent as the Retry-After header when above 0.
	RetryAfter int `json:"-"`
}

func (e *apiError) Error() string { return e.Message }

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// badRequest is a 400 about one request field (param, "" for none).
func badRequest(param, format string, args ...any) *apiError {
	return &apiError{Status: http.StatusBadRequest, Type: "invalid_request_error",
		Message: fmt.Sprintf(format, args...), Param: strPtr(param)}
}

func withCode(e *apiError, code string) *apiError {
	e.Code = strPtr(code)
	return e
}

var (
	errUnauthorized = &apiError{Status: http.StatusUnauthorized, Type: "invalid_request_error",
		Message: "missing or wrong API key: send it as the header Authorization: Bearer KEY",
		Code:    strPtr("invalid_api_key")}
	errQueueFull = &apiError{Status: http.StatusServiceUnavailable, Type: "server_error",
		Message: "the server is busy: every session is generating and the queue is full; retry later",
		Code:    strPtr("server_busy"), RetryAfter: 1}
	errShuttingDown = &apiError{Status: http.StatusServiceUnavailable, Type: "server_error",
		Message: "the server is shutting down", Code: strPtr("shutting_down")}
	errTimeout = &apiError{Status: http.StatusGatewayTimeout, Type: "timeout_error",
		Message: "the request ran past the server's per-request time limit", Code: strPtr("timeout")}
)

// errorJSON is the body of an error response and of a mid-stream error event.
func errorJSON(e *apiError) []byte {
	b, _ := json.Marshal(struct {
		Error *apiError `json:"error"`
	}{e})
	return b
}

// writeError answers err as an OpenAI error object; an error that is not an apiError is
// a 500 whose message is the error's text.
func writeError(w http.ResponseWriter, err error) {
	var e *apiError
	if !errors.As(err, &e) {
		e = &apiError{Status: http.StatusInternalServerError, Type: "server_error", Message: err.Error()}
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	w.Write(append(errorJSON(e), '\n'))
}
