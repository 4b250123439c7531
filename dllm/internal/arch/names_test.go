package arch

import (
	"bytes"
	"encoding/binary"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/dllm-go/dllm/dllm/internal/weights"
	"github.com/dllm-go/dllm/kernels"
	"github.com/x448/float16"
)

func TestNameMapping(t *testing.T) {
	cases := []struct {
		gguf   string
		hf     string
		expert int
	}{
		{"token_embd.weight", "model.word_embeddings.weight", -1},
		{"output_norm.weight", "model.norm.weight", -1},
		{"output.weight", "lm_head.weight", -1},
		{"blk.0.attn_qkv.weight", "model.layers.0.attention.query_key_value.weight", -1},
		{"blk.12.attn_output.weight", "model.layers.12.attention.dense.weight", -1},
		{"blk.3.exp_probs_b.bias", "model.layers.3.mlp.gate.expert_bias", -1},
		{"blk.3.ffn_gate_inp.weight", "model.layers.3.mlp.gate.weight", -1},
		{"blk.0.ffn_down.weight", "model.layers.0.mlp.down_proj.weight", -1},
		{"blk.1.ffn_up_shexp.weight", "model.layers.1.mlp.shared_experts.up_proj.weight", -1},
		{"blk.1.ffn_down_exps.weight", "model.layers.1.mlp.experts.255.down_proj.weight", 255},
	}
	for _, c := range cases {
		if c.expert < 0 {
			if hf, ok := HFName(c.gguf); !ok || hf != c.hf {
				t.Errorf("HFName(%s) = %s %v", c.gguf, hf, ok)
			}
		}
		g, e, ok := GGUFName(c.hf)
		if !ok || g != c.gguf || e != c.expert {
			t.Errorf("GGUFName(%s) = %s %d %v", c.hf, g, e, ok)
		}
	}
	for _, bad := range []string{"blk.01.attn_qkv.weight", "blk.-1.attn_qkv.weight", "blk.x.attn_qkv.weight",
		"blk.1.ffn_gate_exps.weight", "blk.1.nope.weight", "rope_freqs.weight", "blk.1"} {
		if hf, ok := HFName(bad); ok {
			t.Errorf("HFName(%s) = %s", bad, hf)
		}
	}
	for _, bad := range []string{"model.layers.1.mlp.experts.x.up_proj.weight", "model.layers.1.mlp.experts.2.nope",
		"model.layers.01.input_layernorm.weight", "lm_head.bias"} {
		if g, _, ok := GGUFName(bad); ok {
			t.Errorf("GGUFName(%s) = %s", bad, g)
		}
	}
}

// canonical returns the canonical tensors of a fixture form, by name.
func canonical(t *testing.T, form string) (map[string]weights.Tensor, []string) {
	t.Helper()
	ts, err := CanonicalTensors(openMicro(t, form))
	if err != nil {
		t.Fatalf("%s: %v", form, err)
	}
	m := make(map[string]weights.Tensor, len(ts))
	names := make([]string, len(ts))
	for i, tt := range ts {
		m[tt.Name] = tt
		names[i] = tt.Name
		if i > 0 && names[i-1] >= names[i] {
			t.Errorf("%s: not sorted at %s", form, tt.Name)
		}
	}
	return m, names
}

func dequant(t *testing.T, tt weights.Tensor) []float32 {
	t.Helper()
	f, ok := tt.DType.Format()
	if !ok {
		t.Fatalf("%s: dtype %s has no kernel format", tt.Name, tt.DType)
	}
	out := make([]float32, tt.Elems())
	if err := kernels.Dequantize(f, out, tt.Data); err != nil {
		t.Fatalf("%s: %v", tt.Name, err)
	}
	return out
}

