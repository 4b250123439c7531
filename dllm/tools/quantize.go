package tools

import (
	"context"
	"time"

	"github.com/dllm-go/dllm/dllm/internal/convert"
)

// QuantizeOptions controls Quantize.
type QuantizeOptions struct {
	// Type is the storage type of the weight matrices: "f32", "f16", "bf16", "q8_0",
	// "q4_0", "q4_k" or "q6_k". Norms, biases, the MoE router and the expert bias always stay
	// f32; with q4_k the LM head is q6_k (as llama.cpp's K-quant presets do); a matrix
	// whose rows are not whole blocks falls back to q8_0 (K-quants) or f16.
	Type string
	// OutputType, if set, overrides the LM head's type.
	OutputType string
	// Arch is general.architecture; "" is the family's (llada2, llada, llada-moe,
	// dream, rnd1). LLaDA2 also takes "bailingmoe2", the name llama.cpp master loads
	// (same keys and tensors).
	Arch string
	// Name is general.name; "" uses the source directory's name.
	Name string
	// Tokenizer is the directory with tokenizer.json and tokenizer_config.json when it
	// is not src itself.
	Tokenizer string
	// Threads converts rows in parallel; 0 means GOMAXPROCS.
	Threads int
	// Progress, if set, is called as the conversion advances with the source bytes
	// converted so far and the total.
	Progress func(done, total int64)
}

// QuantizeSummary describes a finished conversion.
type QuantizeSummary struct {
	Tensors   int            // tensors written
	Types     map[string]int // tensor count per stored type
	Fallbacks []string       // matrices stored in another type than asked, and why
	InBytes   int64          // source tensor bytes read
	OutBytes  int64          // size of the GGUF file
	Elapsed   time.Duration
}

// Quantize converts a Hugging Face directory (config.json, *.safetensors,
// tokenizer.json, tokenizer_config.json) of a LLaDA2, LLaDA, LLaDA-MoE, Dream or RND1
// model into the GGUF file dst, laid out as llama.cpp's convert_hf_to_gguf.py writes the
// family (its keys, tensor names and order, stacked experts, LLaDA's query/key row
// permutation, tokenizer.ggml.* with merges and the chat template). It streams: memory stays at a few
// megabytes of buffers whatever the model size. The file appears at dst only when it is
// complete and synced; on error or when ctx is cancelled nothing is left behind.
func Quantize(ctx context.Context, src, dst string, opts QuantizeOptions) (QuantizeSummary, error) {
	s, err := convert.Convert(ctx, src, dst, convert.Options{
		Type: opts.Type, OutputType: opts.OutputType, Arch: opts.Arch, Name: opts.Name, Tokenizer: opts.Tokenizer,
		Threads: opts.Threads, Progress: opts.Progress,
	})
	if err != nil {
		return QuantizeSummary{}, err
	}
	return QuantizeSummary{
		Tensors: s.Tensors, Types: s.Types, Fallbacks: s.Fallbacks,
		InBytes: s.InBytes, OutBytes: s.OutBytes, Elapsed: s.Elapsed,
	}, nil
}
