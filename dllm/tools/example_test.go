package tools_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"

	"github.com/dllm-go/dllm/dllm"
	"github.com/dllm-go/dllm/dllm/tools"
)

// Inspect reads a checkpoint's configuration and tensor list without loading it.
func ExampleInspect() {
	info, err := tools.Inspect(dllm.DemoModel)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(info.Format, info.Architecture, len(info.Tensors), "tensors")
	fmt.Println(info.Config.NumLayers, "layers of", info.Config.HiddenSize, "with", info.Config.NumExperts, "experts")
	fmt.Println("mask token", info.SpecialTokens["<|mask|>"])
	// Output:
	// safetensors llada2_moe 189 tensors
	// 4 layers of 128 with 16 experts
	// mask token 1020
}

// CheckWeights reads every weight for NaN or infinity: run it on a checkpoint of unknown
// origin before serving it.
func ExampleCheckWeights() {
	bad, err := tools.CheckWeights(dllm.DemoModel)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(bad), "tensors with non-finite values")
	// Output: 0 tensors with non-finite values
}

// Logits gives the raw output of one forward pass, to compare the model with a
// reference implementation on the same ids.
func ExampleLogits() {
	m, err := dllm.Load(dllm.DemoModel, dllm.LoadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	ids, _ := m.Tokenize("Reverse: a b c", false)
	logits, err := tools.Logits(m, ids, tools.BlockMask(32))
	if err != nil {
		log.Fatal(err)
	}
	vocab := m.Info().VocabSize
	fmt.Println(len(ids), "rows of", vocab, "logits:", len(logits) == len(ids)*vocab)
	// Output: 7 rows of 1024 logits: true
}

// ParseMask reads a mask as the dllm command's --mask flag spells it.
func ExampleParseMask() {
	for _, s := range []string{"block:32", "causal", "bidir", "block:0"} {
		mask, err := tools.ParseMask(s)
		fmt.Println(mask, err)
	}
	// Output:
	// block:32 <nil>
	// causal <nil>
	// bidir <nil>
	// invalid llada2: bad mask "block:0": block size must be a positive integer
}

// WriteSyntheticModel writes a model with the real architecture and random weights, for
// benchmarks that need the shape of a model but not its answers.
func ExampleWriteSyntheticModel() {
	dir, err := os.MkdirTemp("", "synthetic")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "tiny.gguf")
	o := tools.SyntheticOptions{Preset: "tiny", Layers: 2, Type: "q8_0", Format: "gguf", Seed: 1}
	if err := tools.WriteSyntheticModel(path, o); err != nil {
		log.Fatal(err)
	}
	info, err := tools.Inspect(path)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(info.Architecture, info.Config.NumLayers, "layers of", info.Config.HiddenSize)
	// Output: llada2 2 layers of 256
}

// Bench measures a loaded model's speed; its result prints as the JSON of `dllm bench
// --json`. (No output is shown: timings differ from run to run.)
func ExampleBench() {
	m, err := dllm.Load(dllm.DemoModel, dllm.LoadOptions{Threads: 2})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	r, err := tools.Bench(context.Background(), m, tools.BenchOptions{Reps: 3, Prefill: []int{64}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%.0f tokens/s per block forward on %d threads (%s kernels)\n",
		r.BlockForward.TokPerSec, r.Threads, r.Kernels)
	// What the first decoding step after a prompt reads, against the machine's limits.
	if s := r.FirstStep; s != nil {
		fmt.Printf("first step: %.1f experts per MoE layer, %.1f MB of weights, %.0f %% of roofline\n",
			s.ExpertsPerLayer, float64(s.WeightBytes)/1e6, s.RooflinePct)
	}
}

// Quantize converts a Hugging Face checkpoint into a GGUF file that Load and llama.cpp
// read. (The paths here are placeholders, so the example is not run.)
func ExampleQuantize() {
	sum, err := tools.Quantize(context.Background(), "LLaDA2.0-mini", "LLaDA2.0-mini-q8_0.gguf",
		tools.QuantizeOptions{Type: "q8_0", Progress: func(done, total int64) {}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(sum.Tensors, "tensors,", sum.OutBytes, "bytes, types", sum.Types)
}

// WriteFile gives a tool's own output the library's guarantee: the file at the path is
// either the old one or the complete new one, never half written.
func ExampleWriteFile() {
	dir, err := os.MkdirTemp("", "out")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "report.txt")
	err = tools.WriteFile(path, func(w io.Writer) error {
		_, err := io.WriteString(w, "all tensors finite\n")
		return err
	})
	if err != nil {
		log.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	fmt.Print(string(b))
	// Output: all tensors finite
}
