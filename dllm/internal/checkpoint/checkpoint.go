// Package checkpoint opens what a model path names — a Hugging Face directory, a .gguf
// file, a folder holding exactly one of those, or the built-in demo model — for package
// dllm's Load and for the tools that read checkpoints without loading them.
package checkpoint

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/dllm-go/dllm/dllm/internal/demo"
	"github.com/dllm-go/dllm/dllm/internal/regfile"
	"github.com/dllm-go/dllm/dllm/internal/weights"
	"github.com/dllm-go/dllm/dllm/tokenizer"
)

// DemoName names the built-in demo model (dllm.DemoModel) unless a file or folder of
// that name exists.
const DemoName = "demo"

// Checkpoint is an opened checkpoint and where its side files (tokenizer.json,
// tokenizer_config.json) come from.
type Checkpoint struct {
	*weights.Checkpoint
	// files holds the side files of a checkpoint compiled into the binary; nil for one
	// on disk, whose side files are read from its directory.
	files map[string][]byte
}

// Open opens the checkpoint that path names: a Hugging Face directory, a .gguf file, a
// folder holding exactly one of those, or DemoName.
func Open(path string) (*Checkpoint, error) {
	if isDemoName(path) {
		ck, err := weights.OpenMemory(DemoName, demo.Config, demo.Safetensors)
		if err != nil {
			return nil, fmt.Errorf("dllm: the built-in demo model: %w", err)
		}
		return &Checkpoint{Checkpoint: ck, files: map[string][]byte{
			"tokenizer.json":        demo.TokenizerJSON,
			"tokenizer_config.json": demo.TokenizerConfig,
		}}, nil
	}
	path, err := modelInFolder(path)
	if err != nil {
		return nil, err
	}
	ck, err := weights.Open(path)
	if err != nil {
		return nil, err
	}
	return &Checkpoint{Checkpoint: ck}, nil
}

// isDemoName reports whether path means the built-in demo model: it is DemoName and
// nothing of that name exists, so that a real path always wins.
func isDemoName(path string) bool {
	if path != DemoName {
		return false
	}
	_, err := os.Stat(path)
	return errors.Is(err, fs.ErrNotExist)
}

// modelInFolder returns path itself when it is a checkpoint (a .gguf file or a folder
// with config.json) or not a folder at all, so that opening it gives the precise error.
// A folder holding exactly one model — a subfolder with config.json (such as hf/) or a
// .gguf file — gives that model; several or none is an error naming what to pass.
func modelInFolder(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil || !st.IsDir() {
		return path, nil
	}
	if _, err := os.Stat(filepath.Join(path, weights.ConfigFile)); err == nil {
		return path, nil
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return "", err
	}
	var models []string
	for _, e := range entries {
		p := filepath.Join(path, e.Name())
		if e.IsDir() {
			if _, err := os.Stat(filepath.Join(p, weights.ConfigFile)); err == nil {
				models = append(models, p)
			}
		} else if strings.HasSuffix(strings.ToLower(e.Name()), ".gguf") {
			models = append(models, p)
		}
	}
	sort.Strings(models)
	switch len(models) {
	case 1:
		return models[0], nil
	case 0:
		return "", fmt.Errorf("%s: a folder with neither %s nor a model inside (a subfolder with %s or a .gguf file)",
			path, weights.ConfigFile, weights.ConfigFile)
	}
	return "", fmt.Errorf("%s holds %d models; pass one of: %s", path, len(models), strings.Join(models, ", "))
}

// SideFile reads one of the checkpoint's side files; a missing one is fs.ErrNotExist.
func (c *Checkpoint) SideFile(name string) ([]byte, error) {
	if c.files == nil {
		return regfile.ReadFile(filepath.Join(c.Dir(), name), regfile.MaxTextBytes)
	}
	b, ok := c.files[name]
	if !ok {
		return nil, fmt.Errorf("%s/%s: %w", c.Path, name, fs.ErrNotExist)
	}
	return b, nil
}

// LoadTokenizer reads the tokenizer.ggml.* keys of a GGUF file, or tokenizer.json (and
// tokenizer_config.json) of a Hugging Face checkpoint.
func (c *Checkpoint) LoadTokenizer() (*tokenizer.Tokenizer, error) {
	switch {
	case c.Format == weights.FormatGGUF:
		if c.Meta == nil {
			return nil, fmt.Errorf("dllm: %s: no GGUF metadata", c.Path)
		}
		v, err := tokenizer.VocabFromGGUF(c.Meta)
		if err != nil {
			return nil, fmt.Errorf("dllm: %s: %w", c.Path, err)
		}
		tok, err := tokenizer.FromGGUF(v)
		if err != nil {
			return nil, fmt.Errorf("dllm: %s: %w", c.Path, err)
		}
		return tok, nil
	case c.files != nil:
		return tokenizer.FromJSON(c.files["tokenizer.json"], c.files["tokenizer_config.json"])
	}
	dir := c.Dir()
	if _, err := os.Stat(filepath.Join(dir, "tokenizer.json")); err != nil {
		return nil, fmt.Errorf("dllm: %s has no tokenizer.json: %w", dir, err)
	}
	return tokenizer.Load(dir)
}
