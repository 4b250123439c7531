package llada2

import (
	"bufio"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/dllm-go/dllm/dllm/internal/weights"
)

// The two subcommands of the `dllm` tool that belong to the architecture rather than to
// the public API: `logits` (raw forward-pass output, an interface for outside tests,
// DESIGN.md §4) and `mkmodel` (synthetic checkpoints for benchmarks). They live here so
// the command's wrappers stay one line each.

// LogitsCommand implements `dllm logits -m PATH --tokens 1,2,3 --mask block:N|causal|bidir
// --out FILE [--threads N]`: it writes float32 little-endian logits [tokens × vocab],
// computed on a fresh cache (block mode: block by block with commits).
func LogitsCommand(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("logits", flag.ContinueOnError)
	fs.SetOutput(stderr)
	model := fs.String("m", "", "model: Hugging Face directory or .gguf file")
	toks := fs.String("tokens", "", "input token ids, comma-separated")
	mask := fs.String("mask", "block:32", "attention mask: block:N, causal or bidir")
	out := fs.String("out", "", "output file (float32 little-endian, [tokens × vocab])")
	threads := fs.Int("threads", 0, "worker threads (0 = GOMAXPROCS)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *model == "" || *out == "" || *toks == "" {
		fs.Usage()
		return errors.New("logits: -m, --tokens and --out are required")
	}
	tokens, err := parseTokenList(*toks)
	if err != nil {
		return err
	}
	block, err := ParseMask(*mask)
	if err != nil {
		return err
	}
	ck, err := weights.Open(*model)
	if err != nil {
		return err
	}
	defer ck.Close()
	cfg, err := LoadConfig(ck)
	if err != nil {
		return err
	}
	ts, err := CanonicalTensors(ck)
	if err != nil {
		return err
	}
	m, err := Bind(cfg, ts)
	if err != nil {
		return err
	}
	m = m.WithThreads(*threads)
	logits, err := m.Logits(tokens, block)
	if err != nil {
		return err
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var b [4]byte
	for _, v := range logits {
		binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
		w.Write(b[:])
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %d × %d logits to %s\n", len(tokens), cfg.VocabSize, *out)
	return nil
}

func parseTokenList(s string) ([]int32, error) {
	var ids []int32
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		v, err := strconv.ParseInt(f, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("bad token id %q: %v", f, err)
		}
		ids = append(ids, int32(v))
	}
	if len(ids) == 0 {
		return nil, errors.New("no token ids given")
	}
	return ids, nil
}

// MkModelCommand implements `dllm mkmodel -o OUT --preset mini --layers 2
// --type q8_0|bf16|f16|f32 [--arch llada2|bailingmoe2] [--format gguf|safetensors]
// [--seed N]`: a synthetic LLaDA2 checkpoint with deterministic random weights. The
// format defaults to GGUF when OUT ends in .gguf, else a safetensors directory.
func MkModelCommand(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("mkmodel", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "output: a .gguf file or a directory (safetensors)")
	preset := fs.String("preset", "mini", "shape preset: mini (LLaDA2.0-mini sizes) or tiny (hidden 256, for smoke tests)")
	layers := fs.Int("layers", 0, "number of layers (0 = the preset's)")
	typ := fs.String("type", "q8_0", "weight type: f32, f16, bf16 or q8_0 (GGUF only)")
	arch := fs.String("arch", "llada2", "GGUF architecture name: llada2 or bailingmoe2 (llama.cpp master)")
	format := fs.String("format", "", "gguf or safetensors (default: from the output name)")
	seed := fs.Uint64("seed", 1, "random seed")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		fs.Usage()
		return errors.New("mkmodel: -o is required")
	}
	var cfg Config
	switch *preset {
	case "mini":
		cfg = MiniConfig(*layers)
	case "tiny":
		cfg = TinyConfig(*layers)
	default:
		return fmt.Errorf("mkmodel: unknown preset %q (want mini or tiny)", *preset)
	}
	dt, ok := map[string]weights.DType{"f32": weights.F32, "f16": weights.F16, "bf16": weights.BF16, "q8_0": weights.Q8_0}[strings.ToLower(*typ)]
	if !ok {
		return fmt.Errorf("mkmodel: unknown type %q (want f32, f16, bf16 or q8_0)", *typ)
	}
	if *format == "" {
		*format = "safetensors"
		if strings.HasSuffix(strings.ToLower(*out), ".gguf") {
			*format = "gguf"
		}
	}
	o := SynthOptions{Config: cfg, DType: dt, Arch: *arch, Seed: *seed}
	var err error
	switch *format {
	case "gguf":
		err = WriteSyntheticGGUF(*out, o)
	case "safetensors":
		err = WriteSyntheticSafetensors(*out, o)
	default:
		err = fmt.Errorf("mkmodel: unknown format %q (want gguf or safetensors)", *format)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %s (%s, %d layers, %s)\n", *out, *preset, cfg.NumLayers, dt)
	return nil
}
