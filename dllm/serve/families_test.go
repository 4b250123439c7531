package serve

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dllm-go/dllm/dllm"
)

// serveFamily serves a family fixture (testdata/families/<path>).
func serveFamily(t *testing.T, path string) (*httptest.Server, *dllm.Model) {
	t.Helper()
	m, err := dllm.Load(filepath.Join("../../testdata/families", path), dllm.LoadOptions{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(m, Options{ModelID: "family"})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(func() {
		hs.Close()
		s.Close()
		m.Close()
	})
	return hs, m
}

// TestFamilyChatReproducesGolden: a streaming chat request to a LLaDA server with the
// golden's options (steps, block_length) answers the official code's output, one
// dllm.step event per forward, each showing the whole generated region as block 0,
// the last one reading the answer.
func TestFamilyChatReproducesGolden(t *testing.T) {
	hs, m := serveFamily(t, "llada/hf")
	raw, err := os.ReadFile("../../testdata/families/llada/golden/gen_lowconf_b8_s16.json")
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		PromptMessages []dllm.Message `json:"prompt_messages"`
		PromptIDs      []int32        `json:"prompt_ids"`
		OutputIDs      []int32        `json:"output_ids"`
		Forwards       int            `json:"forwards"`
	}
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	if ids, err := m.Tokenizer().EncodeChat(g.PromptMessages, true); err != nil || !slices.Equal(ids, g.PromptIDs) {
		t.Fatalf("the chat template renders %v (%v), the golden's prompt is %v", ids, err, g.PromptIDs)
	}
	want := m.Tokenizer().DecodeSkipSpecial(g.OutputIDs)
	body := map[string]any{"messages": g.PromptMessages, "max_tokens": 32, "steps": 16, "block_length": 8}
	code, out := post(t, hs.URL, "/v1/chat/completions", body)
	var whole chatResponse
	if err := json.Unmarshal(out, &whole); code != http.StatusOK || err != nil {
		t.Fatalf("%d %s", code, out)
	}
	if got := whole.Choices[0].Message.Content; got != want {
		t.Errorf("answer %q, golden %q", got, want)
	}

	body["stream"], body["dllm"] = true, map[string]any{"steps": true}
	_, out = post(t, hs.URL, "/v1/chat/completions", body)
	var steps []stepEvent
	for _, ev := range readSSE(t, strings.NewReader(string(out))) {
		if ev.name == "dllm.step" {
			var se stepEvent
			if err := json.Unmarshal([]byte(ev.data), &se); err != nil {
				t.Fatal(err)
			}
			steps = append(steps, se)
		}
	}
	if len(steps) != g.Forwards {
		t.Fatalf("%d step events, the golden has %d forwards", len(steps), g.Forwards)
	}
	for i, se := range steps {
		if se.Block != 0 || se.Step != i || se.Start != len(g.PromptIDs) || len(se.Cells) != len(g.OutputIDs) {
			t.Fatalf("event %d: block %d step %d start %d, %d cells", i, se.Block, se.Step, se.Start, len(se.Cells))
		}
	}
	var text strings.Builder
	for _, c := range steps[len(steps)-1].Cells {
		text.WriteString(c.Text)
	}
	if text.String() != want {
		t.Errorf("last frame reads %q, golden %q", text.String(), want)
	}
}

// TestFamilyRequestErrors: the family options are request fields; one the family does
// not take is a 400 naming it, as is an out-of-range one.
func TestFamilyRequestErrors(t *testing.T) {
	hs, _ := serveFamily(t, "dream/hf")
	for _, c := range []struct {
		body  map[string]any
		param string
		msg   string
	}{
		{map[string]any{"cfg_scale": 1.0}, "cfg_scale", "cfg_scale is not an option of Dream decoding"},
		{map[string]any{"block_length": 8}, "block_length", "block_length is an option of Dream's cached decoding"},
		{map[string]any{"cache": "full"}, "cache", `cache must be "" (exact), "prefix", "dual", "block", "block:N", "window:W" or "window:W:N"`},
		{map[string]any{"eps": 1.5}, "eps", "eps must be in (0,1)"},
		{map[string]any{"algorithm": "low_confidence"}, "algorithm", `algorithm "low_confidence" is not one of Dream's`},
		{map[string]any{"algorithm": "frob"}, "algorithm", "algorithm must be one that Algorithms lists"},
		{map[string]any{"preset": "quality"}, "edit_threshold", "edit_threshold is LLaDA2.1 token editing"},
	} {
		c.body["messages"], c.body["max_tokens"] = user("Hi"), 8
		code, out := post(t, hs.URL, "/v1/chat/completions", c.body)
		var e struct {
			Error apiError `json:"error"`
		}
		if err := json.Unmarshal(out, &e); err != nil || code != http.StatusBadRequest || e.Error.Param == nil ||
			*e.Error.Param != c.param || !strings.Contains(e.Error.Message, c.msg) {
			t.Errorf("%v: %d %s; want 400, param %s, %q", c.body, code, out, c.param, c.msg)
		}
	}
	// Without options: Dream's defaults, up to max_tokens.
	code, out := post(t, hs.URL, "/v1/chat/completions", map[string]any{"messages": user("Hi"), "max_tokens": 8, "algorithm": "maskgit_plus", "alg_temp": 0.5, "seed": 3})
	if code != http.StatusOK {
		t.Errorf("%d %s", code, out)
	}
}
