package dllm

import (
	"io"

	"github.com/dllm-go/dllm/dllm/internal/llada2"
)

// LogitsCommand implements `dllm logits -m PATH --tokens 1,2,3 --mask block:N|causal|bidir
// --out FILE [--threads N]` (DESIGN.md §4): the raw float32 little-endian logits
// [tokens × vocab] of one forward on a fresh cache, for tests outside Go. The command
// lives in the model package; this exports it to the dllm command, which cannot import
// internals.
func LogitsCommand(args []string, stderr io.Writer) error {
	return llada2.LogitsCommand(args, stderr)
}
