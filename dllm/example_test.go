package dllm_test

import (
	"context"
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
