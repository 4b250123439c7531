package serve

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/dllm-go/dllm/dllm"
)

func user(text string) []map[string]any {
	return []map[string]any{{"role": "user", "content": text}}
}

// TestChatEqualsGoAPI: the server's answers are the Go API's for the same options, for
// each way of asking (fields, presets, sampling).
func TestChatEqualsGoAPI(t *testing.T) {
	_, hs, m := newTestServer(t, Options{})
	q := "Count from 3 to 9."
	msgs := []dllm.Message{{Role: "user", Content: q}}
	quality := dllm.QualityOptions()
	sampled := dllm.DefaultOptions()
	sampled.Temperature, sampled.TopP, sampled.Seed = 0.9, 0.95, 7
	t07 := dllm.DefaultOptions()
	t07.Threshold, t07.MaxTokens = 0.7, 40
	for _, c := range []struct {
		name string
		body map[string]any
		want dllm.GenerateOptions
	}{
		{"defaults", map[string]any{}, dllm.DefaultOptions()},
		{"quality preset", map[string]any{"preset": "quality"}, quality},
		{"sampling", map[string]any{"temperature": 0.9, "top_p": 0.95, "seed": 7}, sampled},
		{"threshold and max_tokens", map[string]any{"threshold": 0.7, "max_tokens": 40}, t07},
		{"max_completion_tokens", map[string]any{"threshold": 0.7, "max_completion_tokens": 40, "max_tokens": 9}, t07},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.body["model"], c.body["messages"] = "demo", user(q)
			want := goAnswer(t, m, msgs, c.want)
			status, body := post(t, hs.URL, "/v1/chat/completions", c.body)
			if status != http.StatusOK {
				t.Fatalf("status %d: %s", status, body)
			}
			r := decodeChat(t, body)
			if got := r.Choices[0].Message.Content; got != want.Text {
				t.Errorf("server %q, Go API %q", got, want.Text)
			}
			if r.Object != "chat.completion" || r.Choices[0].Message.Role != "assistant" {
				t.Errorf("response %s", body)
			}
			if u := r.Usage; u.PromptTokens != want.Stats.PromptTokens || u.CompletionTokens != len(want.Tokens) || u.TotalTokens != u.PromptTokens+u.CompletionTokens {
				t.Errorf("usage %+v, Go API %d prompt + %d tokens", u, want.Stats.PromptTokens, len(want.Tokens))
			}
		})
	}
}

// TestAnswers: the demo model's answer to the README's question, through both endpoints.
func TestAnswers(t *testing.T) {
	_, hs, _ := newTestServer(t, Options{})
	status, body := post(t, hs.URL, "/v1/chat/completions", map[string]any{"model": "demo", "messages": user("What is 3+4?")})
	if r := decodeChat(t, body); status != 200 || r.Choices[0].Message.Content != "7" || r.Choices[0].FinishReason != "stop" {
		t.Errorf("chat: %d %s", status, body)
	}
	// The raw prompt of the same question, in the chat format, through /v1/completions.
	prompt := "<role>HUMAN</role>What is 3+4?<|role_end|><role>ASSISTANT</role>"
	status, body = post(t, hs.URL, "/v1/completions", map[string]any{"model": "demo", "prompt": prompt})
	if r := decodeChat(t, body); status != 200 || r.Object != "text_completion" || r.Choices[0].Text != "7" {
		t.Errorf("completions: %d %s", status, body)
	}
}

