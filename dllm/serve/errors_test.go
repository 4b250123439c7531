package serve

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestBadInput: every kind of bad request gets its status and an OpenAI error object
// naming what was wrong, and the server keeps answering.
func TestBadInput(t *testing.T) {
	_, hs, _ := newTestServer(t, Options{APIKey: "sesame", MaxBodyBytes: 64 << 10, ContextLength: 128})
	auth := []string{"Authorization", "Bearer sesame"}
	ok := user("What is 3+4?")
	long := strings.Repeat("Count from 3 to 9. ", 40)
	for _, c := range []struct {
		name   string
		path   string
		body   any
		header []string
		status int
		param  string
		says   string
	}{
		{"no API key", "/v1/chat/completions", map[string]any{"messages": ok}, nil, 401, "", "API key"},
		{"wrong API key", "/v1/chat/completions", map[string]any{"messages": ok}, []string{"Authorization", "Bearer open"}, 401, "", "API key"},
		{"key not as Bearer", "/v1/models", "", []string{"Authorization", "sesame"}, 401, "", "API key"},
		{"invalid JSON", "/v1/chat/completions", `{"messages": [`, auth, 400, "", "not valid JSON"},
		{"not an object", "/v1/chat/completions", `[1, 2]`, auth, 400, "", "JSON object"},
		{"empty body", "/v1/chat/completions", ``, auth, 400, "", "empty"},
		{"wrong type", "/v1/chat/completions", map[string]any{"messages": ok, "max_tokens": "ten"}, auth, 400, "max_tokens", "integer"},
		{"wrong content type", "/v1/chat/completions", map[string]any{"messages": []map[string]any{{"role": "user", "content": 7}}}, auth, 400, "", "string or an array"},
		{"image part", "/v1/chat/completions", map[string]any{"messages": []map[string]any{{"role": "user", "content": []map[string]any{{"type": "image_url"}}}}}, auth, 400, "", "image_url"},
		{"unknown model", "/v1/chat/completions", map[string]any{"model": "gpt-9", "messages": ok}, auth, 404, "model", "gpt-9"},
		{"n=2", "/v1/chat/completions", map[string]any{"messages": ok, "n": 2}, auth, 400, "n", "n must be 1"},
		{"no messages", "/v1/chat/completions", map[string]any{"messages": []any{}}, auth, 400, "messages", "at least one"},
		{"bad role", "/v1/chat/completions", map[string]any{"messages": []map[string]any{{"role": "wizard", "content": "hi"}}}, auth, 400, "messages[0].role", "wizard"},
		{"bad preset", "/v1/chat/completions", map[string]any{"messages": ok, "preset": "fastest"}, auth, 400, "preset", "fastest"},
		{"temperature out of range", "/v1/chat/completions", map[string]any{"messages": ok, "temperature": -1}, auth, 400, "temperature", "temperature"},
		{"top_p 0", "/v1/chat/completions", map[string]any{"messages": ok, "top_p": 0}, auth, 400, "top_p", "top_p"},
		{"block too long", "/v1/chat/completions", map[string]any{"messages": ok, "block_length": 4096}, auth, 400, "block_length", "block_length"},
		{"max_tokens 0", "/v1/chat/completions", map[string]any{"messages": ok, "max_tokens": 0}, auth, 400, "max_tokens", "at least 1"},
		{"max_tokens past the context", "/v1/chat/completions", map[string]any{"messages": ok, "max_tokens": 1000}, auth, 400, "max_tokens", "context"},
		{"prompt past the context", "/v1/chat/completions", map[string]any{"messages": user(long)}, auth, 400, "messages", "context of 128"},
		{"five stops", "/v1/chat/completions", map[string]any{"messages": ok, "stop": []string{"a", "b", "c", "d", "e"}}, auth, 400, "stop", "at most 4"},
		{"logprobs", "/v1/chat/completions", map[string]any{"messages": ok, "logprobs": true}, auth, 400, "logprobs", "not supported"},
		{"mask token in a raw prompt", "/v1/completions", map[string]any{"prompt": "a <|mask|> b"}, auth, 400, "", "mask"},
		{"prompt not a string", "/v1/completions", map[string]any{"prompt": []int{1, 2}}, auth, 400, "prompt", "string"},
		{"oversize body", "/v1/chat/completions", `{"messages": [{"role": "user", "content": "` + strings.Repeat("x", 70<<10) + `"}]}`, auth, 413, "", "limit of 65536"},
		{"unknown route", "/v1/embeddings", map[string]any{}, auth, 404, "", "no route"},
		{"wrong method", "/v1/models", map[string]any{}, auth, 405, "", "takes GET"},
		{"form from a browser", "/v1/chat/completions", map[string]any{"messages": ok}, append([]string{"Origin", "http://evil.example", "Content-Type", "text/plain"}, auth...), 415, "", "application/json"},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, body := post(t, hs.URL, c.path, c.body, c.header...)
			var e struct {
				Error struct {
					Message string  `json:"message"`
					Type    string  `json:"type"`
					Param   *string `json:"param"`
					Code    *string `json:"code"`
				} `json:"error"`
			}
			if err := json.Unmarshal(body, &e); err != nil || e.Error.Message == "" || e.Error.Type == "" {
				t.Fatalf("status %d, body %s: not an OpenAI error object (%v)", status, body, err)
			}
			param := ""
			if e.Error.Param != nil {
				param = *e.Error.Param
			}
			if status != c.status || param != c.param || !strings.Contains(e.Error.Message, c.says) {
				t.Errorf("status %d param %q message %q; want %d, %q, mentioning %q", status, param, e.Error.Message, c.status, c.param, c.says)
			}
			// The server still answers.
			status, body = post(t, hs.URL, "/v1/chat/completions", map[string]any{"messages": ok}, auth...)
			if status != 200 || decodeChat(t, body).Choices[0].Message.Content != "7" {
				t.Fatalf("after it: %d %s", status, body)
			}
		})
	}
}

// TestUnknownFieldsIgnored: fields the server does not know are ignored, as OpenAI
// servers do.
func TestUnknownFieldsIgnored(t *testing.T) {
	_, hs, _ := newTestServer(t, Options{})
	status, body := post(t, hs.URL, "/v1/chat/completions", map[string]any{
		"messages": user("What is 3+4?"), "frequency_penalty": 0, "user": "me", "metadata": map[string]any{"a": 1},
		"n": 1, "logprobs": false, "stop": nil,
	})
	if status != 200 || decodeChat(t, body).Choices[0].Message.Content != "7" {
		t.Errorf("%d %s", status, body)
	}
}

// TestCORS: no CORS headers unless an origin is allowed; then preflights are answered
// for it only.
func TestCORS(t *testing.T) {
	preflight := func(url, origin string) *http.Response {
		req, _ := http.NewRequest(http.MethodOptions, url+"/v1/chat/completions", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	_, closed, _ := newTestServer(t, Options{})
	if r := preflight(closed.URL, "http://app.example"); r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("CORS allowed without --cors: %v", r.Header)
	}
	_, open, _ := newTestServer(t, Options{CORSOrigin: "http://app.example"})
	if r := preflight(open.URL, "http://app.example"); r.StatusCode != 204 || r.Header.Get("Access-Control-Allow-Origin") != "http://app.example" ||
		!strings.Contains(r.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("preflight from the allowed origin: %d %v", r.StatusCode, r.Header)
	}
	if r := preflight(open.URL, "http://other.example"); r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("another origin allowed: %v", r.Header)
	}
}
