package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/dllm-go/dllm/dllm"
)

// runMkModel is `dllm mkmodel`: a synthetic LLaDA2 checkpoint with deterministic random
// weights, the workload of the benchmarks (the same file for dllm and llama.cpp).
func runMkModel(args []string) error {
	fs := flag.NewFlagSet("mkmodel", flag.ContinueOnError)
	out := fs.String("o", "", "output: a .gguf file or a directory (safetensors)")
	var o dllm.SyntheticOptions
	fs.StringVar(&o.Preset, "preset", "mini", "shape: mini (LLaDA2.0-mini sizes) or tiny (hidden 256, for smoke tests)")
	fs.IntVar(&o.Layers, "layers", 0, "number of layers (0 = the preset's)")
	fs.StringVar(&o.Type, "type", "q8_0", "weight type: f32, f16, bf16 or q8_0 (GGUF only)")
	fs.StringVar(&o.Arch, "arch", "llada2", "GGUF architecture: llada2, or bailingmoe2 for llama.cpp master")
	fs.StringVar(&o.Format, "format", "", "gguf or safetensors (default: gguf when -o ends in .gguf)")
	fs.Uint64Var(&o.Seed, "seed", 1, "random seed")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		fs.Usage()
		return errors.New("-o is required")
	}
	o.Type = strings.ToLower(o.Type)
	if o.Format == "" {
		o.Format = "safetensors"
		if strings.HasSuffix(strings.ToLower(*out), ".gguf") {
			o.Format = "gguf"
		}
	}
	if err := dllm.WriteSyntheticModel(*out, o); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %s (%s preset, %s)\n", *out, o.Preset, o.Type)
	return nil
}
