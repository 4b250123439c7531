package dllm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

const (
	demoDir  = "../testdata/llada2-tiny-chat" // the demo model's goldens and evaluation set
	demoHF   = "internal/demo/hf"             // the demo model's files, which DemoModel embeds
	microDir = "../testdata/llada2-micro"
)

func loadModel(t testing.TB, path string) *Model {
	t.Helper()
	m, err := Load(path, LoadOptions{Threads: 2})
	if err != nil {
		t.Fatalf("Load(%s): %v", path, err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func newSession(t testing.TB, m *Model) *Session {
	t.Helper()
	s, err := m.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// golden is the part of a generation golden the public API is checked against (the
// decoder's own tests check every trace field).
type golden struct {
	Params struct {
		BlockLength   int      `json:"block_length"`
		Steps         int      `json:"steps"`
		Threshold     float64  `json:"threshold"`
		EditThreshold *float64 `json:"editing_threshold"`
		MaxPostSteps  int      `json:"max_post_steps"`
		GenLength     int      `json:"gen_length"`
		EOSEarlyStop  bool     `json:"eos_early_stop"`
	} `json:"params"`
	PromptMessages []Message `json:"prompt_messages"`
	PromptText     string    `json:"prompt_text"`
	PromptIDs      []int32   `json:"prompt_ids"`
	OutputIDs      []int32   `json:"output_ids"`
	StopReason     string    `json:"stop_reason"`
	Stats          struct {
		Forwards int `json:"forwards"`
	} `json:"stats"`
	Trace []struct {
		Committed [][3]float64 `json:"committed"`
	} `json:"trace"`
}

func (g *golden) options() GenerateOptions {
	o := DefaultOptions()
	o.BlockLength, o.Steps, o.Threshold = g.Params.BlockLength, g.Params.Steps, g.Params.Threshold
	o.MaxTokens, o.EOSEarlyStop = g.Params.GenLength, g.Params.EOSEarlyStop
	o.IgnoreRoleEnd = true // the reference stops on <|endoftext|> only
	if g.Params.EditThreshold != nil {
		o.Edit, o.EditThreshold, o.MaxPostSteps = true, *g.Params.EditThreshold, g.Params.MaxPostSteps
	}
	return o
}

func readGoldens(t *testing.T, dir string) map[string]*golden {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "golden", "gen_*.json"))
	if len(files) == 0 {
		t.Fatalf("no generation goldens in %s", dir)
	}
	out := map[string]*golden{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var g golden
		if err := json.Unmarshal(data, &g); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[filepath.Base(f)] = &g
	}
	return out
}

// TestGoldensThroughAPI reproduces every generation golden of both fixtures through the
// public API: the chat template renders the prompt, the decoder runs with and without the
// KV cache, and tokens, stop reason and the committed positions of every step agree.
func TestGoldensThroughAPI(t *testing.T) {
	for _, fx := range []struct{ dir, model string }{{microDir, filepath.Join(microDir, "hf")}, {demoDir, DemoModel}} {
		m := loadModel(t, fx.model)
		for name, g := range readGoldens(t, fx.dir) {
			for _, noCache := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%s/nocache=%v", filepath.Base(fx.dir), name, noCache), func(t *testing.T) {
					s := newSession(t, m)
					o := g.options()
					o.NoCache = noCache
					var steps []StepEvent
					o.OnStep = func(ev StepEvent) bool { steps = append(steps, ev); return true }
					var text strings.Builder
					o.OnText = func(d string) bool { text.WriteString(d); return true }
					res, err := s.GenerateChat(context.Background(), g.PromptMessages, o)
					if err != nil {
						t.Fatal(err)
					}
					if !slices.Equal(res.Tokens, g.OutputIDs) {
						t.Fatalf("tokens %v, want %v", res.Tokens, g.OutputIDs)
					}
					if string(res.StopReason) != g.StopReason {
						t.Errorf("stop reason %q, want %q", res.StopReason, g.StopReason)
					}
					if res.Stats.PromptTokens != len(g.PromptIDs) || res.Stats.Forwards != g.Stats.Forwards || len(steps) != len(g.Trace) {
						t.Fatalf("prompt %d forwards %d steps %d, want %d, %d, %d", res.Stats.PromptTokens, res.Stats.Forwards, len(steps), len(g.PromptIDs), g.Stats.Forwards, len(g.Trace))
					}
					for i, ev := range steps {
						want := g.Trace[i].Committed
						if len(ev.Committed) != len(want) {
							t.Fatalf("step %d: %d commits, want %d", i, len(ev.Committed), len(want))
						}
						for j, c := range ev.Committed {
							if c.Pos != int(want[j][0]) || c.Token != int32(want[j][1]) || abs(c.Confidence-want[j][2]) > 1e-4 {
								t.Fatalf("step %d commit %d: %+v, want %v", i, j, c, want[j])
							}
						}
					}
					if text.String() != res.Text {
						t.Errorf("OnText pieces %q != Result.Text %q", text.String(), res.Text)
					}
				})
			}
		}
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// TestDemoAccuracy runs the demo model's 440 evaluation questions (400 held out) and
// checks the accuracy per task and the tokens filled per forward that the fixture
// README reports for the reference implementation.
func TestDemoAccuracy(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("440 generations: run without -short and without -race (make test does)")
	}
	data, err := os.ReadFile(filepath.Join(demoDir, "golden", "eval.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev struct {
		Summary map[string]map[string]struct {
			Accuracy float64 `json:"accuracy"`
			N        int     `json:"n"`
		} `json:"summary"`
		Items []struct {
			Task        string  `json:"task"`
			Question    string  `json:"question"`
			ExpectedIDs []int32 `json:"expected_ids"`
			OutputIDs   []int32 `json:"output_ids"`
		} `json:"items"`
	}
	if err := json.Unmarshal(data, &ev); err != nil {
		t.Fatal(err)
	}
	m := loadModel(t, DemoModel)
	s := newSession(t, m)
	o := DefaultOptions()
	o.MaxTokens = 64
	correct, total := map[string]int{}, map[string]int{}
	forwards, committed, mismatches := 0, 0.0, 0
	for _, it := range ev.Items {
		res, err := s.GenerateChat(context.Background(), []Message{{Role: "user", Content: it.Question}}, o)
		if err != nil {
			t.Fatalf("%q: %v", it.Question, err)
		}
		if !slices.Equal(res.Tokens, it.OutputIDs) {
			mismatches++
			t.Errorf("%q: output %v, reference %v", it.Question, res.Tokens, it.OutputIDs)
		}
		total[it.Task]++
		if slices.Equal(res.Tokens, it.ExpectedIDs) {
			correct[it.Task]++
		}
		forwards += res.Stats.Forwards
		committed += res.Stats.TokensPerForward * float64(res.Stats.Forwards)
	}
	for task, n := range total {
		got := float64(correct[task]) / float64(n)
		want := ev.Summary[task]["0.95"].Accuracy
		t.Logf("%-8s accuracy %.2f (reference %.2f, %d questions)", task, got, want, n)
		if abs(got-want) > 0.01 {
			t.Errorf("%s: accuracy %.3f, reference %.3f", task, got, want)
		}
	}
	tpf := committed / float64(forwards)
	t.Logf("positions filled per forward: %.2f over %d forwards (%d outputs differ from the reference)", tpf, forwards, mismatches)
	if tpf <= 1 {
		t.Errorf("tokens per forward %.2f, want > 1", tpf)
	}
}

// TestConcurrentSessions runs two sessions of one model at once and checks that each
// gets the sequential result.
func TestConcurrentSessions(t *testing.T) {
	m := loadModel(t, DemoModel)
	questions := []string{"What is 12+9?", "Reverse: a b c d", "Count from 3 to 9.", "What color is the sky?"}
	want := make([][]int32, len(questions))
	s := newSession(t, m)
	for i, q := range questions {
		res, err := s.GenerateChat(context.Background(), []Message{{Role: "user", Content: q}}, DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		want[i] = res.Tokens
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*len(questions))
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := m.NewSession()
			if err != nil {
				errs <- err
				return
			}
			defer s.Close()
			for i, q := range questions {
				res, err := s.GenerateChat(context.Background(), []Message{{Role: "user", Content: q}}, DefaultOptions())
				if err != nil {
					errs <- err
					return
				}
				if !slices.Equal(res.Tokens, want[i]) {
					errs <- fmt.Errorf("%q: concurrent %v, sequential %v", q, res.Tokens, want[i])
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestStopping checks that OnStep, OnText and the context each stop generation within
// one forward, with the partial result and a distinguishable error.
func TestStopping(t *testing.T) {
	m := loadModel(t, filepath.Join(microDir, "hf"))
	prompt := []Message{{Role: "user", Content: "Tell me a long story."}}
	base := DefaultOptions()
	base.MaxTokens = 96
	base.BlockLength = 16

	t.Run("OnStep", func(t *testing.T) {
		s := newSession(t, m)
		o, steps := base, 0
		o.OnStep = func(StepEvent) bool { steps++; return steps < 3 }
		res, err := s.GenerateChat(context.Background(), prompt, o)
		if !errors.Is(err, ErrStopped) || res.StopReason != StopCallback {
			t.Fatalf("err %v, reason %q; want ErrStopped", err, res.StopReason)
		}
		if res.Stats.Forwards != 3 {
			t.Errorf("%d forwards after stopping at the third", res.Stats.Forwards)
		}
	})
	t.Run("OnText", func(t *testing.T) {
		s := newSession(t, m)
		o := base
		var got string
		o.OnText = func(d string) bool { got += d; return false }
		res, err := s.GenerateChat(context.Background(), prompt, o)
		if !errors.Is(err, ErrStopped) {
			t.Fatalf("err %v; want ErrStopped", err)
		}
		if len(res.Tokens) == 0 || got == "" {
			t.Errorf("partial result lost: tokens %v, text %q", res.Tokens, got)
		}
	})
	t.Run("context", func(t *testing.T) {
		s := newSession(t, m)
		ctx, cancel := context.WithCancel(context.Background())
		o, steps := base, 0
		o.OnStep = func(StepEvent) bool {
			steps++
			if steps == 2 {
				cancel()
			}
			return true
		}
		res, err := s.GenerateChat(ctx, prompt, o)
		if !errors.Is(err, context.Canceled) || res.StopReason != StopCancelled {
			t.Fatalf("err %v, reason %q; want context.Canceled", err, res.StopReason)
		}
		if res.Stats.Forwards != 2 {
			t.Errorf("%d forwards after cancelling in the second", res.Stats.Forwards)
		}
	})
}

// TestBadInput checks that invalid requests are errors that say what is wrong.
func TestBadInput(t *testing.T) {
	m := loadModel(t, filepath.Join(microDir, "hf"))
	s := newSession(t, m)
	ctx := context.Background()
	with := func(f func(*GenerateOptions)) GenerateOptions {
		o := DefaultOptions()
		o.MaxTokens = 32
		f(&o)
		return o
	}
	long := strings.Repeat("word ", 5000)
	cases := []struct {
		name string
		run  func() error
		want string
	}{
		{"prompt beyond context", func() error { _, err := s.Generate(ctx, long, with(func(*GenerateOptions) {})); return err }, "exceeds the context"},
		{"negative length", func() error {
			_, err := s.Generate(ctx, "hi", with(func(o *GenerateOptions) { o.MaxTokens = -1 }))
			return err
		}, "MaxTokens"},
		{"threshold", func() error {
			_, err := s.Generate(ctx, "hi", with(func(o *GenerateOptions) { o.Threshold = 1.5 }))
			return err
		}, "Threshold"},
		{"edit threshold", func() error {
			_, err := s.Generate(ctx, "hi", with(func(o *GenerateOptions) { o.EditThreshold = 2 }))
			return err
		}, "EditThreshold"},
		{"block length", func() error {
			_, err := s.Generate(ctx, "hi", with(func(o *GenerateOptions) { o.BlockLength = -32 }))
			return err
		}, "BlockLength"},
		{"top-p", func() error {
			_, err := s.Generate(ctx, "hi", with(func(o *GenerateOptions) { o.TopP = -0.5 }))
			return err
		}, "TopP"},
		{"unknown role", func() error {
			_, err := s.GenerateChat(ctx, []Message{{Role: "wizard", Content: "hi"}}, with(func(*GenerateOptions) {}))
			return err
		}, "wizard"},
		{"invalid UTF-8", func() error { _, err := s.Generate(ctx, "hi \xff", with(func(*GenerateOptions) {})); return err }, "UTF-8"},
		{"empty prompt", func() error { _, err := s.Generate(ctx, "", with(func(*GenerateOptions) {})); return err }, "empty"},
		{"token id", func() error {
			_, err := s.GenerateIDs(ctx, []int32{1, 99999}, with(func(*GenerateOptions) {}))
			return err
		}, "99999"},
		{"missing model", func() error { _, err := Load(filepath.Join(t.TempDir(), "nope"), LoadOptions{}); return err }, "nope"},
	}
	for _, c := range cases {
		err := c.run()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one mentioning %q", c.name, err, c.want)
		}
		if c.name != "missing model" && !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: error %v does not match ErrInvalid", c.name, err)
		}
	}
}

// TestChatReusesCache checks that a second chat turn reuses the KV cache of the first
// and gives exactly what a fresh session gives for the same conversation.
func TestChatReusesCache(t *testing.T) {
	m := loadModel(t, DemoModel)
	s := newSession(t, m)
	ctx := context.Background()
	if _, err := s.Chat(ctx, "What is 12+9?", DefaultOptions()); err != nil {
		t.Fatal(err)
	}
	second, err := s.Chat(ctx, "What color is the sky?", DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	fresh := newSession(t, m)
	want, err := fresh.GenerateChat(ctx, s.History()[:3], DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(second.Tokens, want.Tokens) {
		t.Fatalf("second turn %v, fresh session %v", second.Tokens, want.Tokens)
	}
	if len(s.History()) != 4 {
		t.Fatalf("history has %d turns, want 4", len(s.History()))
	}
}

// TestClosedModel checks use after Close is an error.
func TestClosedModel(t *testing.T) {
	m, err := Load(filepath.Join(microDir, "hf"), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := m.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	if _, err := s.Generate(context.Background(), "hi", DefaultOptions()); !errors.Is(err, ErrClosed) {
		t.Fatalf("generate after Close: %v, want ErrClosed", err)
	}
	if _, err := m.NewSession(); !errors.Is(err, ErrClosed) {
		t.Fatalf("NewSession after Close: %v, want ErrClosed", err)
	}
}
