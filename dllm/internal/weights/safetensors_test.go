package weights

import (
	"bytes"
	"encoding/binary"
	"reflect"
	"strings"
	"testing"
)

// buildST assembles a safetensors file from a literal JSON header and a data section.
func buildST(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	return append(b, data...)
}

func TestSafetensorsDTypes(t *testing.T) {
	hdr := `{"__metadata__":{"format":"pt"},
	"f64":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},
	"f32":{"dtype":"F32","shape":[2,1],"data_offsets":[16,24]},
	"f16":{"dtype":"F16","shape":[2],"data_offsets":[24,28]},
	"bf16":{"dtype":"BF16","shape":[1,2],"data_offsets":[28,32]},
	"i64":{"dtype":"I64","shape":[1],"data_offsets":[32,40]},
	"i32":{"dtype":"I32","shape":[1],"data_offsets":[40,44]},
	"i16":{"dtype":"I16","shape":[1],"data_offsets":[44,46]},
	"i8":{"dtype":"I8","shape":[1],"data_offsets":[46,47]},
	"u8":{"dtype":"U8","shape":[1],"data_offsets":[47,48]},
	"u16":{"dtype":"U16","shape":[1],"data_offsets":[48,50]},
	"u32":{"dtype":"U32","shape":[1],"data_offsets":[50,54]},
	"u64":{"dtype":"U64","shape":[1],"data_offsets":[54,62]},
	"bool":{"dtype":"BOOL","shape":[],"data_offsets":[62,63]},
	"empty":{"dtype":"F32","shape":[0,3],"data_offsets":[63,63]}
	}   `
	data := make([]byte, 63)
	for i := range data {
		data[i] = byte(i)
	}
	st, err := ParseSafetensors(buildST(hdr, data), "all.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	if st.Metadata["format"] != "pt" {
		t.Errorf("metadata %v", st.Metadata)
	}
	want := []struct {
		name string
		dt   DType
		off  int
		n    int
	}{
		{"f64", F64, 0, 16}, {"f32", F32, 16, 8}, {"f16", F16, 24, 4}, {"bf16", BF16, 28, 4},
		{"i64", I64, 32, 8}, {"i32", I32, 40, 4}, {"i16", I16, 44, 2}, {"i8", I8, 46, 1},
		{"u8", U8, 47, 1}, {"u16", U16, 48, 2}, {"u32", U32, 50, 4}, {"u64", U64, 54, 8},
		{"bool", Bool, 62, 1}, {"empty", F32, 0, 0},
	}
	if len(st.Tensors) != len(want) {
		t.Fatalf("%d tensors", len(st.Tensors))
	}
	byName := map[string]Tensor{}
	for _, tt := range st.Tensors {
		byName[tt.Name] = tt
	}
	for _, w := range want {
		tt := byName[w.name]
		if tt.DType != w.dt || !bytes.Equal(tt.Data, data[w.off:w.off+w.n]) || tt.File != "all.safetensors" {
			t.Errorf("%s: %s %d bytes", w.name, tt.DType, len(tt.Data))
		}
		if cap(tt.Data) != len(tt.Data) {
			t.Errorf("%s: view capacity %d exceeds its length", w.name, cap(tt.Data))
		}
	}
	if !reflect.DeepEqual(byName["bf16"].Shape, []int{1, 2}) || len(byName["bool"].Shape) != 0 {
		t.Errorf("shapes %v %v", byName["bf16"].Shape, byName["bool"].Shape)
	}
}

func TestSafetensorsMalformed(t *testing.T) {
	ok := `{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "too short"},
		{"7 bytes", make([]byte, 7), "too short"},
		{"header longer than file", binary.LittleEndian.AppendUint64(nil, 100), "header of 100 bytes is longer than the file"},
		{"header 2^63", append(binary.LittleEndian.AppendUint64(nil, 1<<63), '{', '}'), "longer than the file"},
		{"not json", buildST("hello", nil), "not a JSON object"},
		{"array header", buildST("[]", nil), "not a JSON object"},
		{"truncated json", buildST(`{"w":{"dtype":"F32"`, nil), "w"},
		{"trailing garbage", buildST(ok+"{}", make([]byte, 8)), "trailing data"},
		{"duplicate name", buildST(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)), `tensor "w" appears twice`},
		{"unknown dtype", buildST(`{"w":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}`, make([]byte, 1)), `tensor "w": unknown dtype "F8_E4M3"`},
		{"missing shape", buildST(`{"w":{"dtype":"F32","data_offsets":[0,4]}}`, make([]byte, 4)), `tensor "w": entry lacks`},
		{"negative dim", buildST(`{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, make([]byte, 4)), `tensor "w": dimension 0 = -1`},
		{"float dim", buildST(`{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}`, make([]byte, 4)), `tensor "w"`},
		{"huge dim", buildST(`{"w":{"dtype":"F32","shape":[99999999999999999999],"data_offsets":[0,4]}}`, make([]byte, 4)), `tensor "w"`},
		{"overflowing shape", buildST(`{"w":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,4]}}`, make([]byte, 4)), `tensor "w"`},
		{"size mismatch", buildST(`{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, make([]byte, 8)), `tensor "w": f32 [3] needs 12 bytes`},
		{"out of range", buildST(ok, make([]byte, 7)), `tensor "w": data_offsets [0, 8] outside the 7 data bytes`},
		{"reversed offsets", buildST(`{"w":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}`, make([]byte, 8)), `tensor "w": data_offsets`},
		{"one offset", buildST(`{"w":{"dtype":"F32","shape":[0],"data_offsets":[0]}}`, nil), `tensor "w": data_offsets has 1 elements`},
		{"overlap", buildST(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, make([]byte, 12)), `overlaps`},
		{"bad metadata", buildST(`{"__metadata__":{"a":1}}`, nil), "__metadata__"},
		{"hole", buildST(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`, make([]byte, 12)), `bytes 4..8 of the data section, before tensor "b", belong to no tensor`},
		{"tail", buildST(ok, make([]byte, 9)), "the last 1 bytes of the data section"},
		{"shifted", buildST(`{"w":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, make([]byte, 12)), `bytes 0..4 of the data section, before tensor "w"`},
	}
	for _, c := range cases {
		st, err := ParseSafetensors(c.data, "bad.safetensors")
		if err == nil {
			t.Errorf("%s: parsed (%d tensors), want error %q", c.name, len(st.Tensors), c.want)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "bad.safetensors") {
			t.Errorf("%s: error %q, want it to name bad.safetensors and contain %q", c.name, err, c.want)
		}
	}
	if _, err := ParseSafetensors(buildST(ok, make([]byte, 8)), "ok"); err != nil {
		t.Errorf("valid file rejected: %v", err)
	}
}

func TestSafetensorsTruncated(t *testing.T) {
	data := buildST(`{"a":{"dtype":"BF16","shape":[2,3],"data_offsets":[0,12]},"b":{"dtype":"I64","shape":[1],"data_offsets":[12,20]}}`, make([]byte, 20))
	for n := 0; n < len(data); n++ {
		if _, err := ParseSafetensors(append([]byte(nil), data[:n]...), "cut"); err == nil {
			t.Fatalf("prefix of %d bytes parsed", n)
		}
	}
}
