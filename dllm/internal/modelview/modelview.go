// Package modelview hands the tools built on package dllm (dllm/tools: logits, bench)
// the internals of a loaded dllm.Model without exporting them from dllm. Package dllm
// sets Use in its init, so any program that holds a *dllm.Model has it set.
package modelview

import (
	"github.com/dllm-go/dllm/dllm/internal/arch"
	"github.com/dllm-go/dllm/dllm/internal/weights"
)

// View is what a tool may use of a loaded model.
type View struct {
	Net        *arch.Model         // the bound network, on the model's worker pool
	Checkpoint *weights.Checkpoint // the memory-mapped files
	Threads    int                 // size of the worker pool the network runs on
}

// Use runs fn on the internals of model, which must be a *dllm.Model, holding the model
// open meanwhile: fn runs only on an open model whose files are unchanged
// (dllm.ErrClosed, dllm.ErrModelChanged otherwise), and Close waits for it to return.
// Anything else than a non-nil *dllm.Model is dllm.ErrInvalid.
var Use func(model any, fn func(View) error) error