// TestStreamEqualsWhole: the streamed text, chunk by chunk, is the whole answer; the
// stream is a plain OpenAI stream unless steps were asked for.
func TestStreamEqualsWhole(t *testing.T) {
	_, hs, _ := newTestServer(t, Options{})
	for _, q := range []string{"Count from 3 to 9.", "Reverse: t w y p k", "What is the capital of France?"} {
		for _, steps := range []bool{false, true} {
			req := map[string]any{"messages": user(q), "threshold": 0.8}
			_, body := post(t, hs.URL, "/v1/chat/completions", req)
			whole := decodeChat(t, body)
			req["stream"], req["stream_options"] = true, map[string]any{"include_usage": true}
			if steps {
				req["dllm"] = map[string]any{"steps": true}
			}
			status, body := post(t, hs.URL, "/v1/chat/completions", req)
			if status != 200 {
				t.Fatalf("status %d: %s", status, body)
			}
			evs := readSSE(t, strings.NewReader(string(body)))
			var text strings.Builder
			var finish string
			var u *usage
			stepEvents, stats := 0, 0
			for i, ev := range evs {
				switch {
				case ev.name == "dllm.step":
					stepEvents++
					var se stepEvent
					if err := json.Unmarshal([]byte(ev.data), &se); err != nil || len(se.Cells) != 32 {
						t.Fatalf("step event %s: %v", ev.data, err)
					}
					continue
				case ev.name == "dllm.stats":
					stats++
					continue
				case ev.name != "":
					t.Fatalf("event %q in the stream", ev.name)
				case ev.data == "[DONE]":
					if i != len(evs)-1 {
						t.Errorf("[DONE] is event %d of %d", i, len(evs))
					}
					continue
				}
				var c struct {
					Object  string `json:"object"`
					Choices []struct {
						Delta        struct{ Role, Content string } `json:"delta"`
						FinishReason *string                        `json:"finish_reason"`
					} `json:"choices"`
					Usage *usage `json:"usage"`
				}
				if err := json.Unmarshal([]byte(ev.data), &c); err != nil || c.Object != "chat.completion.chunk" {
					t.Fatalf("chunk %s: %v", ev.data, err)
				}
				if c.Usage != nil {
					u = c.Usage
					continue
				}
				if i == 0 && c.Choices[0].Delta.Role != "assistant" {
					t.Errorf("first chunk %s has no assistant role", ev.data)
				}
				text.WriteString(c.Choices[0].Delta.Content)
				if f := c.Choices[0].FinishReason; f != nil {
					finish = *f
				}
			}
			if text.String() != whole.Choices[0].Message.Content || finish != whole.Choices[0].FinishReason {
				t.Errorf("%q steps=%v: streamed %q (%s), whole %q (%s)", q, steps, text.String(), finish, whole.Choices[0].Message.Content, whole.Choices[0].FinishReason)
			}
			if u != nil {
				u.PromptTokensDetails = whole.Usage.PromptTokensDetails // the cache differs: the whole request filled it
			}
			if u == nil || *u != whole.Usage {
				t.Errorf("%q: stream usage %+v, whole %+v", q, u, whole.Usage)
			}
			if steps != (stepEvents > 0) || steps != (stats == 1) {
				t.Errorf("%q steps=%v: %d step events, %d stats events", q, steps, stepEvents, stats)
			}
		}
	}
}

// TestStepEventsDrawTheBlock: the step events of a generation replay it: each block's
// cells go from masked to filled, and the committed text is the answer.
func TestStepEventsDrawTheBlock(t *testing.T) {
	_, hs, m := newTestServer(t, Options{})
	q := "Repeat: big fish sad hot" // six forwards for two blocks
	want := goAnswer(t, m, []dllm.Message{{Role: "user", Content: q}}, dllm.DefaultOptions())
	_, body := post(t, hs.URL, "/v1/chat/completions", map[string]any{"messages": user(q), "stream": true, "dllm": map[string]any{"steps": true}})
	var steps []stepEvent
	for _, ev := range readSSE(t, strings.NewReader(string(body))) {
		if ev.name == "dllm.step" {
			var se stepEvent
			if err := json.Unmarshal([]byte(ev.data), &se); err != nil {
				t.Fatal(err)
			}
			steps = append(steps, se)
		}
	}
	if len(steps) != want.Stats.Forwards {
		t.Fatalf("%d step events, %d forwards", len(steps), want.Stats.Forwards)
	}
	masked := 0
	for i, se := range steps {
		if se.Forward != i+1 {
			t.Errorf("event %d numbered %d", i, se.Forward)
		}
		n := 0
		for _, c := range se.Cells {
			switch c.State {
			case "masked":
				masked++
			case "new":
				n++
			}
		}
		if n != se.Committed {
			t.Errorf("event %d: %d new cells, committed %d", i, n, se.Committed)
		}
	}
	if masked == 0 {
		t.Errorf("no masked cell in any of %d frames: nothing to watch denoise", len(steps))
	}
	// The last frame of each block shows it final.
	var text strings.Builder
	for i, se := range steps {
		if i+1 < len(steps) && steps[i+1].Block == se.Block {
			continue
		}
		for _, c := range se.Cells {
			if c.State != "prompt" {
				text.WriteString(c.Text)
			}
		}
	}
	if text.String() != want.Text {
		t.Errorf("last frame reads %q, answer %q", text.String(), want.Text)
	}
}

