package weights

import (
	"bytes"
	"testing"
	"unsafe"

	"github.com/dllm-go/dllm/dllm/internal/demo"
)

// TestOpenMemoryInPlace: the embedded demo checkpoint is viewed where it lies, not copied.
func TestOpenMemoryInPlace(t *testing.T) {
	ck, err := OpenMemory("demo", demo.Config, demo.Safetensors)
	if err != nil {
		t.Fatal(err)
	}
	defer ck.Close()
	if len(ck.Tensors) != 189 || !bytes.Equal(ck.Config, demo.Config) {
		t.Fatalf("%d tensors, config %d bytes; want 189 and %d", len(ck.Tensors), len(ck.Config), len(demo.Config))
	}
	lo := uintptr(unsafe.Pointer(&demo.Safetensors[0]))
	hi := lo + uintptr(len(demo.Safetensors))
	for _, tn := range ck.Tensors {
		if p := uintptr(unsafe.Pointer(&tn.Data[0])); p < lo || p >= hi {
			t.Fatalf("tensor %s was copied (at %#x, the embedded bytes are [%#x,%#x))", tn.Name, p, lo, hi)
		}
	}
}

// TestOpenMemoryRealigns: bytes that do not start on a MemoryAlignment boundary are
// copied to memory that does, with the same tensors.
func TestOpenMemoryRealigns(t *testing.T) {
	buf := make([]byte, len(demo.Safetensors)+1)
	odd := buf[1:] // Go allocates large buffers at least 8-byte aligned
	copy(odd, demo.Safetensors)
	ck, err := OpenMemory("demo", demo.Config, odd)
	if err != nil {
		t.Fatal(err)
	}
	defer ck.Close()
	ref, err := OpenMemory("demo", demo.Config, demo.Safetensors)
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	for i, tn := range ck.Tensors {
		if p := uintptr(unsafe.Pointer(&tn.Data[0])); p%uintptr(max(tn.DType.BlockBytes(), 1)) != 0 {
			t.Errorf("tensor %s at %#x is not aligned to its %d-byte elements", tn.Name, p, tn.DType.BlockBytes())
		}
		if !bytes.Equal(tn.Data, ref.Tensors[i].Data) || tn.Name != ref.Tensors[i].Name {
			t.Errorf("tensor %s differs from the in-place view", tn.Name)
		}
	}
}

func TestOpenMemoryErrors(t *testing.T) {
	if _, err := OpenMemory("x", demo.Config, demo.Safetensors[:100]); err == nil {
		t.Error("truncated safetensors opened")
	}
	if _, err := OpenMemory("x", make([]byte, maxConfigBytes+1), demo.Safetensors); err == nil {
		t.Error("oversized config opened")
	}
}
