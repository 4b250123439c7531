package dllm

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestOptionBounds runs every integer option at the edges of its type and of its range
// through Validate and a real generation: each either decodes or is ErrInvalid naming the
// option, before any forward runs; none panics or fails mid-run. Zero takes the default.
func TestOptionBounds(t *testing.T) {
	m := loadModel(t, filepath.Join(microDir, "hf"))
	s := newSession(t, m)
	ctx := context.Background()
	values := []int64{math.MinInt64, math.MinInt32, -1, 0, 1, 7, 512, 513, MaxSteps, MaxSteps + 1,
		int64(m.Info().ContextLength), int64(m.Info().ContextLength) + 1, math.MaxInt32, math.MaxInt32 + 1, math.MaxInt64}
	ctxLen := int64(m.Info().ContextLength)
	fields := []struct {
		name  string
		set   func(o *GenerateOptions, v int)
		valid func(v int64) bool
	}{
		{"MaxTokens", func(o *GenerateOptions, v int) { o.MaxTokens = v }, func(v int64) bool {
			return v > 0 && v <= ctxLen-8 || v == 0 && defaultMaxTokens <= ctxLen-8
		}},
		{"BlockLength", func(o *GenerateOptions, v int) { o.BlockLength = v }, func(v int64) bool { return v >= 0 && v <= MaxBlockLength }},
		{"Steps", func(o *GenerateOptions, v int) { o.Steps = v }, func(v int64) bool { return v >= 0 && v <= MaxSteps }},
		{"MaxPostSteps", func(o *GenerateOptions, v int) { o.MaxPostSteps = v }, func(v int64) bool { return v >= 0 && v <= MaxSteps }},
		{"NumToTransfer", func(o *GenerateOptions, v int) { o.NumToTransfer = v }, func(v int64) bool { return v >= 0 }},
		{"TopK", func(o *GenerateOptions, v int) { o.TopK = v }, func(v int64) bool { return v >= 0 }},
	}
	for _, f := range fields {
		for _, v := range values {
			t.Run(fmt.Sprintf("%s=%d", f.name, v), func(t *testing.T) {
				o := DefaultOptions()
				o.MaxTokens, o.BlockLength, o.Steps = 4, 4, 4
				f.set(&o, int(v))
				if f.name == "MaxTokens" && v > 64 && f.valid(v) {
					o.BlockLength = 64 // a long canvas in few blocks: the test stays fast
				}
				if f.name == "MaxPostSteps" || f.name == "NumToTransfer" {
					o.Edit, o.EditThreshold = true, 0.5 // options of LLaDA2.1 editing
				}
				verr := o.Validate()
				steps := 0
				o.OnStep = func(StepEvent) bool { steps++; return true }
				_, err := s.GenerateIDs(ctx, []int32{1, 2, 3, 4, 5, 6, 7, 8}, o)
				if f.valid(v) {
					if verr != nil || err != nil {
						t.Fatalf("valid value rejected: Validate %v, generate %v", verr, err)
					}
					return
				}
				if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), f.name) {
					t.Fatalf("generate: %v, want ErrInvalid naming %s", err, f.name)
				}
				if steps != 0 {
					t.Fatalf("rejected after %d forwards, want before any", steps)
				}
			})
		}
	}
}

// TestFloatOptionBounds: non-finite and out-of-range floats are rejected by Validate.
func TestFloatOptionBounds(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	cases := []struct {
		name string
		set  func(o *GenerateOptions)
	}{
		{"Threshold", func(o *GenerateOptions) { o.Threshold = nan }},
		{"Threshold", func(o *GenerateOptions) { o.Threshold = inf }},
		{"Threshold", func(o *GenerateOptions) { o.Threshold = -inf }},
		{"EditThreshold", func(o *GenerateOptions) { o.EditThreshold = nan }},
		{"EditThreshold", func(o *GenerateOptions) { o.EditThreshold = inf }},
		{"Temperature", func(o *GenerateOptions) { o.Temperature = nan }},
		{"Temperature", func(o *GenerateOptions) { o.Temperature = inf }},
		{"Temperature", func(o *GenerateOptions) { o.Temperature = -inf }},
		{"Temperature", func(o *GenerateOptions) { o.Temperature = -1 }},
		{"TopP", func(o *GenerateOptions) { o.TopP = nan }},
		{"TopP", func(o *GenerateOptions) { o.TopP = inf }},
		{"TopP", func(o *GenerateOptions) { o.TopP = -1 }},
		{"TopP", func(o *GenerateOptions) { o.TopP = 1.5 }},
	}
	for _, c := range cases {
		o := DefaultOptions()
		c.set(&o)
		if err := o.Validate(); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.name) {
			t.Errorf("%s: Validate %v, want ErrInvalid naming it", c.name, err)
		}
	}
	// An edit threshold without Edit is a forgotten switch, not a setting.
	o := DefaultOptions()
	o.EditThreshold = 0.5
	if err := o.Validate(); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "without Edit") {
		t.Errorf("EditThreshold without Edit: %v", err)
	}
}

