package weights

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// sampleMeta has one entry of every metadata type, including nested and empty arrays.
func sampleMeta() []KV {
	nested := MustValue([]Value{
		MustValue([]int32{1, -2, 3}),
		MustValue([]string{"a", ""}),
		MustValue([]Value{MustValue([]bool{true, false})}),
		MustValue([]float64{}),
	})
	return []KV{
		{"general.architecture", MustValue("llada2")},
		{"u8", MustValue(uint8(200))},
		{"i8", MustValue(int8(-100))},
		{"u16", MustValue(uint16(60000))},
		{"i16", MustValue(int16(-30000))},
		{"u32", MustValue(uint32(4000000000))},
		{"i32", MustValue(int32(-2000000000))},
		{"f32", MustValue(float32(1e-6))},
		{"bool", MustValue(true)},
		{"string", MustValue("héllo\x00world")},
		{"u64", MustValue(uint64(1) << 63)},
		{"i64", MustValue(int64(-1) << 62)},
		{"f64", MustValue(math.Pi)},
		{"arr.u8", MustValue([]uint8{1, 2, 255})},
		{"arr.i8", MustValue([]int8{-1, 1})},
		{"arr.u16", MustValue([]uint16{7})},
		{"arr.i16", MustValue([]int16{-7})},
		{"arr.u32", MustValue([]uint32{1, 2})},
		{"arr.i32", MustValue([]int32{-1, 2})},
		{"arr.f32", MustValue([]float32{0.5, -0})},
		{"arr.bool", MustValue([]bool{false, true})},
		{"arr.string", MustValue([]string{"x", "yz", ""})},
		{"arr.u64", MustValue([]uint64{math.MaxUint64})},
		{"arr.i64", MustValue([]int64{math.MinInt64})},
		{"arr.f64", MustValue([]float64{math.Inf(-1)})},
		{"arr.nested", nested},
	}
}

// sampleTensors declares tensors of several dtypes, including a quantized stack and an
// empty one, with deterministic data.
func sampleTensors() ([]TensorInfo, [][]byte) {
	infos := []TensorInfo{
		{"a.f32", F32, []int{3, 5}},
		{"b.bf16", BF16, []int{7}},
		{"c.q8_0", Q8_0, []int{2, 3, 64}},
		{"d.q4_k", Q4_K, []int{1, 256}},
		{"e.empty", F16, []int{0, 4}},
		{"f.i32", I32, []int{2, 2, 1, 1}},
		{"g.scalar", F32, []int{}},
	}
	datas := make([][]byte, len(infos))
	for i, in := range infos {
		n, err := in.DType.ByteSize(in.Shape, 1<<30)
		if err != nil {
			panic(err)
		}
		d := make([]byte, n)
		for j := range d {
			d[j] = byte(i*31 + j*7)
		}
		datas[i] = d
	}
	return infos, datas
}

