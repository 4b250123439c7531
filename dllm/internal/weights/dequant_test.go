package weights

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/dllm-go/dllm/kernels"
)

// TestDequantGolden checks kernels.Dequantize bit for bit against floats produced by
// gguf-py's numpy dequantization (an independent implementation of ggml's
// dequantize_row_*). The stored set is small; scripts/check-dequant.py points
// DLLM_DEQUANT_GOLDEN at thousands of fresh random blocks per format.
func TestDequantGolden(t *testing.T) {
	path := os.Getenv("DLLM_DEQUANT_GOLDEN")
	if path == "" {
		path = "testdata/dequant/golden.json"
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Cases []struct {
			Format string `json:"format"`
			Blocks string `json:"blocks"`
			Want   string `json:"want"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	formats := map[string]kernels.Format{"q8_0": kernels.Q8_0, "q4_0": kernels.Q4_0, "q4_k": kernels.Q4_K, "q6_k": kernels.Q6_K}
	seen := map[string]bool{}
	for _, c := range g.Cases {
		f, ok := formats[c.Format]
		if !ok {
			t.Fatalf("unknown format %q", c.Format)
		}
		blocks, err1 := hex.DecodeString(c.Blocks)
		want, err2 := hex.DecodeString(c.Want)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		n := len(want) / 4
		got := make([]float32, n)
		if err := kernels.Dequantize(f, got, blocks); err != nil {
			t.Fatalf("%s: %v", c.Format, err)
		}
		bad := 0
		for i := range got {
			w := binary.LittleEndian.Uint32(want[4*i:])
			if math.Float32bits(got[i]) != w {
				if bad < 5 {
					t.Errorf("%s: element %d (block %d): got %g (%#08x), gguf-py %g (%#08x)",
						c.Format, i, i/f.BlockElems(), got[i], math.Float32bits(got[i]), math.Float32frombits(w), w)
				}
				bad++
			}
		}
		if bad > 0 {
			t.Errorf("%s: %d of %d elements differ", c.Format, bad, n)
		}
		seen[c.Format] = true
		t.Logf("%s: %d blocks, %d floats bit-exact", c.Format, n/f.BlockElems(), n-bad)
	}
	if len(seen) != len(formats) {
		t.Errorf("golden covers %v, want all of %v", seen, formats)
	}
}
