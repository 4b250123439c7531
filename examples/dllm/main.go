// Command dllm runs diffusion language models on the CPU: generate text, chat, inspect
// checkpoints, tokenize, dump logits, make synthetic models, quantize and benchmark.
//
// Usage: dllm <command> [flags]; `dllm <command> -h` lists a command's flags.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
)

// command is one subcommand: its name, a one-line summary, and its entry point.
type command struct {
	name, summary string
	run           func(args []string) error
}

var commands = []command{
	{"generate", "generate text from a prompt (with --visual, watch the blocks denoise)", runGenerate},
	{"chat", "interactive multi-turn chat", runChat},
	{"tokenize", "token ids and pieces of a text (--chat renders it as a user turn)", runTokenize},
	{"inspect", "format, architecture, config, special tokens and tensors of a checkpoint", runInspect},
	{"logits", "raw float32 logits of a forward pass (block:N, causal or bidir mask)", runLogits},
	{"quantize", "convert a Hugging Face checkpoint to GGUF (f16, bf16, q8_0, q4_0, q4_k, q6_k)", runQuantize},
	{"bench", "block-forward, prefill and generation speed, with the machine and kernels", runBench},
	{"mkmodel", "write a synthetic LLaDA2 checkpoint (mini-shaped, any layer count) for benchmarks", runMkModel},
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: dllm <command> [flags]\n\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(os.Stderr, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(os.Stderr, "\nWith no -m, generate and chat use the built-in demo model.")
}

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	name := os.Args[1]
	if name == "-h" || name == "--help" || name == "help" {
		usage()
		return
	}
	for _, c := range commands {
		if c.name != name {
			continue
		}
		if err := c.run(os.Args[2:]); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return
			}
			fmt.Fprintf(os.Stderr, "dllm %s: %v\n", name, err)
			os.Exit(1)
		}
		return
	}
	fmt.Fprintf(os.Stderr, "dllm: unknown command %q\n\n", name)
	usage()
	os.Exit(2)
}
