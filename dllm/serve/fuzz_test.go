package serve

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dllm-go/dllm/dllm"
)

// FuzzRequest: any body on any generation route gets a response, never a panic or a
// hang; a failure is an OpenAI error object with a 4xx status.
func FuzzRequest(f *testing.F) {
	for _, seed := range []string{
		`{"messages":[{"role":"user","content":"What is 3+4?"}]}`,
		`{"messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],"stream":true,"dllm":{"steps":true}}`,
		`{"prompt":"a","max_tokens":3,"stop":["x","y"],"temperature":0.5,"seed":-1}`,
		`{"prompt":["a"],"preset":"speed","edit_threshold":0.2,"block_length":8,"steps":2}`,
		`{"messages":[{"role":"user","content":null}],"n":1,"logprobs":null,"top_p":1e-300}`,
		`{"messages":[],"max_tokens":-1}`, `[]`, `null`, `"x"`, `{"messages":[{"role":"user","content":"\u0000"}]}`,
	} {
		f.Add("/v1/chat/completions", seed)
		f.Add("/v1/completions", seed)
	}
	m, err := dllm.Load(dllm.DemoModel, dllm.LoadOptions{Threads: 1})
	if err != nil {
		f.Fatal(err)
	}
	defer m.Close()
	s, err := New(m, Options{ContextLength: 256, MaxBodyBytes: 4096})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	f.Fuzz(func(t *testing.T, path, body string) {
		if path != "/v1/chat/completions" && path != "/v1/completions" {
			path = "/v1/chat/completions"
		}
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		switch {
		case rec.Code == http.StatusOK:
		case rec.Code >= 400 && rec.Code < 500:
			var e struct {
				Error struct{ Message, Type string } `json:"error"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error.Message == "" {
				t.Fatalf("status %d with body %q", rec.Code, rec.Body.String())
			}
		default:
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body.String())
		}
	})
}
