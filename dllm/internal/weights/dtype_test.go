package weights

import (
	"testing"

	"github.com/dllm-go/dllm/kernels"
)

func TestDTypeTables(t *testing.T) {
	// The ggml ids and block layouts of ggml.h / ggml-common.h. (gguf-py 0.19 lists Q8_1 as
	// 40 bytes; ggml-common.h asserts sizeof(block_q8_1) == 2·sizeof(ggml_half) + 32 = 36.)
	ggml := map[DType]struct{ id, elems, bytes int }{
		F32: {0, 1, 4}, F16: {1, 1, 2}, Q4_0: {2, 32, 18}, Q4_1: {3, 32, 20}, Q5_0: {6, 32, 22},
		Q5_1: {7, 32, 24}, Q8_0: {8, 32, 34}, Q8_1: {9, 32, 36}, Q2_K: {10, 256, 84},
		Q3_K: {11, 256, 110}, Q4_K: {12, 256, 144}, Q5_K: {13, 256, 176}, Q6_K: {14, 256, 210},
		Q8_K: {15, 256, 292}, I8: {24, 1, 1}, I16: {25, 1, 2}, I32: {26, 1, 4}, I64: {27, 1, 8},
		F64: {28, 1, 8}, BF16: {30, 1, 2},
	}
	for d := F64; d < numDTypes; d++ {
		want, inGGML := ggml[d]
		id, ok := d.GGUFType()
		if ok != inGGML || (ok && int(id) != want.id) {
			t.Errorf("%s: GGUF id %d %v", d, id, ok)
		}
		if inGGML {
			if back, ok := DTypeFromGGUF(id); !ok || back != d {
				t.Errorf("%s: DTypeFromGGUF(%d) = %s", d, id, back)
			}
			if d.BlockElems() != want.elems || d.BlockBytes() != want.bytes {
				t.Errorf("%s: block %d elems / %d bytes", d, d.BlockElems(), d.BlockBytes())
			}
		}
		if d.Quantized() != (d.BlockElems() > 1) {
			t.Errorf("%s: Quantized %v", d, d.Quantized())
		}
		if name := d.SafetensorsName(); name != "" {
			if back, ok := DTypeFromSafetensors(name); !ok || back != d {
				t.Errorf("%s: safetensors round trip via %q", d, name)
			}
		}
		// Where a kernel format exists, its layout is the same.
		if f, ok := d.Format(); ok {
			if f.String() != d.String() || f.BlockElems() != d.BlockElems() || f.BlockBytes() != d.BlockBytes() {
				t.Errorf("%s: kernel format %s has another layout", d, f)
			}
			if back, ok := DTypeOfFormat(f); !ok || back != d {
				t.Errorf("%s: DTypeOfFormat(%s) = %s", d, f, back)
			}
		}
	}
	for _, f := range []kernels.Format{kernels.F32, kernels.F16, kernels.BF16, kernels.Q8_0, kernels.Q4_0, kernels.Q4_K, kernels.Q6_K} {
		if _, ok := DTypeOfFormat(f); !ok {
			t.Errorf("kernel format %s has no dtype", f)
		}
	}
	if _, ok := DTypeFromGGUF(16); ok { // IQ2_XXS: never read
		t.Error("IQ2_XXS recognised")
	}
	if Invalid.Valid() || Invalid.String() != "DType(0)" || Invalid.BlockBytes() != 0 {
		t.Error("Invalid dtype looks valid")
	}
	if _, err := Invalid.ByteSize([]int{1}, 10); err == nil {
		t.Error("ByteSize of Invalid succeeded")
	}
	if n, err := Q4_K.ByteSize([]int{3, 512}, 1<<20); err != nil || n != 3*2*144 {
		t.Errorf("Q4_K [3 512] = %d %v", n, err)
	}
	if _, err := F32.ByteSize([]int{1 << 20}, 1000); err == nil {
		t.Error("ByteSize beyond the limit succeeded")
	}
}
