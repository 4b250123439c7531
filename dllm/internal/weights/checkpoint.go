package weights

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/dllm-go/dllm/dllm/internal/regfile"
)

// Checkpoint formats.
const (
	FormatSafetensors = "safetensors"
	FormatGGUF        = "gguf"
)

// File names of a Hugging Face checkpoint directory.
const (
	ConfigFile            = "config.json"
	SafetensorsFile       = "model.safetensors"
	SafetensorsIndexFile  = "model.safetensors.index.json"
	maxConfigBytes        = 16 << 20 // config.json and the index are small; refuse absurd ones
	maxShardIndexFileSize = 256 << 20
)

// Checkpoint is an opened model: memory-mapped files and the tensors they hold. Opening
// reads headers only; tensor data pages fault in when first used. Tensor views and their
// Data die with Close.
type Checkpoint struct {
	Format string // FormatSafetensors or FormatGGUF
	Path   string // the directory or .gguf file that was opened

	// Tensors are sorted by name, in the file's own naming (see arch.CanonicalTensors
	// for the architecture's canonical names).
	Tensors []Tensor

	// Meta is the GGUF metadata (nil for safetensors).
	Meta *Metadata
	// GGUF is the parsed GGUF header (nil for safetensors).
	GGUF *GGUF

	// Config is the raw config.json of a safetensors directory (nil for GGUF).
	Config []byte
	// STMetadata is the "__metadata__" of the safetensors file(s), merged.
	STMetadata map[string]string

	maps  []*mapping
	index map[string]int
}

// Open opens a checkpoint: a directory with config.json and model.safetensors or
// model.safetensors.index.json (+ shards), or a .gguf file.
func Open(path string) (*Checkpoint, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	var ck *Checkpoint
	switch {
	case st.IsDir():
		err = CatchFaults(path, func() (err error) { ck, err = openSafetensorsDir(path); return err })
	case strings.HasSuffix(strings.ToLower(path), ".gguf"):
		err = CatchFaults(path, func() (err error) { ck, err = openGGUF(path); return err })
	default:
		return nil, fmt.Errorf("%s: not a checkpoint directory or a .gguf file", path)
	}
	if err != nil {
		return nil, err
	}
	ck.Path = path
	if err := ck.buildIndex(); err != nil {
		ck.Close()
		return nil, err
	}
	return ck, nil
}

func openGGUF(path string) (*Checkpoint, error) {
	m, err := mapFile(path)
	if err != nil {
		return nil, err
	}
	g, err := ParseGGUF(m.data, path)
	if err != nil {
		m.unmap()
		return nil, err
	}
	ts := make([]Tensor, len(g.Tensors))
	copy(ts, g.Tensors)
	return &Checkpoint{Format: FormatGGUF, Tensors: ts, Meta: g.Meta, GGUF: g, maps: []*mapping{m}}, nil
}

func openSafetensorsDir(dir string) (*Checkpoint, error) {
	ck := &Checkpoint{Format: FormatSafetensors}
	if err := ck.loadDir(dir); err != nil {
		ck.Close()
		return nil, err
	}
	return ck, nil
}

func (ck *Checkpoint) loadDir(dir string) error {
	var err error
	ck.Config, err = regfile.ReadFile(filepath.Join(dir, ConfigFile), maxConfigBytes)
	if err != nil {
		return fmt.Errorf("%s: checkpoint directory without a readable %s: %w", dir, ConfigFile, err)
	}
	indexPath := filepath.Join(dir, SafetensorsIndexFile)
	if _, serr := os.Stat(indexPath); serr == nil {
		return ck.openShards(dir, indexPath)
	}
	single := filepath.Join(dir, SafetensorsFile)
	if _, serr := os.Stat(single); serr != nil {
		return fmt.Errorf("%s: neither %s nor %s", dir, SafetensorsFile, SafetensorsIndexFile)
	}
	st, err := ck.mapSafetensors(single)
	if err != nil {
		return err
	}
	ck.Tensors = st.Tensors
	ck.STMetadata = st.Metadata
	return nil
}

func (ck *Checkpoint) mapSafetensors(path string) (*Safetensors, error) {
	m, err := mapFile(path)
	if err != nil {
		return nil, err
	}
	ck.maps = append(ck.maps, m)
	return ParseSafetensors(m.data, path)
}

// shardIndex is model.safetensors.index.json.
type shardIndex struct {
	Metadata struct {
		TotalSize *int64 `json:"total_size"`
	} `json:"metadata"`
	WeightMap map[string]string `json:"weight_map"`
}