func buildGGUF(t testing.TB, meta []KV, infos []TensorInfo, datas [][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewGGUFWriter(&buf, meta, infos)
	if err != nil {
		t.Fatal(err)
	}
	for i, in := range infos {
		if err := w.WriteTensor(in.Name, datas[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Finish(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestGGUFRoundTrip(t *testing.T) {
	for _, align := range []uint32{0, 1, 64, 4096} {
		meta := sampleMeta()
		if align != 0 {
			meta = append(meta, KV{KeyAlignment, MustValue(align)})
		}
		infos, datas := sampleTensors()
		data := buildGGUF(t, meta, infos, datas)
		g, err := ParseGGUF(data, "mem.gguf")
		if err != nil {
			t.Fatalf("align %d: %v", align, err)
		}
		wantAlign := int(align)
		if align == 0 {
			wantAlign = ggufDefaultAlignment
		}
		if g.Version != 3 || g.Alignment != wantAlign || g.DataOffset%int64(wantAlign) != 0 {
			t.Errorf("align %d: version %d alignment %d data offset %d", align, g.Version, g.Alignment, g.DataOffset)
		}
		if !reflect.DeepEqual(g.Meta.KVs(), meta) {
			t.Errorf("align %d: metadata differs:\n got %v\nwant %v", align, g.Meta.KVs(), meta)
		}
		if len(g.Tensors) != len(infos) {
			t.Fatalf("got %d tensors", len(g.Tensors))
		}
		for i, tt := range g.Tensors {
			in := infos[i]
			if tt.Name != in.Name || tt.DType != in.DType || !reflect.DeepEqual(tt.Shape, in.Shape) ||
				!bytes.Equal(tt.Data, datas[i]) || tt.File != "mem.gguf" {
				t.Errorf("tensor %d: got %s %s %v (%d bytes), want %s %s %v", i, tt.Name, tt.DType, tt.Shape, len(tt.Data), in.Name, in.DType, in.Shape)
			}
			if g.Offsets[i]%int64(wantAlign) != 0 {
				t.Errorf("tensor %s at unaligned offset %d", tt.Name, g.Offsets[i])
			}
		}
		// Writing what was read gives the same bytes.
		again := buildGGUF(t, g.Meta.KVs(), infosOf(g.Tensors), datasOf(g.Tensors))
		if !bytes.Equal(again, data) {
			t.Errorf("align %d: re-encoding changed the file", align)
		}
	}
}

func infosOf(ts []Tensor) []TensorInfo {
	out := make([]TensorInfo, len(ts))
	for i, t := range ts {
		out[i] = TensorInfo{t.Name, t.DType, t.Shape}
	}
	return out
}

func datasOf(ts []Tensor) [][]byte {
	out := make([][]byte, len(ts))
	for i, t := range ts {
		out[i] = t.Data
	}
	return out
}

func TestMetadataAccessors(t *testing.T) {
	md, err := NewMetadata(sampleMeta())
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := md.String("general.architecture"); !ok || s != "llada2" {
		t.Errorf("String = %q %v", s, ok)
	}
	if _, ok := md.String("u8"); ok {
		t.Error("String on a uint8 succeeded")
	}
	if u, ok := md.Uint("u32"); !ok || u != 4000000000 {
		t.Errorf("Uint = %d %v", u, ok)
	}
	if _, ok := md.Uint("i8"); ok {
		t.Error("Uint of a negative succeeded")
	}
	if i, ok := md.Int("i16"); !ok || i != -30000 {
		t.Errorf("Int = %d %v", i, ok)
	}
	if _, ok := md.Int("u64"); ok {
		t.Error("Int of 2^63 succeeded")
	}
	if f, ok := md.Float("f32"); !ok || f != float64(float32(1e-6)) {
		t.Errorf("Float = %g %v", f, ok)
	}
	if b, ok := md.Bool("bool"); !ok || !b {
		t.Errorf("Bool = %v %v", b, ok)
	}
	if s, ok := md.Strings("arr.string"); !ok || !reflect.DeepEqual(s, []string{"x", "yz", ""}) {
		t.Errorf("Strings = %q %v", s, ok)
	}
	if xs, ok := md.Ints("arr.u8"); !ok || !reflect.DeepEqual(xs, []int64{1, 2, 255}) {
		t.Errorf("Ints = %v %v", xs, ok)
	}
	if _, ok := md.Ints("arr.u64"); ok {
		t.Error("Ints of MaxUint64 succeeded")
	}
	if fs, ok := md.Floats("arr.f32"); !ok || len(fs) != 2 || fs[0] != 0.5 {
		t.Errorf("Floats = %v %v", fs, ok)
	}
	v, _ := md.Get("arr.nested")
	if a, ok := v.Array(); !ok || len(a) != 4 || a[2].Len() != 1 || a[2].Index(0).Len() != 2 {
		t.Errorf("nested = %v", v)
	}
	for _, kv := range sampleMeta() {
		got, _ := md.Get(kv.Key)
		if !got.Equal(kv.Value) {
			t.Errorf("%s: Equal is false on the same value", kv.Key)
		}
	}
	if MustValue(float32(1)).Equal(MustValue(float64(1))) || MustValue(uint8(1)).Equal(MustValue(int8(1))) ||
		!MustValue(math.NaN()).Equal(MustValue(math.NaN())) || MustValue([]int32{1}).Equal(MustValue([]uint32{1})) {
		t.Error("Equal ignores types or NaN bits")
	}
	if _, ok := md.Get("missing"); ok {
		t.Error("Get of a missing key succeeded")
	}
	if _, err := NewMetadata([]KV{{"k", MustValue(true)}, {"k", MustValue(false)}}); err == nil {
		t.Error("duplicate key accepted")
	}
	if _, err := MakeValue(3); err == nil {
		t.Error("MakeValue(int) accepted")
	}
	if _, err := MakeValue([]Value{MustValue(1.0)}); err == nil {
		t.Error("nested array of scalars accepted")
	}
	if got := v.String(); !strings.Contains(got, "array×4") {
		t.Errorf("String() = %s", got)
	}
}

// TestGGUFTruncated cuts a valid file at every length: each prefix must fail cleanly.
func TestGGUFTruncated(t *testing.T) {
	infos, datas := sampleTensors()
	data := buildGGUF(t, sampleMeta(), infos, datas)
	for n := 0; n < len(data); n++ {
		cut := append([]byte(nil), data[:n]...) // own allocation so over-reads would be caught by -race/asan
		g, err := ParseGGUF(cut, "cut.gguf")
		if err == nil {
			// Only padding after the last tensor may be missing.
			end := g.DataOffset
			for i, tt := range g.Tensors {
				end = max(end, g.DataOffset+g.Offsets[i]+int64(len(tt.Data)))
			}
			if int64(n) < end {
				t.Fatalf("prefix of %d bytes parsed but tensors end at %d", n, end)
			}
			continue
		}
		if !strings.Contains(err.Error(), "cut.gguf") {
			t.Fatalf("error does not name the file: %v", err)
		}
	}
}

// ggufHeader hand-assembles GGUF bytes, for inputs the writer refuses to produce.
type ggufHeader struct{ b []byte }

func (h *ggufHeader) u32(v uint32) *ggufHeader {
	h.b = binary.LittleEndian.AppendUint32(h.b, v)
	return h
}
func (h *ggufHeader) u64(v uint64) *ggufHeader {
	h.b = binary.LittleEndian.AppendUint64(h.b, v)
	return h
}
func (h *ggufHeader) str(s string) *ggufHeader {
	h.u64(uint64(len(s)))
	h.b = append(h.b, s...)
	return h
}
func (h *ggufHeader) raw(b ...byte) *ggufHeader { h.b = append(h.b, b...); return h }

// start writes magic, version and the two counts.
func ggufStart(version uint32, tensors, kvs uint64) *ggufHeader {
	return (&ggufHeader{}).u32(ggufMagic).u32(version).u64(tensors).u64(kvs)
}

// tensorInfo appends one tensor info (dims in ggml order).
func (h *ggufHeader) tensorInfo(name string, typ uint32, off uint64, dims ...uint64) *ggufHeader {
	h.str(name).u32(uint32(len(dims)))
	for _, d := range dims {
		h.u64(d)
	}
	return h.u32(typ).u64(off)
}

// pad zero-fills to the next multiple of 32 and then appends n data bytes.
func (h *ggufHeader) data(n int) []byte {
	for len(h.b)%32 != 0 {
		h.b = append(h.b, 0)
	}
	return append(h.b, make([]byte, n)...)
}

func TestGGUFMalformed(t *testing.T) {
	f32 := uint32(0)
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "truncated"},
		{"bad magic", []byte("GGML\x03\x00\x00\x00"), "not a GGUF file"},
		{"version 1", ggufStart(1, 0, 0).b, "unsupported GGUF version 1"},
		{"big-endian version", ggufStart(3<<24, 0, 0).b, "unsupported GGUF version"},
		{"2^60 tensors", ggufStart(3, 1<<60, 0).b, "tensor count 1152921504606846976 exceeds"},
		{"2^60 kvs", ggufStart(3, 0, 1<<60).b, "metadata key/value count"},
		{"4 GB key", ggufStart(3, 0, 1).u64(4 << 30).raw(make([]byte, 16)...).b, "key length count 4294967296 exceeds"},
		{"4 GB string", ggufStart(3, 0, 1).str("k").u32(uint32(TypeString)).u64(4 << 30).b, "string length count"},
		{"huge array", ggufStart(3, 0, 1).str("k").u32(uint32(TypeArray)).u32(uint32(TypeUint32)).u64(1 << 40).b, "array element count"},
		{"huge string array", ggufStart(3, 0, 1).str("k").u32(uint32(TypeArray)).u32(uint32(TypeString)).u64(1 << 20).raw(make([]byte, 100)...).b, "array element count"},
		{"unknown value type", ggufStart(3, 0, 1).str("k").u32(13).raw(0).b, "unknown metadata value type 13"},
		{"unknown element type", ggufStart(3, 0, 1).str("k").u32(uint32(TypeArray)).u32(99).u64(0).b, "unknown array element type 99"},
		{"bool 2", ggufStart(3, 0, 1).str("k").u32(uint32(TypeBool)).raw(2).b, "bool value 2"},
		{"duplicate key", ggufStart(3, 0, 2).str("k").u32(uint32(TypeUint8)).raw(1).str("k").u32(uint32(TypeUint8)).raw(2).b, `duplicate metadata key "k"`},
		{"deep nesting", func() []byte {
			h := ggufStart(3, 0, 1).str("k").u32(uint32(TypeArray))
			for i := 0; i < 40; i++ {
				h.u32(uint32(TypeArray)).u64(1)
			}
			return h.u32(uint32(TypeUint8)).u64(0).b
		}(), "nested deeper"},
		{"alignment 3", ggufStart(3, 0, 1).str(KeyAlignment).u32(uint32(TypeUint32)).u32(3).b, "not a power of two"},
		{"alignment 0", ggufStart(3, 0, 1).str(KeyAlignment).u32(uint32(TypeUint32)).u32(0).b, "not a power of two"},
		{"alignment string", ggufStart(3, 0, 1).str(KeyAlignment).u32(uint32(TypeString)).str("32").b, "not a power of two"},
		{"unknown dtype", ggufStart(3, 1, 0).tensorInfo("w", 99, 0, 4).data(16), `tensor "w": unknown tensor type 99`},
		{"iq2 dtype", ggufStart(3, 1, 0).tensorInfo("w", 16, 0, 256).data(1024), `tensor "w": unknown tensor type 16`},
		{"5 dims", ggufStart(3, 1, 0).tensorInfo("w", f32, 0, 1, 1, 1, 1, 1).data(4), `tensor "w": 5 dimensions`},
		{"duplicate tensor", ggufStart(3, 2, 0).tensorInfo("w", f32, 0, 4).tensorInfo("w", f32, 32, 4).data(64), `tensor "w" appears twice`},
		{"out of range", ggufStart(3, 1, 0).tensorInfo("w", f32, 0, 4).data(15), `tensor "w": bytes [0, 16) of the data section run past the end`},
		{"offset past end", ggufStart(3, 1, 0).tensorInfo("w", f32, 1<<62, 4).data(64), `tensor "w": bytes`},
		{"offset wraps", ggufStart(3, 1, 0).tensorInfo("w", f32, math.MaxUint64-31, 4).data(64), `tensor "w"`},
		{"huge shape", ggufStart(3, 1, 0).tensorInfo("w", f32, 0, 1<<40, 1<<40).data(64), `tensor "w"`},
		{"absurd dim", ggufStart(3, 1, 0).tensorInfo("w", f32, 0, math.MaxUint64).data(64), `tensor "w": dimension 0`},
		{"misaligned", ggufStart(3, 1, 0).tensorInfo("w", f32, 4, 4).data(64), `tensor "w": offset 4 is not a multiple`},
		{"partial block", ggufStart(3, 1, 0).tensorInfo("w", 8, 0, 16).data(64), `tensor "w": q8_0 row of 16 elements`},
		{"overlap", ggufStart(3, 2, 0).tensorInfo("a", f32, 0, 16).tensorInfo("b", f32, 32, 16).data(128), `tensor "b" (bytes 32..96) overlaps tensor "a"`},
		{"truncated tensor info", ggufStart(3, 1, 0).str("w").u32(1).u64(4).b, "truncated"},
		{"zero dim hides an overflow", ggufStart(3, 1, 0).tensorInfo("w", f32, 0, 0, 1<<40, 1<<40).data(0), `tensor "w": shape [1099511627776 1099511627776 0] overflows`},
		{"tensor info missing", ggufStart(3, 1, 0).tensorInfo("b", f32, 64, 16).data(128), `bytes 0..64 of the data section, before tensor "b", belong to no tensor`},
		{"gap", ggufStart(3, 2, 0).tensorInfo("a", f32, 0, 8).tensorInfo("b", f32, 64, 8).data(96), `bytes 32..64 of the data section, before tensor "b"`},
		{"tail", ggufStart(3, 1, 0).tensorInfo("a", f32, 0, 8).data(64), "the last 32 bytes of the data section (from byte 32) belong to no tensor"},
	}
	for _, c := range cases {
		g, err := ParseGGUF(c.data, "bad.gguf")
		if err == nil {
			t.Errorf("%s: parsed (%d tensors), want error %q", c.name, len(g.Tensors), c.want)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "bad.gguf") {
			t.Errorf("%s: error %q, want it to name bad.gguf and contain %q", c.name, err, c.want)
		}
	}
	// Sanity: the same builders produce files that parse.
	ok := ggufStart(2, 2, 0).tensorInfo("a", f32, 0, 8).tensorInfo("b", f32, 32, 4, 2).data(64)
	g, err := ParseGGUF(ok, "good.gguf")
	if err != nil {
		t.Fatal(err)
	}
	if g.Version != 2 || !reflect.DeepEqual(g.Tensors[1].Shape, []int{2, 4}) {
		t.Errorf("v2 file: version %d shape %v", g.Version, g.Tensors[1].Shape)
	}
}

func TestGGUFWriterErrors(t *testing.T) {
	var buf bytes.Buffer
	bad := []struct {
		name  string
		meta  []KV
		infos []TensorInfo
	}{
		{"duplicate tensor", nil, []TensorInfo{{"a", F32, []int{1}}, {"a", F32, []int{1}}}},
		{"unstorable dtype", nil, []TensorInfo{{"a", Bool, []int{1}}}},
		{"partial block", nil, []TensorInfo{{"a", Q4_0, []int{1, 16}}}},
		{"negative dim", nil, []TensorInfo{{"a", F32, []int{-1}}}},
		{"5 dims", nil, []TensorInfo{{"a", F32, []int{1, 1, 1, 1, 1}}}},
		{"duplicate key", []KV{{"k", MustValue(true)}, {"k", MustValue(true)}}, nil},
		{"bad alignment", []KV{{KeyAlignment, MustValue(uint32(48))}}, nil},
		{"alignment type", []KV{{KeyAlignment, MustValue(uint64(64))}}, nil},
		{"zero value", []KV{{"k", Value{}}}, nil},
	}
	for _, c := range bad {
		if _, err := NewGGUFWriter(&buf, c.meta, c.infos); err == nil {
			t.Errorf("%s: accepted", c.name)
		}
	}
	infos := []TensorInfo{{"a", F32, []int{2}}, {"b", F32, []int{1}}}
	w, err := NewGGUFWriter(&buf, nil, infos)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteTensor("b", make([]byte, 4)); err == nil {
		t.Error("out-of-order tensor accepted")
	}
	w, _ = NewGGUFWriter(&buf, nil, infos)
	if err := w.WriteTensor("a", make([]byte, 4)); err == nil {
		t.Error("short tensor accepted")
	}
	w, _ = NewGGUFWriter(&buf, nil, infos)
	if err := w.WriteTensor("a", make([]byte, 8)); err != nil {
		t.Fatal(err)
	}
	if err := w.Finish(); err == nil {
		t.Error("Finish with a tensor missing succeeded")
	}
}

func TestCreateGGUF(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.gguf")
	infos, datas := sampleTensors()
	f, err := CreateGGUF(path, sampleMeta(), infos)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatal("file visible before Close")
	}
	for i, in := range infos {
		if err := f.WriteTensor(in.Name, datas[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	f.Abort() // no-op after Close
	ck, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ck.Close()
	if ck.Format != FormatGGUF || len(ck.Tensors) != len(infos) {
		t.Fatalf("format %s, %d tensors", ck.Format, len(ck.Tensors))
	}
	for i, in := range infos {
		tt, ok := ck.Tensor(in.Name)
		if !ok || !bytes.Equal(tt.Data, datas[i]) {
			t.Errorf("tensor %s differs", in.Name)
		}
	}

	// An incomplete file never appears, and its temporary file is gone.
	path2 := filepath.Join(dir, "partial.gguf")
	f, err = CreateGGUF(path2, nil, infos)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err == nil {
		t.Error("Close of an incomplete file succeeded")
	}
	f, _ = CreateGGUF(path2, nil, infos)
	f.Abort()
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only out.gguf", len(entries))
	}
}

// TestGGUFLargeStringArray covers the lazily decoded string arrays (vocabularies): they
// read back equal, concurrently, after the file is closed, and re-encode identically.
func TestGGUFLargeStringArray(t *testing.T) {
	words := make([]string, lazyStringsMin+10)
	for i := range words {
		words[i] = strings.Repeat("é", i%7) + string(rune('a'+i%26))
	}
	meta := []KV{{"tokenizer.ggml.tokens", MustValue(words)}, {"after", MustValue(uint32(7))}}
	data := buildGGUF(t, meta, nil, nil)
	path := filepath.Join(t.TempDir(), "vocab.gguf")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	ck, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := ck.Meta.Get("tokenizer.ggml.tokens")
	if v.Len() != len(words) {
		t.Fatalf("Len %d", v.Len())
	}
	if u, ok := ck.Meta.Uint("after"); !ok || u != 7 {
		t.Errorf("key after the array: %d %v", u, ok)
	}
	ck.Close() // values own their memory
	done := make(chan []string)
	for g := 0; g < 4; g++ {
		go func() { s, _ := v.Strings(); done <- s }()
	}
	for g := 0; g < 4; g++ {
		if s := <-done; !reflect.DeepEqual(s, words) {
			t.Fatal("strings differ")
		}
	}
	if !v.Equal(MustValue(words)) || v.Equal(MustValue(words[1:])) {
		t.Error("Equal of the lazy array and its words")
	}
	if s, _ := v.Index(5).Str(); s != words[5] {
		t.Errorf("Index(5) = %q", s)
	}
	if again := buildGGUF(t, ck.Meta.KVs(), nil, nil); !bytes.Equal(again, data) {
		t.Error("re-encoding differs")
	}
	// A truncated vocabulary is still an error.
	if _, err := ParseGGUF(data[:len(data)/2], "cut.gguf"); err == nil {
		t.Error("truncated vocabulary parsed")
	}
}
