// Command dllm runs diffusion language models on the CPU: generate text, chat, inspect
// checkpoints, tokenize, dump logits, make synthetic models, quantize and benchmark.
//
// Usage: dllm <command> [flags]; `dllm <command> -h` lists a command's flags. Flags
// take the GNU forms (--long, -s, anywhere on the line; -- ends them).
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/pflag"
)

// command is one subcommand: its name, a one-line summary, and its entry point.
type command struct {
	name, summary string
	run           func(args []string, std stdio) error
}

// stdio is where a command reads and writes: the process's streams, or buffers in tests.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// commands is filled in init: the help of each command reads its summary from here.
var commands []command

func init() {
	commands = []command{
		{"generate", "generate text from a prompt (with --visual, watch the blocks denoise)", runGenerate},
		{"chat", "interactive multi-turn chat (slash commands: /reset, /quit, /help)", runChat},
		{"serve", "an OpenAI-compatible HTTP API with a web page that shows blocks denoising", runServe},
		{"tokenize", "token ids and pieces of a text (--chat renders it as a user turn)", runTokenize},
		{"inspect", "format, architecture, config, special tokens and tensors of a checkpoint", runInspect},
		{"logits", "raw float32 logits of a forward pass (block:N, causal or bidir mask)", runLogits},
		{"quantize", "convert a Hugging Face checkpoint to GGUF (f16, bf16, q8_0, q4_0, q4_k, q6_k)", runQuantize},
		{"bench", "block-forward, prefill and generation speed, against the machine's limits (roofline)", runBench},
		{"eval", "accuracy per task of a question-answer eval (the demo's 440 questions), exact or with --cache", runEval},
		{"mkmodel", "write a synthetic LLaDA2 checkpoint (mini-shaped, any layer count) for benchmarks", runMkModel},
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "dllm runs LLaDA2 diffusion language models on the CPU.\n\nusage: dllm <command> [flags]   (dllm <command> -h for its flags)\n\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nWith no -m, generate, chat and serve use the built-in demo model; -m demo names it anywhere.")
}

func main() {
	os.Exit(run(os.Args[1:], stdio{os.Stdin, os.Stdout, os.Stderr}))
}

// run runs one command line and returns the exit status: 0, 1 when the command failed,
// 2 for a mistake on the command line.
func run(args []string, std stdio) int {
	if len(args) == 0 {
		usage(std.err)
		return 2
	}
	name := args[0]
	if name == "-h" || name == "--help" || name == "help" {
		usage(std.out)
		return 0
	}
	for _, c := range commands {
		if c.name != name {
			continue
		}
		err := c.run(args[1:], std)
		var bad *usageError
		switch {
		case err == nil || errors.Is(err, pflag.ErrHelp):
			return 0
		case errors.As(err, &bad):
			fmt.Fprintf(std.err, "dllm %s: %v\n", name, err)
			return 2
		}
		// Library errors start with "dllm: "; the command name already says where.
		fmt.Fprintf(std.err, "dllm %s: %s\n", name, strings.TrimPrefix(err.Error(), "dllm: "))
		return 1
	}
	fmt.Fprintf(std.err, "dllm: unknown command %q (dllm -h lists them)\n", name)
	return 2
}
