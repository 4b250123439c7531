package kernels

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/x448/float16"
)

// TestQuantizeVectors anchors the quantizers to references outside this project:
// testdata/quant/vectors.json holds rows quantized by gguf-py (Q8_0, Q4_0) and by
// transcriptions of ggml's reference quantizers (Q8_K, Q4_K, Q6_K), which
// scripts/gen-quant-vectors.py wrote. The weight quantizers must give those bytes, the
// generic activation quantizers those blocks (Q8_0's f16 scale widened to float32, as
// xPrep stores it), and every implementation the generic bytes. An empty K-quant field
// marks a row whose scales overflow, where ggml's result is undefined.
func TestQuantizeVectors(t *testing.T) {
	raw, err := os.ReadFile("testdata/quant/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Cases []struct{ X, Q8_0, Q4_0, Q8_K, Q4_K, Q6_K string } `json:"cases"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Cases) == 0 {
		t.Fatal("no vectors")
	}
	unhex := func(s string) []byte {
		b, err := hex.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var all []float32
	kquants := 0
	for i, c := range v.Cases {
		xb, q8, q8K := unhex(c.X), unhex(c.Q8_0), unhex(c.Q8_K)
		x := make([]float32, len(xb)/4)
		for j := range x {
			x[j] = math.Float32frombits(binary.LittleEndian.Uint32(xb[4*j:]))
		}
		for _, f := range []struct {
			format Format
			want   []byte
		}{{Q8_0, q8}, {Q4_0, unhex(c.Q4_0)}, {Q4_K, unhex(c.Q4_K)}, {Q6_K, unhex(c.Q6_K)}} {
			if len(f.want) == 0 {
				continue
			}
			if f.format == Q4_K {
				kquants++
			}
			got := make([]byte, len(f.want))
			if err := Quantize(f.format, got, x); err != nil {
				t.Fatal(err)
			}
			if err := diffBlocks(got, f.want); err != nil {
				t.Errorf("row %d: Quantize(%s): %v", i, f.format, err)
			}
		}
		act := make([]byte, len(q8)/34*q8BlockBytes)
		for b := 0; b < len(q8)/34; b++ {
			d := float16.Frombits(binary.LittleEndian.Uint16(q8[34*b:])).Float32()
			binary.LittleEndian.PutUint32(act[b*q8BlockBytes:], math.Float32bits(d))
			copy(act[b*q8BlockBytes+4:(b+1)*q8BlockBytes], q8[34*b+2:34*b+34])
		}
		got := make([]byte, len(act))
		quantQ8Generic(got, x)
		if err := diffBlocks(got, act); err != nil {
			t.Errorf("row %d: Q8_0 activations: %v", i, err)
		}
		got = make([]byte, len(q8K))
		quantQ8KGeneric(got, x)
		if err := diffBlocks(got, q8K); err != nil {
			t.Errorf("row %d: Q8_K activations: %v", i, err)
		}
		if i > 0 && len(x) != len(all)/i {
			t.Fatalf("row %d: %d elements, not as long as the others", i, len(x))
		}
		all = append(all, x...)
	}
	if kquants == 0 {
		t.Error("no K-quant vectors")
	}
	checkQuantizers(t, len(v.Cases), len(all)/len(v.Cases), all)
}
