package main

import (
	"os"

	"github.com/dllm-go/dllm/dllm"
)

// runLogits is `dllm logits`: float32 little-endian logits [tokens × vocab] of a forward
// pass with a block:N, causal or bidir mask, on a fresh cache (DESIGN.md §4).
func runLogits(args []string) error { return dllm.LogitsCommand(args, os.Stderr) }
