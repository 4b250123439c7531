package tools

import (
	"io"

	"github.com/dllm-go/dllm/dllm/internal/outfile"
)

// WriteFile writes path with what write writes, by the rule every writer of the library
// follows (Quantize, WriteSyntheticModel): a new or regular file is written beside the
// target and renamed over it when complete, so a failed write leaves the old file as it
// was; a pipe or device is written in place; nothing the write did not create is ever
// removed. Use it for a tool's own outputs, such as the logits file of `dllm logits`.
func WriteFile(path string, write func(w io.Writer) error) error {
	return outfile.Write(path, write)
}