// openShards maps every shard named by the index and checks that the index and the
// shards agree exactly: each indexed tensor is in its shard, and each shard tensor is
// indexed to that shard.
func (ck *Checkpoint) openShards(dir, indexPath string) error {
	raw, err := regfile.ReadFile(indexPath, maxShardIndexFileSize)
	if err != nil {
		return err
	}
	var idx shardIndex
	if err := json.Unmarshal(raw, &idx); err != nil {
		return fmt.Errorf("%s: %w", indexPath, err)
	}
	if len(idx.WeightMap) == 0 {
		return fmt.Errorf("%s: empty weight_map", indexPath)
	}
	shards := map[string][]string{} // shard file -> tensor names indexed to it
	for name, file := range idx.WeightMap {
		if file == "" || file != filepath.Base(file) || file == "." || file == ".." || strings.ContainsAny(file, `/\`) {
			return fmt.Errorf("%s: tensor %s: shard %s is not a plain file name", indexPath, Quote(name), Quote(file))
		}
		shards[file] = append(shards[file], name)
	}
	files := make([]string, 0, len(shards))
	for f := range shards {
		files = append(files, f)
	}
	sort.Strings(files)
	var total int64
	for _, file := range files {
		path := filepath.Join(dir, file)
		st, err := ck.mapSafetensors(path)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("%s: shard %s (holding tensor %s) is missing", indexPath, file, Quote(shards[file][0]))
			}
			return err
		}
		have := make(map[string]bool, len(st.Tensors))
		for _, t := range st.Tensors {
			have[t.Name] = true
			if want, ok := idx.WeightMap[t.Name]; !ok {
				return fmt.Errorf("%s: tensor %s is not in the index %s", path, Quote(t.Name), SafetensorsIndexFile)
			} else if want != file {
				return fmt.Errorf("%s: tensor %s is indexed to shard %s", path, Quote(t.Name), want)
			}
			total += int64(len(t.Data))
		}
		for _, name := range shards[file] {
			if !have[name] {
				return fmt.Errorf("%s: tensor %s, indexed to this shard, is not in it", path, Quote(name))
			}
		}
		ck.Tensors = append(ck.Tensors, st.Tensors...)
		for k, v := range st.Metadata {
			if ck.STMetadata == nil {
				ck.STMetadata = map[string]string{}
			}
			ck.STMetadata[k] = v
		}
	}
	if ts := idx.Metadata.TotalSize; ts != nil && *ts != total {
		return fmt.Errorf("%s: metadata.total_size is %d but the shards hold %d tensor bytes", indexPath, *ts, total)
	}
	return nil
}

// buildIndex sorts the tensors by name and rejects duplicates (a tensor in two shards).
func (ck *Checkpoint) buildIndex() error {
	sort.SliceStable(ck.Tensors, func(i, j int) bool { return ck.Tensors[i].Name < ck.Tensors[j].Name })
	ck.index = make(map[string]int, len(ck.Tensors))
	for i, t := range ck.Tensors {
		if _, dup := ck.index[t.Name]; dup {
			prev := ck.Tensors[ck.index[t.Name]]
			return fmt.Errorf("tensor %s is in both %s (%s %v) and %s (%s %v)",
				Quote(t.Name), prev.File, prev.DType, prev.Shape, t.File, t.DType, t.Shape)
		}
		ck.index[t.Name] = i
	}
	return nil
}

// Tensor returns the tensor called name (in the file's naming).
func (ck *Checkpoint) Tensor(name string) (*Tensor, bool) {
	i, ok := ck.index[name]
	if !ok {
		return nil, false
	}
	return &ck.Tensors[i], true
}

// TotalBytes is the sum of the tensor data sizes.
func (ck *Checkpoint) TotalBytes() int64 {
	var n int64
	for _, t := range ck.Tensors {
		n += int64(len(t.Data))
	}
	return n
}

// Dir is the directory holding the checkpoint (where tokenizer files are looked for).
func (ck *Checkpoint) Dir() string {
	if ck.Format == FormatGGUF {
		return filepath.Dir(ck.Path)
	}
	return ck.Path
}

// Verify reports ErrChanged, naming the file, when a mapped file was truncated or
// rewritten since it was opened: the tensors then no longer hold the weights that were
// checked at open, and reading past a truncated end would fault. One fstat per file.
func (ck *Checkpoint) Verify() error {
	for _, m := range ck.maps {
		if err := m.verify(); err != nil {
			return err
		}
	}
	return nil
}

// Close unmaps every file. Tensor data obtained from the checkpoint must not be used
// afterwards: the memory is gone and touching it faults.
func (ck *Checkpoint) Close() error {
	var first error
	for _, m := range ck.maps {
		if err := m.unmap(); err != nil && first == nil {
			first = err
		}
	}
	ck.maps = nil
	for i := range ck.Tensors {
		ck.Tensors[i].Data = nil
	}
	if ck.GGUF != nil {
		for i := range ck.GGUF.Tensors {
			ck.GGUF.Tensors[i].Data = nil
		}
	}
	return first
}
