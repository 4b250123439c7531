package weights

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const micro = "../../../testdata/llada2-micro/"

// microForms lists every form of the micro fixture.
var microForms = []string{
	"hf", "hf-sharded",
	"gguf/micro-f32.gguf", "gguf/micro-bf16.gguf", "gguf/micro-q8_0.gguf", "gguf/micro-q4_0.gguf",
}

func TestOpenMicro(t *testing.T) {
	var hfBytes map[string][]byte
	for _, form := range microForms {
		ck, err := Open(micro + form)
		if err != nil {
			t.Fatal(err)
		}
		isGGUF := strings.HasSuffix(form, ".gguf")
		wantFormat, wantN := FormatSafetensors, 130
		if isGGUF {
			wantFormat, wantN = FormatGGUF, 40
		}
		if ck.Format != wantFormat || len(ck.Tensors) != wantN {
			t.Errorf("%s: format %s, %d tensors", form, ck.Format, len(ck.Tensors))
		}
		if isGGUF != (ck.Meta != nil) || isGGUF == (ck.Config != nil) {
			t.Errorf("%s: Meta %v, Config %d bytes", form, ck.Meta != nil, len(ck.Config))
		}
		for i := 1; i < len(ck.Tensors); i++ {
			if ck.Tensors[i-1].Name >= ck.Tensors[i].Name {
				t.Errorf("%s: tensors not sorted at %s", form, ck.Tensors[i].Name)
			}
		}
		var total int64
		for i := range ck.Tensors {
			tt := &ck.Tensors[i]
			got, ok := ck.Tensor(tt.Name)
			if !ok || got != tt {
				t.Errorf("%s: lookup of %s failed", form, tt.Name)
			}
			total += int64(len(tt.Data))
		}
		if ck.TotalBytes() != total || total == 0 {
			t.Errorf("%s: TotalBytes %d, sum %d", form, ck.TotalBytes(), total)
		}
		if _, ok := ck.Tensor("nope"); ok {
			t.Errorf("%s: lookup of a missing tensor succeeded", form)
		}
		// The sharded directory holds the same bytes as the single file.
		if !isGGUF {
			m := map[string][]byte{}
			for _, tt := range ck.Tensors {
				m[tt.Name] = append([]byte(nil), tt.Data...)
			}
			if hfBytes == nil {
				hfBytes = m
			} else {
				for name, b := range hfBytes {
					if !bytes.Equal(m[name], b) {
						t.Errorf("%s: tensor %s differs from hf", form, name)
					}
				}
			}
		}
		if err := ck.Close(); err != nil {
			t.Error(err)
		}
		if ck.Tensors[0].Data != nil {
			t.Errorf("%s: tensor data survives Close", form)
		}
	}
}

