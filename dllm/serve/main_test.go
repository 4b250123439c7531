package serve

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dllm-go/dllm/dllm"
)

// newTestServer serves the demo model with o on a loopback listener.
func newTestServer(t *testing.T, o Options) (*Server, *httptest.Server, *dllm.Model) {
	t.Helper()
	m, err := dllm.Load(dllm.DemoModel, dllm.LoadOptions{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	if o.ModelID == "" {
		o.ModelID = "demo"
	}
	s, err := New(m, o)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(func() {
		hs.Close()
		s.Close()
		m.Close()
	})
	return s, hs, m
}

// post sends body as JSON and returns the status and the response body.
func post(t *testing.T, url, path string, body any, header ...string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(http.MethodPost, url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, out
}

// chatResponse is the part of a chat.completion the tests read.
type chatResponse struct {
	Object  string `json:"object"`
	Choices []struct {
		Message struct {
			Role, Content string
		} `json:"message"`
		Text         string `json:"text"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage usage `json:"usage"`
}

func decodeChat(t *testing.T, body []byte) chatResponse {
	t.Helper()
	var r chatResponse
	if err := json.Unmarshal(body, &r); err != nil || len(r.Choices) != 1 {
		t.Fatalf("response %s: %v", body, err)
	}
	return r
}

// sseEvent is one Server-Sent Event.
type sseEvent struct{ name, data string }

// readSSE parses a whole event stream.
func readSSE(t *testing.T, r io.Reader) []sseEvent {
	t.Helper()
	var out []sseEvent
	var cur sseEvent
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if cur.data != "" || cur.name != "" {
				out = append(out, cur)
			}
			cur = sseEvent{}
		case strings.HasPrefix(line, "event: "):
			cur.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			cur.data = strings.TrimPrefix(line, "data: ")
		default:
			t.Fatalf("unexpected SSE line %q", line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// goAnswer is what the Go API answers msgs with under o, for comparison.
func goAnswer(t *testing.T, m *dllm.Model, msgs []dllm.Message, o dllm.GenerateOptions) dllm.Result {
	t.Helper()
	s, err := m.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	res, err := s.GenerateChat(context.Background(), msgs, o)
	if err != nil {
		t.Fatal(err)
	}
	return res
}
