package weights

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/dllm-go/dllm/dllm/internal/corpus"
)

// The fuzz targets check the parsers' contract on arbitrary bytes: an error or a result
// whose every view lies inside the input, never a panic, never an allocation beyond what
// the input can justify. `go test` runs the seeds in testdata/fuzz; fuzz with
//
//	go test -fuzz=FuzzGGUF -fuzztime=5m ./dllm/internal/weights/

func FuzzGGUF(f *testing.F) {
	for _, s := range ggufSeeds(f) {
		f.Add(s)
	}
	// The hostile corpus of the richest seed: every header field at 0, −1, 2^31, 2^63
	// and one off, truncations at each boundary, dropped infos, shifted offsets.
	addCorpus(f, corpus.GGUF, ggufSeeds(f)[0])
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := ParseGGUF(data, "fuzz.gguf")
		if err != nil {
			return
		}
		names := map[string]bool{}
		for i, tt := range g.Tensors {
			checkView(t, data, tt)
			if names[tt.Name] {
				t.Fatalf("duplicate tensor %q accepted", tt.Name)
			}
			names[tt.Name] = true
			if g.Offsets[i]%int64(g.Alignment) != 0 {
				t.Fatalf("tensor %q at unaligned offset %d", tt.Name, g.Offsets[i])
			}
		}
		// What parsed can be written, and writing is a fixed point of read∘write.
		once, ok := reencode(t, g)
		if !ok {
			return
		}
		g2, err := ParseGGUF(once, "again.gguf")
		if err != nil {
			t.Fatalf("re-encoded file does not parse: %v", err)
		}
		twice, _ := reencode(t, g2)
		if !bytes.Equal(once, twice) {
			t.Fatal("re-encoding is not stable")
		}
	})
}

// addCorpus adds every hostile variant of base as a seed.
func addCorpus(f *testing.F, gen func([]byte) ([]corpus.Case, error), base []byte) {
	cases, err := gen(base)
	if err != nil {
		f.Fatal(err)
	}
	for _, c := range cases {
		f.Add(c.Build())
	}
}

// reencode writes g with the writer; ok is false for files the writer legitimately
// refuses (an alignment key stored as another integer type than uint32).
func reencode(t *testing.T, g *GGUF) ([]byte, bool) {
	var buf bytes.Buffer
	w, err := NewGGUFWriter(&buf, g.Meta.KVs(), infosOf(g.Tensors))
	if err != nil {
		if v, ok := g.Meta.Get(KeyAlignment); ok && v.Type() != TypeUint32 {
			return nil, false
		}
		t.Fatalf("writer refuses a parsed file: %v", err)
	}
	for _, tt := range g.Tensors {
		if err := w.WriteTensor(tt.Name, tt.Data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Finish(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), true
}

func FuzzSafetensors(f *testing.F) {
	for _, s := range safetensorsSeeds() {
		f.Add(s)
	}
	addCorpus(f, func(b []byte) ([]corpus.Case, error) {
		return corpus.Safetensors(b, func(string) bool { return true })
	}, safetensorsSeeds()[0])
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := ParseSafetensors(data, "fuzz.safetensors")
		if err != nil {
			return
		}
		for _, tt := range st.Tensors {
			checkView(t, data, tt)
		}
	})
}

// checkView asserts that a tensor's data is exactly its declared size and lies inside data.
func checkView(t *testing.T, data []byte, tt Tensor) {
	t.Helper()
	n, err := tt.DType.ByteSize(tt.Shape, int64(len(data)))
	if err != nil || n != int64(len(tt.Data)) {
		t.Fatalf("tensor %q: %s %v with %d bytes (%v)", tt.Name, tt.DType, tt.Shape, len(tt.Data), err)
	}
	if len(tt.Data) > 0 && !inside(data, tt.Data) {
		t.Fatalf("tensor %q is not a view of the input", tt.Name)
	}
}

// inside reports whether view aliases bytes of base (pointer identity, not content).
func inside(base, view []byte) bool {
	for i := range base {
		if &base[i] == &view[0] {
			return len(base)-i >= len(view)
		}
	}
	return false
}

func ggufSeeds(tb testing.TB) [][]byte {
	infos, datas := sampleTensors()
	full := buildGGUF(tb, sampleMeta(), infos, datas)
	small := buildGGUF(tb, []KV{{"general.architecture", MustValue("llada2")}, {KeyAlignment, MustValue(uint32(8))}},
		[]TensorInfo{{"w", Q4_0, []int{2, 32}}}, [][]byte{bytes.Repeat([]byte{0x11}, 36)})
	v2 := ggufStart(2, 2, 0).tensorInfo("a", 0, 0, 8).tensorInfo("b", 0, 32, 4, 2).data(64)
	return [][]byte{full, small, v2, full[:len(full)/2], {}}
}

func safetensorsSeeds() [][]byte {
	return [][]byte{
		buildST(`{"__metadata__":{"format":"pt"},"a":{"dtype":"BF16","shape":[2,3],"data_offsets":[0,12]},"b":{"dtype":"I64","shape":[1],"data_offsets":[12,20]}}`, make([]byte, 20)),
		buildST(`{"x":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"e":{"dtype":"U8","shape":[0],"data_offsets":[4,4]}}`, []byte{1, 2, 3, 4}),
		buildST(`{}`, nil),
		buildST(`{"w":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}    `, make([]byte, 4)),
	}
}

// TestWriteFuzzSeeds regenerates testdata/fuzz from the seed builders when
// DLLM_WRITE_FUZZ_SEEDS=1, so the committed corpus tracks the format code.
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("DLLM_WRITE_FUZZ_SEEDS") == "" {
		t.Skip("set DLLM_WRITE_FUZZ_SEEDS=1 to rewrite testdata/fuzz")
	}
	write := func(target string, seeds [][]byte) {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for i, s := range seeds {
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", s)
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%02d", i)), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	write("FuzzGGUF", ggufSeeds(t))
	write("FuzzSafetensors", safetensorsSeeds())
}
