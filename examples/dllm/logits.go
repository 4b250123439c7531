package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/dllm-go/dllm/dllm"
)

// runLogits is `dllm logits`: float32 little-endian logits [tokens × vocab] of one forward
// pass with a block:N, causal or bidir mask, on a fresh cache (DESIGN.md §4).
func runLogits(args []string) error {
	fs := flag.NewFlagSet("logits", flag.ContinueOnError)
	model := fs.String("m", "", "model: Hugging Face directory or .gguf file")
	toks := fs.String("tokens", "", "input token ids, comma-separated")
	mask := fs.String("mask", "block:32", "attention mask: block:N, causal or bidir")
	out := fs.String("out", "", "output file (float32 little-endian, [tokens × vocab])")
	threads := fs.Int("threads", 0, "worker threads (0 = all cores)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *model == "" || *out == "" || *toks == "" {
		fs.Usage()
		return errors.New("-m, --tokens and --out are required")
	}
	tokens, err := parseIDs(*toks)
	if err != nil {
		return err
	}
	m, err := dllm.Load(*model, dllm.LoadOptions{Threads: *threads})
	if err != nil {
		return err
	}
	defer m.Close()
	logits, err := m.Logits(tokens, *mask)
	if err != nil {
		return err
	}
	if err := writeFloats(*out, logits); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %d × %d logits to %s\n", len(tokens), m.Info().VocabSize, *out)
	return nil
}

// writeFloats writes v as little-endian float32. On error the file at path is left as
// it was (dllm.WriteFile): never removed, never half written.
func writeFloats(path string, v []float32) error {
	return dllm.WriteFile(path, func(f io.Writer) error {
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
