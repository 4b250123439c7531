package serve

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dllm-go/dllm/dllm"
)

// holdSession takes the pool's one session, as a long generation would, until the
// returned function gives it back.
func holdSession(t *testing.T, s *Server) func() {
	t.Helper()
	e, err := s.pool.acquire(context.Background(), nil, 32)
	if err != nil {
		t.Fatal(err)
	}
	return func() { s.pool.release(e) }
}

// waitFor polls cond for up to ten seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestQueue: requests beyond the sessions wait their turn; beyond the queue they get
// 503 with Retry-After; a queued client that leaves is dropped from the queue.
func TestQueue(t *testing.T) {
	s, hs, _ := newTestServer(t, Options{Parallel: 1, MaxQueue: 1})
	give := holdSession(t, s)
	done := make(chan string, 1)
	go func() {
		status, body := post(t, hs.URL, "/v1/chat/completions", map[string]any{"messages": user("What is 3+4?")})
		done <- fmt.Sprint(status, " ", decodeChat(t, body).Choices[0].Message.Content)
	}()
	waitFor(t, "a queued request", func() bool { return s.pool.waiting() == 1 })

	req, _ := http.NewRequest(http.MethodPost, hs.URL+"/v1/chat/completions", strings.NewReader(`{"messages":[{"role":"user","content":"hi"}]}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Errorf("a request beyond the queue: %d, Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	give()
	if got := <-done; got != "200 7" {
		t.Errorf("the queued request: %s", got)
	}

	// A client that gives up while queued leaves the queue.
	give = holdSession(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	left := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, hs.URL+"/v1/chat/completions", strings.NewReader(`{"messages":[{"role":"user","content":"hi"}]}`))
		_, err := http.DefaultClient.Do(req)
		left <- err
	}()
	waitFor(t, "a queued request", func() bool { return s.pool.waiting() == 1 })
	cancel()
	<-left
	waitFor(t, "the queue to empty", func() bool { return s.pool.waiting() == 0 })
	give()
}

// TestRequestTimeout: a request that outlives the server's limit gets 504.
func TestRequestTimeout(t *testing.T) {
	s, hs, _ := newTestServer(t, Options{RequestTimeout: 50 * time.Millisecond})
	defer holdSession(t, s)()
	status, body := post(t, hs.URL, "/v1/chat/completions", map[string]any{"messages": user("What is 3+4?")})
	if status != 504 || !strings.Contains(string(body), `"code":"timeout"`) {
		t.Errorf("%d %s", status, body)
	}
}

// TestCloseTurnsAway: closing the server turns queued requests away with 503.
func TestCloseTurnsAway(t *testing.T) {
	s, hs, _ := newTestServer(t, Options{})
	give := holdSession(t, s)
	defer give()
	done := make(chan int, 1)
	go func() {
		status, _ := post(t, hs.URL, "/v1/chat/completions", map[string]any{"messages": user("What is 3+4?")})
		done <- status
	}()
	waitFor(t, "a queued request", func() bool { return s.pool.waiting() == 1 })
	s.Close()
	if status := <-done; status != 503 {
		t.Errorf("a request queued at Close: %d, want 503", status)
	}
}

// TestDisconnectCancels: a client that leaves mid-stream cancels its generation, which
// stops long before it would have finished, and the session is free again.
func TestDisconnectCancels(t *testing.T) {
	s, hs, m := newTestServer(t, Options{})
	q := "Count from 3 to 9."
	slow := dllm.DefaultOptions()
	slow.Threshold = 1 // nothing clears it: one position per forward, the schedule's pace
	full := goAnswer(t, m, []dllm.Message{{Role: "user", Content: q}}, slow)
	if full.Stats.Forwards < 8 {
		t.Fatalf("the full generation takes %d forwards, too few to cut", full.Stats.Forwards)
	}
	ended := make(chan dllm.Result, 1)
	var endErr error
	s.finished = func(r dllm.Result, err error) { endErr = err; ended <- r }

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	body, _ := json.Marshal(map[string]any{"messages": user(q), "threshold": 1, "stream": true, "dllm": map[string]any{"steps": true}})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, hs.URL+"/v1/chat/completions", bytes.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() && sc.Text() != "event: dllm.step" {
	}
	cancel()
	resp.Body.Close()
	var res dllm.Result
	select {
	case res = <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the generation did not end after the client left")
	}
	if res.StopReason != dllm.StopCancelled && !errors.Is(endErr, dllm.ErrStopped) {
		t.Errorf("ended with %v (%v), want cancelled", res.StopReason, endErr)
	}
	if res.Stats.Forwards >= full.Stats.Forwards {
		t.Errorf("ran %d forwards of %d after the client left", res.Stats.Forwards, full.Stats.Forwards)
	}
	waitFor(t, "the request to end", func() bool { return s.Active() == 0 })
	status, out := post(t, hs.URL, "/v1/chat/completions", map[string]any{"messages": user("What is 3+4?")})
	if status != 200 || decodeChat(t, out).Choices[0].Message.Content != "7" {
		t.Errorf("after it: %d %s", status, out)
	}
}

// TestConversationsKeepTheirCaches: with two sessions, two interleaved conversations
// each find their own cache on their next turn, and the answers are the Go API's.
func TestConversationsKeepTheirCaches(t *testing.T) {
	_, hs, m := newTestServer(t, Options{Parallel: 2})
	conv := map[string][]map[string]any{
		"a": {{"role": "system", "content": "You are a careful assistant who answers arithmetic questions."}},
		"b": {{"role": "system", "content": "Answer questions about the world in one word, please."}},
	}
	turn := func(name, q string) usage {
		msgs := append(conv[name], map[string]any{"role": "user", "content": q})
		status, body := post(t, hs.URL, "/v1/chat/completions", map[string]any{"messages": msgs})
		if status != 200 {
			t.Fatalf("%d %s", status, body)
		}
		r := decodeChat(t, body)
		var goMsgs []dllm.Message
		for _, m := range msgs {
			goMsgs = append(goMsgs, dllm.Message{Role: m["role"].(string), Content: m["content"].(string)})
		}
		if want := goAnswer(t, m, goMsgs, dllm.DefaultOptions()).Text; r.Choices[0].Message.Content != want {
			t.Errorf("%s: %q, Go API %q", name, r.Choices[0].Message.Content, want)
		}
		conv[name] = append(msgs, map[string]any{"role": "assistant", "content": r.Choices[0].Message.Content})
		return r.Usage
	}
	turn("a", "What is 3+4?")
	turn("b", "What is the capital of France?")
	for _, name := range []string{"a", "b"} {
		u := turn(name, "What is 5+2?")
		if u.PromptTokensDetails.CachedTokens < 32 {
			t.Errorf("conversation %s, second turn: %d of %d prompt tokens cached", name, u.PromptTokensDetails.CachedTokens, u.PromptTokens)
		}
	}
}

// loadQuestions are eval questions the demo model answers right with the defaults.
func loadQuestions(t *testing.T) [][2]string {
	t.Helper()
	b, err := os.ReadFile("../../testdata/llada2-tiny-chat/golden/eval.json")
	if err != nil {
		t.Fatal(err)
	}
	var eval struct {
		Items []struct {
			Task, Question, Answer string
			Correct                bool
		} `json:"items"`
	}
	if err := json.Unmarshal(b, &eval); err != nil {
		t.Fatal(err)
	}
	perTask := map[string]int{}
	var qs [][2]string
	for _, it := range eval.Items {
		if it.Correct && perTask[it.Task] < 5 {
			perTask[it.Task]++
			qs = append(qs, [2]string{it.Question, it.Answer})
		}
	}
	return qs
}

// TestLoad: 8 clients × 25 requests, streamed and not, on two sessions: every answer is
// right, and goroutines and heap are back to where they were afterwards.
func TestLoad(t *testing.T) {
	const clients, each = 8, 25
	s, hs, _ := newTestServer(t, Options{Parallel: 2})
	qs := loadQuestions(t)
	ask := func(c, i int) (time.Duration, error) {
		q := qs[(c*each+i)%len(qs)]
		stream := i%2 == 1
		start := time.Now()
		status, body := post(t, hs.URL, "/v1/chat/completions", map[string]any{"messages": user(q[0]), "stream": stream})
		took := time.Since(start)
		if status != 200 {
			return took, fmt.Errorf("%q: status %d %s", q[0], status, body)
		}
		got := ""
		if stream {
			for _, ev := range readSSE(t, bytes.NewReader(body)) {
				var ch struct {
					Choices []struct{ Delta struct{ Content string } } `json:"choices"`
				}
				if ev.data != "[DONE]" && json.Unmarshal([]byte(ev.data), &ch) == nil && len(ch.Choices) > 0 {
					got += ch.Choices[0].Delta.Content
				}
			}
		} else {
			got = decodeChat(t, body).Choices[0].Message.Content
		}
		if got != q[1] {
			return took, fmt.Errorf("%q: answered %q, want %q", q[0], got, q[1])
		}
		return took, nil
	}
	// Warm up: the sessions' caches grow to their working size.
	for i := range qs {
		if _, err := ask(0, i); err != nil {
			t.Fatal(err)
		}
	}
	http.DefaultClient.CloseIdleConnections()
	goroutines, heap := settle()

	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for i := range each {
				took, err := ask(c, i)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				lat = append(lat, took)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	http.DefaultClient.CloseIdleConnections()
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	fmt.Printf("serve load: %d clients x %d requests on %d sessions: p50 %v, p99 %v, max %v\n",
		clients, each, 2, pct(0.50).Round(time.Microsecond), pct(0.99).Round(time.Microsecond), lat[len(lat)-1].Round(time.Microsecond))

	waitFor(t, "requests to end", func() bool { return s.Active() == 0 })
	var g2 int
	var h2 uint64
	waitFor(t, "goroutines to settle", func() bool { g2, h2 = settle(); return g2 <= goroutines+2 })
	if h2 > heap+8<<20 {
		t.Errorf("heap grew from %d to %d bytes over %d requests", heap, h2, clients*each)
	}
	t.Logf("goroutines %d -> %d, heap %d -> %d bytes", goroutines, g2, heap, h2)
}

// settle collects garbage and returns the goroutine count and live heap.
func settle() (int, uint64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return runtime.NumGoroutine(), ms.HeapAlloc
}
