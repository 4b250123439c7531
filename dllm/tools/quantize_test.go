package tools

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestQuantize: the summary describes the file written, which loads. The conversion
// itself is tested in package dllm (quantized models against the goldens).
func TestQuantize(t *testing.T) {
	dst := filepath.Join(t.TempDir(), "micro-q8_0.gguf")
	sum, err := Quantize(context.Background(), filepath.Join(microDir, "hf"), dst, QuantizeOptions{Type: "q8_0", Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(dst)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range sum.Types {
		n += c
	}
	if sum.Tensors != 40 || n != sum.Tensors || sum.Types["q8_0"] == 0 || sum.OutBytes != st.Size() || sum.InBytes <= 0 {
		t.Errorf("summary %+v for a file of %d bytes", sum, st.Size())
	}
	if info := loadModel(t, dst).Info(); info.Format != "gguf" {
		t.Errorf("loads as %+v", info)
	}
}

// TestQuantizeCancel: a cancelled conversion leaves nothing at the destination.
func TestQuantizeCancel(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Quantize(ctx, filepath.Join(microDir, "hf"), filepath.Join(dir, "x.gguf"), QuantizeOptions{Type: "q8_0"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if e, _ := os.ReadDir(dir); len(e) != 0 {
		t.Fatalf("left behind: %v", e)
	}
}
