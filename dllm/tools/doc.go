// Package tools holds what the dllm command and other tooling need beyond running a
// model: inspecting and checking checkpoints (Inspect, CheckWeights), converting them
// (Quantize), writing synthetic benchmark models (WriteSyntheticModel), raw logits of
// one forward pass (Logits) and speed measurements (Bench). Applications that only
// generate text need package dllm alone.
//
// Paths are what dllm.Load accepts, dllm.DemoModel included. Errors caused by the
// caller's input match dllm.ErrInvalid.
package tools
