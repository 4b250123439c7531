// Package dllm runs diffusion language models — today the LLaDA2.x family — on CPUs.
//
// Load a checkpoint (a Hugging Face directory with config.json, sharded bf16 safetensors
// and tokenizer.json, or a GGUF file), open a Session and generate:
//
//	m, err := dllm.Load("LLaDA2.0-mini", dllm.LoadOptions{})
//	if err != nil { … }
//	defer m.Close()
//	s, _ := m.NewSession()
//	defer s.Close()
//	res, err := s.GenerateChat(ctx, []dllm.Message{{Role: "user", Content: "Hi!"}}, dllm.GenerateOptions{})
//	fmt.Println(res.Text)
//
// The zero GenerateOptions is the recommended LLaDA2.0 decoding; set only what you
// change. Errors are listed in errors.go: mistakes in the arguments match ErrInvalid.
//
// The name DemoModel ("demo") loads the built-in demo model, a tiny LLaDA2 compiled into
// the library, from any folder: dllm.Load(dllm.DemoModel, dllm.LoadOptions{}).
//
// A diffusion model does not write left to right: it starts from a block of masked
// positions and fills in, at every forward pass, each position whose confidence clears
// GenerateOptions.Threshold, so several tokens can land per pass. OnStep shows every pass
// (what was filled or, with LLaDA2.1 editing, rewritten); OnText receives the finished
// text left to right as soon as it can no longer change.
//
// A Model is immutable and safe for concurrent use; it holds the memory-mapped weights
// and a worker pool. A Session owns a KV cache and a conversation and is used by one
// goroutine at a time; run as many Sessions on one Model as you like.
//
// Tooling beyond generation — inspecting, checking and converting checkpoints, raw
// logits, benchmarks — is in package github.com/dllm-go/dllm/dllm/tools.
package dllm