// TestCanonicalTensorsAgree: every form exposes the same canonical tensors (names and
// shapes); f32/bf16 GGUF weights equal the safetensors ones exactly, and q8_0/q4_0 ones lie
// within half a quantization step of them.
func TestCanonicalTensorsAgree(t *testing.T) {
	ref, refNames := canonical(t, "hf")
	if len(refNames) != 130 {
		t.Fatalf("hf: %d tensors", len(refNames))
	}
	refVals := map[string][]float32{}
	for name, tt := range ref {
		refVals[name] = dequant(t, tt)
	}
	for _, form := range microForms[1:] {
		got, names := canonical(t, form)
		if !reflect.DeepEqual(names, refNames) {
			t.Errorf("%s: canonical names differ from hf", form)
			continue
		}
		var worst float64
		for _, name := range names {
			g, r := got[name], ref[name]
			if !reflect.DeepEqual(g.Shape, r.Shape) {
				t.Errorf("%s: %s shape %v, hf %v", form, name, g.Shape, r.Shape)
				continue
			}
			w, want := dequant(t, g), refVals[name]
			switch g.DType {
			case weights.F32, weights.BF16:
				for i := range w {
					if w[i] != want[i] {
						t.Fatalf("%s: %s[%d] = %g, hf %g", form, name, i, w[i], want[i])
					}
				}
			case weights.Q8_0, weights.Q4_0:
				// Each value is within half a step d/2 of the weight, except that the stored
				// scale is the f16 rounding of the exact one (relative error ≤ 2⁻¹¹), which
				// moves the value q·d by up to |q|·d·2⁻¹¹ more. Q4_0 maps the block's extreme
				// to −8 and clips the other end at code 15 (+7): values there are within d.
				bb := g.DType.BlockBytes()
				for b := 0; b < len(w)/32; b++ {
					ds := float64(float16.Frombits(binary.LittleEndian.Uint16(g.Data[b*bb:])).Float32())
					d := math.Abs(ds)
					for i := b * 32; i < b*32+32; i++ {
						diff := math.Abs(float64(w[i]) - float64(want[i]))
						q := math.Abs(float64(w[i])) / max(d, 1e-30)
						step := d / 2
						if g.DType == weights.Q4_0 && float64(w[i]) == 7*ds {
							step = d
						}
						tol := step + (q+0.5)*d*0x1p-11 + 0x1p-24*d
						if diff > tol {
							t.Fatalf("%s: %s[%d] = %g, hf %g: |diff| %g > %g (scale %g)", form, name, i, w[i], want[i], diff, tol, d)
						}
						worst = max(worst, diff/max(d, 1e-30))
					}
				}
			default:
				t.Errorf("%s: %s has unexpected dtype %s", form, name, g.DType)
			}
		}
		t.Logf("%s: %d tensors agree (worst |diff|/scale %.3f)", form, len(names), worst)
	}
}

// TestQuantizedBlocksReproduce: quantizing the bf16 weights with the reference algorithm
// (gguf-py's numpy Q8_0 / Q4_0, in float32) reproduces the GGUF's blocks byte for byte.
func TestQuantizedBlocksReproduce(t *testing.T) {
	ref, _ := canonical(t, "hf")
	for _, form := range []string{"gguf/micro-q8_0.gguf", "gguf/micro-q4_0.gguf"} {
		got, names := canonical(t, form)
		n := 0
		for _, name := range names {
			g := got[name]
			if !g.DType.Quantized() {
				continue
			}
			x := dequant(t, ref[name])
			var want []byte
			for b := 0; b < len(x); b += 32 {
				if g.DType == weights.Q8_0 {
					want = quantizeQ8_0(want, x[b:b+32])
				} else {
					want = quantizeQ4_0(want, x[b:b+32])
				}
			}
			if !bytes.Equal(want, g.Data) {
				t.Errorf("%s: %s: re-quantized blocks differ", form, name)
			}
			n++
		}
		if n == 0 {
			t.Errorf("%s: no quantized tensor", form)
		}
	}
}

// f16bits rounds to half precision as numpy's astype(float16) does (nearest even).
func f16bits(f float32) []byte {
	return binary.LittleEndian.AppendUint16(nil, uint16(float16.Fromfloat32(f)))
}

// roundf is gguf-py's np_roundf: round half away from zero, computed in float32.
func roundf(x float32) float32 {
	a := float32(math.Abs(float64(x)))
	fl := float32(math.Floor(float64(a)))
	b := fl + float32(math.Floor(float64(float32(2*float32(a-fl)))))
	if x < 0 {
		return -b
	}
	return b
}

