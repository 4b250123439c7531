package tools

import (
	"github.com/dllm-go/dllm/dllm/internal/arch"
	"github.com/dllm-go/dllm/dllm/internal/invalid"
	"github.com/dllm-go/dllm/dllm/internal/weights"
)

var syntheticTypes = map[string]weights.DType{"f32": weights.F32, "f16": weights.F16, "bf16": weights.BF16, "q8_0": weights.Q8_0}

// SyntheticOptions describes a synthetic LLaDA2 checkpoint for WriteSyntheticModel.
type SyntheticOptions struct {
	// Preset is the shape: "mini" (the real LLaDA2.0-mini sizes) or "tiny" (hidden 256).
	Preset string
	// Layers overrides the preset's layer count when positive.
	Layers int
	// Type is the weight type: "f32", "f16", "bf16" or "q8_0" (GGUF only).
	Type string
	// Arch is the GGUF architecture name: "llada2" or "bailingmoe2" (what llama.cpp
	// master loads). Ignored for safetensors.
	Arch string
	// Format is "gguf" or "safetensors" (a Hugging Face directory).
	Format string
	// Seed makes the random weights reproducible.
	Seed uint64
	// Family is "llada2" (default) or "llada": a LLaDA-8B-architecture Hugging Face
	// directory (safetensors only; presets mini — hidden 1024, 16 heads, SwiGLU 2816,
	// vocabulary 32768, 8 layers — and tiny) for the bidirectional families' benchmarks.
	Family string
}

// WriteSyntheticModel writes a LLaDA2 checkpoint with the real architecture and
// deterministic random weights: the workload for benchmarks, where real weights would
// change nothing but the download.
func WriteSyntheticModel(path string, o SyntheticOptions) error {
	switch o.Family {
	case "", "llada2":
	case "llada":
		return writeSyntheticLLaDA(path, o)
	default:
		return invalid.Errorf("dllm: unknown synthetic family %q (want llada2 or llada)", o.Family)
	}
	tiny, err := tinyPreset(o.Preset)
	if err != nil {
		return err
	}
	cfg := arch.MiniConfig(o.Layers)
	if tiny {
		cfg = arch.TinyConfig(o.Layers)
	}
	dt, ok := syntheticTypes[o.Type]
	if !ok {
		return invalid.Errorf("dllm: unknown weight type %q (want f32, f16, bf16 or q8_0)", o.Type)
	}
	so := arch.SynthOptions{Config: cfg, DType: dt, Arch: o.Arch, Seed: o.Seed}
	switch o.Format {
	case "gguf":
		return arch.WriteSyntheticGGUF(path, so)
	case "safetensors":
		return arch.WriteSyntheticSafetensors(path, so)
	}
	return invalid.Errorf("dllm: unknown format %q (want gguf or safetensors)", o.Format)
}

func writeSyntheticLLaDA(path string, o SyntheticOptions) error {
	tiny, err := tinyPreset(o.Preset)
	if err != nil {
		return err
	}
	sh := arch.LLaDAMiniShape(o.Layers)
	if tiny {
		sh = arch.LLaDATinyShape(o.Layers)
	}
	dt, ok := syntheticTypes[o.Type]
	if !ok || dt == weights.Q8_0 {
		return invalid.Errorf("dllm: a synthetic LLaDA is a safetensors directory: weight type f32, f16 or bf16, not %q", o.Type)
	}
	if o.Format != "safetensors" && o.Format != "" {
		return invalid.Errorf("dllm: a synthetic LLaDA is a safetensors directory, not %s", o.Format)
	}
	return arch.WriteSyntheticLLaDA(path, sh, dt, o.Seed)
}

// tinyPreset reports whether preset names the tiny shapes ("tiny") rather than the mini
// ones ("mini" or "").
func tinyPreset(preset string) (bool, error) {
	switch preset {
	case "mini", "":
		return false, nil
	case "tiny":
		return true, nil
	}
	return false, invalid.Errorf("dllm: unknown preset %q (want mini or tiny)", preset)
}
