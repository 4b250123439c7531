package dllm_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"

	"github.com/dllm-go/dllm/dllm"
)

// The built-in demo model is a tiny LLaDA2 trained on simple questions.
func Example() {
	m, err := dllm.Load(dllm.DemoModel, dllm.LoadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	s, err := m.NewSession()
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	res, err := s.GenerateChat(context.Background(),
		[]dllm.Message{{Role: "user", Content: "What is 12+9?"}}, dllm.DefaultOptions())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Text, res.StopReason)
	// Output: 21 eos_block
}

// OnStep shows the denoising: every forward pass, which positions were filled.
func ExampleGenerateOptions_onStep() {
	m, err := dllm.Load(dllm.DemoModel, dllm.LoadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	s, _ := m.NewSession()
	defer s.Close()
	opts := dllm.DefaultOptions()
	opts.OnStep = func(ev dllm.StepEvent) bool {
		fmt.Printf("block %d step %d: filled %d, %d masked before\n", ev.Block, ev.Step, len(ev.Committed), ev.Masked)
		return true
	}
	res, _ := s.GenerateChat(context.Background(),
		[]dllm.Message{{Role: "user", Content: "Reverse: a b c d"}}, opts)
	fmt.Printf("%q\n", res.Text)
	// Output:
	// block 0 step 0: filled 2, 3 masked before
	// block 0 step 1: filled 1, 1 masked before
	// block 1 step 0: filled 32, 32 masked before
	// "d c b a"
}

// Chat keeps the conversation in the session and reuses its KV cache turn after turn.
// (The demo model was trained on single questions, so this shows one turn.)
func ExampleSession_Chat() {
	m, err := dllm.Load(dllm.DemoModel, dllm.LoadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	s, _ := m.NewSession()
	defer s.Close()
	res, err := s.Chat(context.Background(), "What is the capital of France?", dllm.DefaultOptions())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Text)
	for _, msg := range s.History() {
		fmt.Printf("%s: %s\n", msg.Role, msg.Content)
	}
	// Output:
	// Paris
	// user: What is the capital of France?
	// assistant: Paris
}

// Load takes a Hugging Face folder, a .gguf file, a folder holding one of those, or the
// built-in demo model by name; Info describes what was loaded.
func ExampleLoad() {
	m, err := dllm.Load(dllm.DemoModel, dllm.LoadOptions{Threads: 2})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	info := m.Info()
	fmt.Println(info.Architecture, info.Format, info.Layers, "layers", info.HiddenSize, "wide")
	fmt.Println("vocabulary", info.VocabSize, "context", info.ContextLength)
	// Output:
	// llada2 safetensors 4 layers 128 wide
	// vocabulary 1024 context 4096
}

// The zero GenerateOptions is the recommended LLaDA2.0 decoding; OnText streams the
// answer as it becomes final.
func ExampleGenerateOptions() {
	m, err := dllm.Load(dllm.DemoModel, dllm.LoadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	s, _ := m.NewSession()
	defer s.Close()
	var opts dllm.GenerateOptions // block 32, steps 32, threshold 0.95, greedy
	opts.OnText = func(delta string) bool { fmt.Printf("[%s]", delta); return true }
	res, err := s.GenerateChat(context.Background(), []dllm.Message{{Role: "user", Content: "Reverse: a b c d"}}, opts)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println()
	fmt.Println(res.Text, res.Stats.Tokens, "tokens in", res.Stats.Forwards, "forwards")
	// Output:
	// [d c][ b][ a]
	// d c b a 5 tokens in 3 forwards
}

// Validate checks options before a generation needs them, for example those read from a
// configuration file.
func ExampleGenerateOptions_Validate() {
	opts := dllm.GenerateOptions{Threshold: 1.5}
	err := opts.Validate()
	fmt.Println(errors.Is(err, dllm.ErrInvalid), err)
	// Output: true dllm: Threshold must be in [0,1], got 1.5
}

// SpeedOptions and QualityOptions are the LLaDA2.1 presets: draft with a low threshold,
// then rewrite (edit) positions the model changes its mind about. They are for LLaDA2.1
// models; the demo model was trained for LLaDA2.0 decoding and answers only easy
// questions this way.
func ExampleSpeedOptions() {
	m, err := dllm.Load(dllm.DemoModel, dllm.LoadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	s, _ := m.NewSession()
	defer s.Close()
	msgs := []dllm.Message{{Role: "user", Content: "What is 2+2?"}}
	for name, opts := range map[string]dllm.GenerateOptions{"speed": dllm.SpeedOptions(), "quality": dllm.QualityOptions()} {
		res, err := s.GenerateChat(context.Background(), msgs, opts)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(name, res.Text, res.StopReason)
	}
	// Unordered output:
	// speed 4 eos_early_stop
	// quality 4 eos_early_stop
}

// Tokenize and Detokenize convert between text and token ids; with parseSpecial, text
// such as <|role_end|> is the special token rather than ordinary characters.
func ExampleModel_Tokenize() {
	m, err := dllm.Load(dllm.DemoModel, dllm.LoadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	plain, _ := m.Tokenize("hi<|role_end|>", false)
	special, _ := m.Tokenize("hi<|role_end|>", true)
	fmt.Println(len(plain), "tokens as text,", len(special), "with the special token", m.Info().RoleEndID)
	text, _ := m.Detokenize(special)
	fmt.Println(text)
	// Output:
	// 11 tokens as text, 3 with the special token 1021
	// hi<|role_end|>
}

// Generate continues raw text: here the chat format rendered by the model's tokenizer,
// which is what GenerateChat does in one call.
func ExampleSession_Generate() {
	m, err := dllm.Load(dllm.DemoModel, dllm.LoadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	s, _ := m.NewSession()
	defer s.Close()
	prompt, err := m.Tokenizer().ApplyChat([]dllm.Message{{Role: "user", Content: "What is 2+2?"}}, true)
	if err != nil {
		log.Fatal(err)
	}
	res, err := s.Generate(context.Background(), prompt, dllm.GenerateOptions{MaxTokens: 32})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Text)
	// Output: 4
}

// GenerateIDs takes a prompt already in token ids, such as one kept from an earlier
// encoding; Result.Tokens are the generated ids.
func ExampleSession_GenerateIDs() {
	m, err := dllm.Load(dllm.DemoModel, dllm.LoadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	s, _ := m.NewSession()
	defer s.Close()
	ids, err := m.Tokenizer().EncodeChat([]dllm.Message{{Role: "user", Content: "What is 5+5?"}}, true)
	if err != nil {
		log.Fatal(err)
	}
	res, err := s.GenerateIDs(context.Background(), ids, dllm.GenerateOptions{MaxTokens: 32})
	if err != nil {
		log.Fatal(err)
	}
	text, _ := m.Detokenize(res.Tokens)
	fmt.Printf("%d prompt tokens → %q\n", res.Stats.PromptTokens, text)
	// Output: 29 prompt tokens → "10<|endoftext|>"
}

// SetSystem gives the conversation a system prompt from the next turn on; Reset starts
// a new conversation on the same session (and its cache).
func ExampleSession_SetSystem() {
	m, err := dllm.Load(dllm.DemoModel, dllm.LoadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	s, _ := m.NewSession()
	defer s.Close()
	s.SetSystem("You are a calculator.")
	if _, err := s.Chat(context.Background(), "What is 6+1?", dllm.GenerateOptions{}); err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(s.History()), "messages")
	s.Reset()
	fmt.Println(len(s.History()), "messages")
	// Output:
	// 2 messages
	// 0 messages
}

// A callback that returns false stops the generation: the partial result comes back
// with ErrStopped.
func ExampleErrStopped() {
	m, err := dllm.Load(dllm.DemoModel, dllm.LoadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	s, _ := m.NewSession()
	defer s.Close()
	opts := dllm.GenerateOptions{OnStep: func(dllm.StepEvent) bool { return false }}
	res, err := s.GenerateChat(context.Background(), []dllm.Message{{Role: "user", Content: "Count to five."}}, opts)
	fmt.Println(errors.Is(err, dllm.ErrStopped), res.StopReason, res.Stats.Forwards, "forward")
	// Output: true stopped 1 forward
}

// Mistakes in the arguments match ErrInvalid, and the message names the argument.
func ExampleErrInvalid() {
	m, err := dllm.Load(dllm.DemoModel, dllm.LoadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	s, _ := m.NewSession()
	defer s.Close()
	_, err = s.Generate(context.Background(), "", dllm.GenerateOptions{})
	fmt.Println(errors.Is(err, dllm.ErrInvalid), err)
	// Output: true dllm: empty prompt
}

// TraceJSON records a step in the form of the reference implementation's traces, to
// compare a run against it step by step.
func ExampleStepEvent_TraceJSON() {
	m, err := dllm.Load(dllm.DemoModel, dllm.LoadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	s, _ := m.NewSession()
	defer s.Close()
	first := true
	opts := dllm.GenerateOptions{OnStep: func(ev dllm.StepEvent) bool {
		if first {
			b, err := ev.TraceJSON()
			if err != nil {
				log.Fatal(err)
			}
			// Each committed entry is [position, token, confidence]; the confidences
			// differ in the last digits between CPUs, so only the rest is printed.
			var step struct {
				Masked    int          `json:"masked"`
				Above     int          `json:"above"`
				Committed [][3]float64 `json:"committed"`
			}
			if err := json.Unmarshal(b, &step); err != nil {
				log.Fatal(err)
			}
			fmt.Printf("%d masked, %d above the threshold\n", step.Masked, step.Above)
			for _, c := range step.Committed {
				fmt.Printf("position %v ← token %v\n", c[0], c[1])
			}
			first = false
		}
		return true
	}}
	if _, err := s.GenerateChat(context.Background(), []dllm.Message{{Role: "user", Content: "What is 1+1?"}}, opts); err != nil {
		log.Fatal(err)
	}
	// Output:
	// 3 masked, 3 above the threshold
	// position 29 ← token 17
	// position 30 ← token 1019
	// position 31 ← token 1019
}

// A program that lets its users pick a preset by name (a flag, a config field) looks it
// up, then changes what it needs.
func ExamplePresetOptions() {
	for _, name := range dllm.Presets {
		o, err := dllm.PresetOptions(name)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s: threshold %g, edit %v\n", name, o.Threshold, o.Edit)
	}
	_, err := dllm.PresetOptions("fastest")
	fmt.Println(errors.Is(err, dllm.ErrInvalid))
	// Output:
	// default: threshold 0.95, edit false
	// quality: threshold 0.7, edit true
	// speed: threshold 0.5, edit true
	// true
}

// CachedTokens shows what the next prompt can reuse: a second turn that extends the
// first computes only its new tokens.
func ExampleSession_CachedTokens() {
	m, err := dllm.Load(dllm.DemoModel, dllm.LoadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	s, err := m.NewSession()
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	s.SetSystem("You are a careful assistant who answers arithmetic questions.")
	ctx := context.Background()
	if _, err := s.Chat(ctx, "What is 3+4?", dllm.DefaultOptions()); err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(s.CachedTokens()) > 0)
	res, err := s.Chat(ctx, "What is 5+2?", dllm.DefaultOptions())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Stats.CachedTokens, "of", res.Stats.PromptTokens, "prompt tokens reused")
	// Output:
	// true
	// 32 of 73 prompt tokens reused
}

// The other families load from their folders like LLaDA2; a zero field means the
// family's recommended setting, and Algorithm and the other family options choose the
// official algorithm's variants. Here LLaDA's tiny random-weight fixture answers what
// ML-GSAI's generate answers (testdata/families/llada/golden/gen_cfg1_greedy.json).
func ExampleGenerateOptions_algorithm() {
	m, err := dllm.Load("../testdata/families/llada/hf", dllm.LoadOptions{Threads: 1})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	s, err := m.NewSession()
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	msgs := []dllm.Message{{Role: "user", Content: "What is the capital of France?"}}
	opts := dllm.GenerateOptions{MaxTokens: 16, BlockLength: 8, Steps: 8, Algorithm: "low_confidence", CFGScale: 1}
	res, err := s.GenerateChat(context.Background(), msgs, opts)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Info().Architecture, res.Tokens[:6], res.Stats.Forwards, res.StopReason)
	// Output: llada [116 841 841 841 347 116] 8 gen_length
}

// DefaultOptions writes out what the zero options mean for the loaded family, sampling
// included; Algorithms lists the algorithms it takes, its default first.
func ExampleModel_DefaultOptions() {
	m, err := dllm.Load("../testdata/families/dream/hf", dllm.LoadOptions{Threads: 1})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	o := m.DefaultOptions()
	fmt.Println(o.MaxTokens, o.Steps, o.Eps, o.Temperature, o.TopP, o.TopK)
	fmt.Println(dllm.Algorithms(m.Info().Architecture)[:5])
	// Output:
	// 512 512 0.001 0.2 0.95 50
	// [entropy origin maskgit_plus topk_margin confidence_threshold]
}