// TestZeroOptions: the zero GenerateOptions is DefaultOptions (MaxPostSteps aside, which
// only editing reads) and decodes exactly as it does.
func TestZeroOptions(t *testing.T) {
	d := DefaultOptions()
	d.MaxPostSteps = 0
	if z := (GenerateOptions{}).withDefaults(); !reflect.DeepEqual(z, d) {
		t.Fatalf("zero options give %+v, DefaultOptions %+v", z, d)
	}
	if err := (&GenerateOptions{}).Validate(); err != nil {
		t.Fatalf("Validate of the zero options: %v", err)
	}
	m := loadModel(t, DemoModel)
	s := newSession(t, m)
	msgs := []Message{{Role: "user", Content: "What is 3+4?"}}
	zero, err := s.GenerateChat(context.Background(), msgs, GenerateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	def, err := s.GenerateChat(context.Background(), msgs, DefaultOptions())
	if err != nil || !slices.Equal(zero.Tokens, def.Tokens) || zero.Stats.Forwards != def.Stats.Forwards || zero.Text != "7" {
		t.Fatalf("zero options: %q in %d forwards; defaults: %q in %d forwards, %v",
			zero.Text, zero.Stats.Forwards, def.Text, def.Stats.Forwards, err)
	}
}

// TestNilContext: a nil context is refused by name, like a nil argument anywhere else.
func TestNilContext(t *testing.T) {
	m := loadModel(t, DemoModel)
	s := newSession(t, m)
	// A nil context is the mistake under test.
	for name, run := range map[string]func() error{
		"Generate":    func() error { _, err := s.Generate(nil, "hi", GenerateOptions{}); return err },
		"GenerateIDs": func() error { _, err := s.GenerateIDs(nil, []int32{1, 2}, GenerateOptions{}); return err },
		"GenerateChat": func() error {
			_, err := s.GenerateChat(nil, []Message{{Role: "user", Content: "hi"}}, GenerateOptions{})
			return err
		},
		"Chat": func() error { _, err := s.Chat(nil, "hi", GenerateOptions{}); return err },
	} {
		if err := run(); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "context") {
			t.Errorf("%s(nil, …): %v, want ErrInvalid naming the context", name, err)
		}
	}
	if len(s.History()) != 0 {
		t.Errorf("a refused Chat changed the history: %v", s.History())
	}
}

// FuzzGenerateOptions: no combination of option values panics or fails mid-run: each is
// rejected as ErrInvalid before any forward, or decodes (stopped after two forwards to
// stay fast).
func FuzzGenerateOptions(f *testing.F) {
	f.Add(int64(8), int64(4), int64(4), int64(16), int64(1), int64(0), 0.95, -1.0, 0.0, 1.0)
	f.Add(int64(math.MaxInt64), int64(math.MaxInt64), int64(math.MaxInt64), int64(math.MaxInt64), int64(math.MaxInt64), int64(math.MaxInt64), 1.0, 0.0, 1e308, 0.5)
	f.Add(int64(math.MinInt64), int64(-1), int64(0), int64(-1), int64(0), int64(-1), math.NaN(), math.NaN(), math.Inf(1), math.NaN())
	f.Add(int64(4088), int64(513), int64(65537), int64(65537), int64(1<<31), int64(1<<31), 0.5, 0.5, 0.7, 0.9)
	f.Add(int64(4088), int64(512), int64(65536), int64(65536), int64(3), int64(5), 0.0, 1.0, 2.0, 1e-300)
	m := loadModel(f, filepath.Join(microDir, "hf"))
	s := newSession(f, m)
	f.Fuzz(func(t *testing.T, maxTokens, block, steps, post, transfer, topK int64, thr, edit, temp, topP float64) {
		o := DefaultOptions()
		o.MaxTokens, o.BlockLength, o.Steps, o.MaxPostSteps = int(maxTokens), int(block), int(steps), int(post)
		o.NumToTransfer, o.TopK = int(transfer), int(topK)
		o.Threshold, o.Edit, o.EditThreshold, o.Temperature, o.TopP = thr, edit >= 0, edit, temp, topP
		forwards := 0
		o.OnStep = func(StepEvent) bool { forwards++; return forwards < 2 }
		_, err := s.GenerateIDs(context.Background(), []int32{1, 2, 3, 4, 5, 6, 7, 8}, o)
		switch {
		case err == nil, errors.Is(err, ErrStopped):
		case errors.Is(err, ErrInvalid):
			if forwards != 0 {
				t.Fatalf("rejected after %d forwards: %v", forwards, err)
			}
		default:
			t.Fatalf("%+v: %v", o, err)
		}
	})
}
