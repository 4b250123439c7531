// Command xlang prints, as JSON, the tokens of one generation through the Go API (MODE
// "chat": PROMPT as a user message; "raw": PROMPT as text); scripts/test-xlang.sh
// compares them with the C, Python and Rust bindings.
//
//	go run ./scripts/xlang MODE MODEL PROMPT MAX_TOKENS
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"

	"github.com/dllm-go/dllm/dllm"
)

func main() {
	if len(os.Args) != 5 || (os.Args[1] != "chat" && os.Args[1] != "raw") {
		fmt.Fprintln(os.Stderr, "usage: xlang chat|raw MODEL PROMPT MAX_TOKENS")
		os.Exit(2)
	}
	max, err := strconv.Atoi(os.Args[4])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if err := run(os.Args[1] == "chat", os.Args[2], os.Args[3], max); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(chat bool, path, prompt string, max int) error {
	m, err := dllm.Load(path, dllm.LoadOptions{})
	if err != nil {
		return err
	}
	defer m.Close()
	s, err := m.NewSession()
	if err != nil {
		return err
	}
	defer s.Close()
	opts := dllm.DefaultOptions()
	opts.MaxTokens = max
	var res dllm.Result
	if chat {
		res, err = s.GenerateChat(context.Background(), []dllm.Message{{Role: "user", Content: prompt}}, opts)
	} else {
		res, err = s.Generate(context.Background(), prompt, opts)
	}
	if err != nil {
		return err
	}
	out, err := json.Marshal(struct {
		Tokens     []int32         `json:"tokens"`
		StopReason dllm.StopReason `json:"stop_reason"`
	}{res.Tokens, res.StopReason})
	if err != nil {
		return err
	}
	fmt.Println(string(out))
	return nil
}