// TestStopStrings: output ends before the first stop string, which is never sent, even
// across chunk boundaries.
func TestStopStrings(t *testing.T) {
	_, hs, m := newTestServer(t, Options{})
	q := "Count from 3 to 9."
	full := goAnswer(t, m, []dllm.Message{{Role: "user", Content: q}}, dllm.DefaultOptions()).Text
	if full != "3 4 5 6 7 8 9" {
		t.Fatalf("the demo counts %q", full)
	}
	for _, c := range []struct {
		stop any
		want string
	}{
		{"6", "3 4 5 "},
		{[]string{"8 9", " 5"}, "3 4"},
		{[]string{"x", "7 9"}, full},
	} {
		for _, stream := range []bool{false, true} {
			status, body := post(t, hs.URL, "/v1/chat/completions", map[string]any{"messages": user(q), "stop": c.stop, "stream": stream})
			if status != 200 {
				t.Fatalf("status %d: %s", status, body)
			}
			got := string(body)
			if stream {
				var sb strings.Builder
				for _, ev := range readSSE(t, strings.NewReader(got)) {
					var ch struct {
						Choices []struct{ Delta struct{ Content string } } `json:"choices"`
					}
					if ev.data != "[DONE]" && json.Unmarshal([]byte(ev.data), &ch) == nil && len(ch.Choices) > 0 {
						sb.WriteString(ch.Choices[0].Delta.Content)
					}
				}
				got = sb.String()
			} else {
				got = decodeChat(t, body).Choices[0].Message.Content
			}
			if got != c.want {
				t.Errorf("stop %v stream=%v: %q, want %q", c.stop, stream, got, c.want)
			}
		}
	}
}

func TestStopMatcher(t *testing.T) {
	m := &stopMatcher{stops: []string{"abc", "bd"}}
	var out strings.Builder
	for _, d := range []string{"xa", "b", "b", "dzz"} {
		out.WriteString(m.add(d))
	}
	if out.String() != "xab" || !m.hit {
		t.Errorf("%q hit=%v, want \"xab\" cut at bd", out.String(), m.hit)
	}
	m = &stopMatcher{stops: []string{"abc"}}
	if got := m.add("zab"); got != "z" {
		t.Errorf("held back %q", got)
	}
	if got := m.add("x") + m.flush(); got != "abx" {
		t.Errorf("released %q", got)
	}
}

// TestModelsAndHealth: the model list, one model, health; the page at /.
func TestModelsAndHealth(t *testing.T) {
	_, hs, _ := newTestServer(t, Options{})
	get := func(path string) (int, string, http.Header) {
		resp, err := http.Get(hs.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	if st, b, _ := get("/v1/models"); st != 200 || !strings.Contains(b, `"id":"demo"`) || !strings.Contains(b, `"object":"list"`) {
		t.Errorf("/v1/models: %d %s", st, b)
	}
	if st, b, _ := get("/v1/models/demo"); st != 200 || !strings.Contains(b, `"object":"model"`) {
		t.Errorf("/v1/models/demo: %d %s", st, b)
	}
	if st, b, _ := get("/health"); st != 200 || !strings.Contains(b, `"status":"ok"`) {
		t.Errorf("/health: %d %s", st, b)
	}
	if st, b, h := get("/"); st != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/html") || !strings.Contains(b, "<html") && !strings.Contains(b, "<!doctype html") {
		t.Errorf("/: %d %s %q", st, h.Get("Content-Type"), b[:min(len(b), 80)])
	}
}
