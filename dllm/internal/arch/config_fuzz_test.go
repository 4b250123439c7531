package arch

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dllm-go/dllm/dllm/internal/weights"
)

// The configuration fuzz targets feed arbitrary bytes to the two parsers a model load
// runs before any tensor is bound: config.json (ParseHFConfig) and a GGUF's metadata
// (LoadConfig on the opened file), each followed by Validate. The contract: an error
// (for a GGUF, naming the file), or a configuration of a known family whose sizes are
// positive and within the limits, checked here apart from Validate; never a panic. `go
// test` runs the seeds (every family's config.json and GGUF metadata); fuzz with
//
//	go test -fuzz=FuzzHFConfig -fuzztime=5m ./dllm/internal/arch/
//	go test -fuzz=FuzzGGUFConfig -fuzztime=5m ./dllm/internal/arch/

func FuzzHFConfig(f *testing.F) {
	for _, dir := range configSeedDirs() {
		b, err := os.ReadFile(filepath.Join(dir, "hf", "config.json"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseHFConfig(data)
		if err != nil {
			return
		}
		if c.Validate() == nil {
			checkAcceptedConfig(t, c)
		}
	})
}

func FuzzGGUFConfig(f *testing.F) {
	for _, dir := range configSeedDirs() {
		paths, err := filepath.Glob(filepath.Join(dir, "gguf", "*.gguf"))
		if err != nil || len(paths) == 0 {
			f.Fatalf("no GGUF in %s (%v)", dir, err)
		}
		f.Add(ggufMetadataOnly(f, paths[0]))
	}
	path := filepath.Join(f.TempDir(), "fuzz.gguf")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		ck, err := weights.Open(path)
		if err != nil {
			return
		}
		defer ck.Close()
		c, err := LoadConfig(ck)
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		checkAcceptedConfig(t, c)
	})
}

// configSeedDirs are the fixture folders of every family (each with hf/ and gguf/).
func configSeedDirs() []string {
	dirs := []string{microDir}
	for _, fam := range []string{"llada", "llada-moe", "dream", "rnd1"} {
		dirs = append(dirs, filepath.Join(familiesDir, fam))
	}
	return dirs
}

// ggufMetadataOnly is the GGUF at path rewritten with its metadata and no tensors: the
// configuration comes from the metadata, and a seed without megabytes of weights
// leaves the fuzzer its time for the header.
func ggufMetadataOnly(f *testing.F, path string) []byte {
	raw, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	g, err := weights.ParseGGUF(raw, path)
	if err != nil {
		f.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := weights.NewGGUFWriter(&buf, g.Meta.KVs(), nil)
	if err != nil {
		f.Fatal(err)
	}
	if err := w.Finish(); err != nil {
		f.Fatal(err)
	}
	return buf.Bytes()
}

// checkAcceptedConfig: a configuration LoadConfig or Validate accepted names a known
// family, and every size the model's buffers are made from is positive and within
// MaxSize, with whole KV groups.
func checkAcceptedConfig(t *testing.T, c Config) {
	t.Helper()
	if familyByName(c.Family) == nil {
		t.Fatalf("accepted configuration of unknown family %q", c.Family)
	}
	for _, v := range []int{c.HiddenSize, c.NumLayers, c.NumHeads, c.NumKVHeads, c.HeadDim, c.VocabSize, c.RotaryDim} {
		if v <= 0 || v > MaxSize {
			t.Fatalf("accepted size %d outside 1…%d: %+v", v, MaxSize, c)
		}
	}
	if c.NumHeads%c.NumKVHeads != 0 || c.RotaryDim > c.HeadDim || c.MaxPositionEmbeddings > MaxContext {
		t.Fatalf("accepted inconsistent configuration %+v", c)
	}
}
