package main

import (
	"fmt"
	"strings"

	"github.com/dllm-go/dllm/dllm/tools"
)

// runMkModel is `dllm mkmodel`: a synthetic LLaDA2 (or, --family llada, LLaDA) checkpoint
// with deterministic random weights, the workload of the benchmarks (the same file for
// dllm and llama.cpp).
func runMkModel(args []string, std stdio) error {
	fs := newCommandFlags("mkmodel", "dllm mkmodel -o OUT [--family llada2|llada] [--preset mini] [--layers N] [-t q8_0]", std.out)
	out := fs.StringP("out", "o", "", "output: a .gguf file or a folder (safetensors) (required)")
	var o tools.SyntheticOptions
	fs.StringVar(&o.Preset, "preset", "mini", "shape: mini (LLaDA2.0-mini sizes) or tiny (hidden 256, for smoke tests)")
	fs.IntVar(&o.Layers, "layers", 0, "number of layers (0 = the preset's)")
	fs.StringVarP(&o.Type, "type", "t", "q8_0", "weight type: f32, f16, bf16 or q8_0 (GGUF only)")
	fs.StringVar(&o.Arch, "arch", "llada2", "GGUF architecture: llada2, or bailingmoe2 for llama.cpp master")
	fs.StringVar(&o.Format, "format", "", "gguf or safetensors (default: gguf when -o ends in .gguf)")
	fs.Uint64Var(&o.Seed, "seed", 1, "random seed")
	fs.StringVar(&o.Family, "family", "llada2", "llada2, or llada (a LLaDA-8B-architecture safetensors folder, bf16 by default; mini = hidden 1024, 8 layers, vocabulary 32k)")
	if err := fs.parse(args); err != nil {
		return err
	}
	if o.Family == "llada" && !fs.Changed("type") {
		o.Type = "bf16"
	}
	if err := fs.noArgs(); err != nil {
		return err
	}
	if *out == "" {
		return fs.required("-o OUT")
	}
	o.Type = strings.ToLower(o.Type)
	if o.Format == "" {
		o.Format = "safetensors"
		if strings.HasSuffix(strings.ToLower(*out), ".gguf") {
			o.Format = "gguf"
		}
	}
	if err := tools.WriteSyntheticModel(*out, o); err != nil {
		return err
	}
	fmt.Fprintf(std.err, "wrote %s (%s preset, %s)\n", *out, o.Preset, o.Type)
	return nil
}