// copyDir copies the files of a fixture directory into a fresh temporary directory.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// editIndex rewrites the index of a sharded copy.
func editIndex(t *testing.T, dir string, edit func(idx map[string]any)) {
	t.Helper()
	p := filepath.Join(dir, SafetensorsIndexFile)
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var idx map[string]any
	if err := json.Unmarshal(raw, &idx); err != nil {
		t.Fatal(err)
	}
	edit(idx)
	raw, _ = json.Marshal(idx)
	if err := os.WriteFile(p, raw, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestOpenShardsInconsistent(t *testing.T) {
	const (
		shard1 = "model-00001-of-00002.safetensors"
		shard2 = "model-00002-of-00002.safetensors"
		emb    = "model.word_embeddings.weight"
	)
	wm := func(idx map[string]any) map[string]any { return idx["weight_map"].(map[string]any) }
	// shardOf finds which shard holds emb in the fixture.
	ref, err := Open(micro + "hf-sharded")
	if err != nil {
		t.Fatal(err)
	}
	embT, _ := ref.Tensor(emb)
	embFile, other := filepath.Base(embT.File), shard1
	if embFile == shard1 {
		other = shard2
	}
	ref.Close()

	cases := []struct {
		name string
		mod  func(dir string)
		want string
	}{
		{"missing shard", func(dir string) { os.Remove(filepath.Join(dir, shard2)) }, "shard " + shard2},
		{"index names a tensor the shard lacks", func(dir string) {
			editIndex(t, dir, func(idx map[string]any) { wm(idx)["model.ghost.weight"] = shard1 })
		}, `"model.ghost.weight", indexed to this shard, is not in it`},
		{"shard tensor not indexed", func(dir string) {
			editIndex(t, dir, func(idx map[string]any) { delete(wm(idx), emb) })
		}, `tensor "` + emb + `" is not in the index`},
		{"tensor indexed to the other shard", func(dir string) {
			editIndex(t, dir, func(idx map[string]any) { wm(idx)[emb] = other })
		}, emb},
		{"total_size mismatch", func(dir string) {
			editIndex(t, dir, func(idx map[string]any) { idx["metadata"].(map[string]any)["total_size"] = 12345 })
		}, "total_size is 12345"},
		{"path escape", func(dir string) {
			editIndex(t, dir, func(idx map[string]any) { wm(idx)[emb] = "../" + embFile })
		}, "not a plain file name"},
		{"empty weight map", func(dir string) {
			editIndex(t, dir, func(idx map[string]any) { idx["weight_map"] = map[string]any{} })
		}, "empty weight_map"},
		{"corrupt index", func(dir string) {
			os.WriteFile(filepath.Join(dir, SafetensorsIndexFile), []byte("{"), 0o644)
		}, SafetensorsIndexFile},
		{"corrupt shard", func(dir string) {
			p := filepath.Join(dir, shard2)
			b, _ := os.ReadFile(p)
			os.WriteFile(p, b[:len(b)-1], 0o644)
		}, shard2},
		{"no config", func(dir string) { os.Remove(filepath.Join(dir, ConfigFile)) }, ConfigFile},
		{"no weights", func(dir string) { os.Remove(filepath.Join(dir, SafetensorsIndexFile)) }, "neither"},
	}
	for _, c := range cases {
		dir := copyDir(t, micro+"hf-sharded")
		c.mod(dir)
		ck, err := Open(dir)
		if err == nil {
			ck.Close()
			t.Errorf("%s: opened", c.name)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q, want %q", c.name, err, c.want)
		}
	}

	// The same tensor in two shards (a shard duplicated under another name, indexed
	// consistently for one copy) is caught as a duplicate naming both files.
	dir := copyDir(t, micro+"hf")
	b, _ := os.ReadFile(filepath.Join(dir, SafetensorsFile))
	os.WriteFile(filepath.Join(dir, "b.safetensors"), b, 0o644)
	os.Rename(filepath.Join(dir, SafetensorsFile), filepath.Join(dir, "a.safetensors"))
	st, err := ParseSafetensors(b, "x")
	if err != nil {
		t.Fatal(err)
	}
	idx := map[string]any{"weight_map": map[string]any{}}
	for i, tt := range st.Tensors {
		wm(idx)[tt.Name] = []string{"a.safetensors", "b.safetensors"}[i%2]
	}
	raw, _ := json.Marshal(idx)
	os.WriteFile(filepath.Join(dir, SafetensorsIndexFile), raw, 0o644)
	if ck, err := Open(dir); err == nil {
		ck.Close()
		t.Error("shards with overlapping tensors opened")
	}
}

func TestOpenOddPaths(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.gguf")
	os.WriteFile(empty, nil, 0o644)
	if _, err := Open(empty); err == nil || !strings.Contains(err.Error(), "empty.gguf") {
		t.Errorf("empty file: %v", err)
	}
	m, err := mapFile(empty)
	if err != nil || len(m.data) != 0 || m.unmap() != nil {
		t.Errorf("mapping an empty file: %v", err)
	}
	if _, err := Open(filepath.Join(dir, "missing.gguf")); err == nil {
		t.Error("missing file opened")
	}
	other := filepath.Join(dir, "model.bin")
	os.WriteFile(other, []byte("x"), 0o644)
	if _, err := Open(other); err == nil || !strings.Contains(err.Error(), "not a checkpoint") {
		t.Errorf("non-checkpoint file: %v", err)
	}
	// A directory named like a GGUF file is still a directory.
	if _, err := Open(filepath.Join(dir)); err == nil {
		t.Error("directory without config opened")
	}
}

// Special files in place of any file of a checkpoint are refused at once: opening a FIFO
// for reading would block until a writer came.
func TestOpenSpecialFiles(t *testing.T) {
	fifo := func(path string) {
		os.Remove(path)
		if err := mkfifo(path); err != nil {
			t.Skip("no FIFOs here:", err)
		}
	}
	gguf := filepath.Join(t.TempDir(), "x.gguf")
	fifo(gguf)
	for _, name := range []string{"", ConfigFile, SafetensorsFile, SafetensorsIndexFile, "model-00001-of-00002.safetensors"} {
		path, open := gguf, gguf
		if name != "" {
			dir := copyDir(t, micro+"hf-sharded")
			if name == SafetensorsFile {
				dir = copyDir(t, micro+"hf")
			}
			path, open = filepath.Join(dir, name), dir
			fifo(path)
		}
		done := make(chan error, 1)
		go func() {
			ck, err := Open(open)
			if err == nil {
				ck.Close()
			}
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "a FIFO") {
				t.Errorf("%s as a FIFO: %v", path, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s as a FIFO: Open blocked", path)
		}
	}
}

// A file truncated under its mapping: Verify reports it, and a read past the new end
// inside CatchFaults is an error instead of a SIGBUS that kills the process.
func TestTruncatedAfterOpen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.gguf")
	raw, err := os.ReadFile(micro + "gguf/micro-q8_0.gguf")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path, raw, 0o644)
	ck, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ck.Close()
	if err := ck.Verify(); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, 4096); err != nil {
		t.Fatal(err)
	}
	if err := ck.Verify(); !errors.Is(err, ErrChanged) || !strings.Contains(err.Error(), path) {
		t.Errorf("Verify after truncation: %v", err)
	}
	last := 0
	for i, off := range ck.GGUF.Offsets {
		if off > ck.GGUF.Offsets[last] {
			last = i
		}
	}
	var sum byte
	err = CatchFaults(path, func() error {
		for _, b := range ck.GGUF.Tensors[last].Data {
			sum += b
		}
		return nil
	})
	if !errors.Is(err, ErrChanged) || !strings.Contains(err.Error(), path) {
		t.Errorf("reading past the truncated end: %v", err)
	}
}
