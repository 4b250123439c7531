package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"

	"github.com/dllm-go/dllm/dllm"
	"github.com/dllm-go/dllm/dllm/tools"
)

// runLogits is `dllm logits`: float32 little-endian logits [tokens × vocab] of one forward
// pass with a block:N, causal or bidir mask, on a fresh cache (DESIGN.md §4).
func runLogits(args []string, std stdio) error {
	fs := newCommandFlags("logits", "dllm logits -m PATH --tokens 1,2,3 [--mask block:N|causal|bidir] -o FILE", std.out)
	model := fs.StringP("model", "m", "", "`PATH` of "+modelFlagHelp+" (required)")
	toks := fs.String("tokens", "", "input token ids, comma-separated (required)")
	mask := fs.String("mask", "", "attention mask: block:N, causal or bidir (default: the model's own, block:32 for LLaDA2, bidir for LLaDA, Dream and LLaDA-MoE)")
	out := fs.StringP("out", "o", "", "output file, float32 little-endian [tokens × vocab] (required)")
	threads := fs.Int("threads", 0, "worker threads (0 = all cores)")
	noRepack := fs.Bool("no-repack", false, noRepackHelp)
	if err := fs.parse(args); err != nil {
		return err
	}
	if err := fs.noArgs(); err != nil {
		return err
	}
	for _, req := range []struct{ flag, value string }{{"-m PATH", *model}, {"--tokens", *toks}, {"-o/--out FILE", *out}} {
		if req.value == "" {
			return fs.required(req.flag)
		}
	}
	tokens, err := parseIDs(*toks)
	if err != nil {
		return usagef("--tokens: %v", err)
	}
	var attention tools.Mask
	if *mask != "" {
		if attention, err = tools.ParseMask(*mask); err != nil {
			return usagef("--mask: %v", err)
		}
	}
	m, err := loadModel(*model, dllm.LoadOptions{Threads: *threads, NoRepack: *noRepack})
	if err != nil {
		return err
	}
	defer m.Close()
	if *mask == "" {
		if attention, err = tools.ModelMask(m); err != nil {
			return err
		}
	}
	logits, err := tools.Logits(m, tokens, attention)
	if err != nil {
		return err
	}
	if err := writeFloats(*out, logits); err != nil {
		return err
	}
	fmt.Fprintf(std.err, "wrote %d × %d logits to %s\n", len(tokens), m.Info().VocabSize, *out)
	return nil
}

// writeFloats writes v as little-endian float32. On error the file at path is left as
// it was (tools.WriteFile): never removed, never half written.
func writeFloats(path string, v []float32) error {
	return tools.WriteFile(path, func(f io.Writer) error {
		w := bufio.NewWriterSize(f, 1<<20)
		var b [4]byte
		for _, x := range v {
			binary.LittleEndian.PutUint32(b[:], math.Float32bits(x))
			if _, err := w.Write(b[:]); err != nil {
				return err
			}
		}
		return w.Flush()
	})
}