func quantizeQ8_0(dst []byte, x []float32) []byte {
	var amax float32
	for _, v := range x {
		amax = max(amax, float32(math.Abs(float64(v))))
	}
	d := amax / 127
	var id float32
	if d != 0 {
		id = 1 / d
	}
	dst = append(dst, f16bits(d)...)
	for _, v := range x {
		dst = append(dst, byte(int8(roundf(float32(v*id)))))
	}
	return dst
}

func quantizeQ4_0(dst []byte, x []float32) []byte {
	var m float32
	for _, v := range x { // the first value of largest magnitude, keeping its sign
		if math.Abs(float64(v)) > math.Abs(float64(m)) {
			m = v
		}
	}
	d := m / -8
	var id float32
	if d != 0 {
		id = 1 / d
	}
	dst = append(dst, f16bits(d)...)
	q := func(v float32) byte {
		return byte(min(15, uint8(float32(math.Trunc(float64(float32(v*id)+8.5))))))
	}
	for j := 0; j < 16; j++ {
		dst = append(dst, q(x[j])|q(x[j+16])<<4)
	}
	return dst
}

func TestCanonicalTensorsErrors(t *testing.T) {
	build := func(infos []weights.TensorInfo) *weights.Checkpoint {
		t.Helper()
		kvs := []weights.KV{{Key: "general.architecture", Value: weights.MustValue("llada2")}}
		p := t.TempDir() + "/x.gguf"
		f, err := weights.CreateGGUF(p, kvs, infos)
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range infos {
			n, _ := in.DType.ByteSize(in.Shape, 1<<30)
			if err := f.WriteTensor(in.Name, make([]byte, n)); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		ck, err := weights.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ck.Close() })
		return ck
	}
	bad := []struct {
		name  string
		infos []weights.TensorInfo
		want  string
	}{
		{"unknown tensor", []weights.TensorInfo{{Name: "rope_freqs.weight", DType: weights.F32, Shape: []int{4}}}, `"rope_freqs.weight" is not part`},
		{"2-D stack", []weights.TensorInfo{{Name: "blk.1.ffn_up_exps.weight", DType: weights.F32, Shape: []int{4, 4}}}, "want [experts, rows, cols]"},
		{"2^40 empty experts", []weights.TensorInfo{{Name: "blk.1.ffn_up_exps.weight", DType: weights.F32, Shape: []int{1 << 40, 0, 4}}}, "none zero"},
		{"same layer twice", []weights.TensorInfo{
			{Name: "blk.1.attn_norm.weight", DType: weights.F32, Shape: []int{4}},
			{Name: "blk.01.attn_norm.weight", DType: weights.F32, Shape: []int{4}},
		}, `"blk.01.attn_norm.weight"`},
	}
	for _, b := range bad {
		_, err := CanonicalTensors(build(b.infos))
		if err == nil || !strings.Contains(err.Error(), b.want) || !strings.Contains(err.Error(), "x.gguf") {
			t.Errorf("%s: %v, want %q", b.name, err, b.want)
		}
	}
	// A stacked tensor splits into contiguous zero-copy views.
	ck := build([]weights.TensorInfo{{Name: "blk.2.ffn_gate_exps.weight", DType: weights.Q8_0, Shape: []int{3, 2, 64}}})
	ts, err := CanonicalTensors(ck)
	if err != nil || len(ts) != 3 {
		t.Fatalf("%v, %d tensors", err, len(ts))
	}
	stack, _ := ck.Tensor("blk.2.ffn_gate_exps.weight")
	for e, tt := range ts {
		if tt.Name != "model.layers.2.mlp.experts."+string(rune('0'+e))+".gate_proj.weight" ||
			!reflect.DeepEqual(tt.Shape, []int{2, 64}) || len(tt.Data) != 2*2*34 || &tt.Data[0] != &stack.Data[e*2*2*34] {
			t.Errorf("expert %d: %s %v %d bytes", e, tt.Name, tt.Shape, len(tt.Data))
		}
	}
}
