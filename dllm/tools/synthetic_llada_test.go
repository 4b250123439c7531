package tools

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/dllm-go/dllm/dllm"
)

// TestSyntheticLLaDA: a synthetic LLaDA directory loads as the llada family with LLaDA's
// special tokens resolved and its chat template, and runs a window forward (the bench's
// fast comparison is covered on the fixtures); bad options are ErrInvalid.
func TestSyntheticLLaDA(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "llada")
	if err := WriteSyntheticModel(dir, SyntheticOptions{Family: "llada", Preset: "tiny", Layers: 1, Type: "bf16", Seed: 3}); err != nil {
		t.Fatal(err)
	}
	m := loadModel(t, dir)
	info := m.Info()
	if info.Architecture != "llada" || info.Layers != 1 || info.HiddenSize != 256 || info.VocabSize != 4096 {
		t.Fatalf("info %+v", info)
	}
	mask, _ := m.Tokenizer().ID("<|mdm_mask|>")
	eos, _ := m.Tokenizer().ID("<|endoftext|>")
	eot, _ := m.Tokenizer().ID("<|eot_id|>")
	if info.MaskID != mask || info.EOSID != eos || info.RoleEndID != eot || mask != 4096-6+2 {
		t.Errorf("specials mask %d eos %d role end %d; tokenizer %d %d %d", info.MaskID, info.EOSID, info.RoleEndID, mask, eos, eot)
	}
	ids, err := m.Tokenizer().EncodeChat([]dllm.Message{{Role: "user", Content: "hi"}}, true)
	if err != nil || len(ids) < 4 || ids[len(ids)-1] == eot {
		t.Fatalf("chat %v %v", ids, err)
	}
	for name, o := range map[string]SyntheticOptions{
		"q8_0":   {Family: "llada", Type: "q8_0"},
		"gguf":   {Family: "llada", Type: "bf16", Format: "gguf"},
		"preset": {Family: "llada", Type: "bf16", Preset: "huge"},
		"family": {Family: "gpt2", Type: "bf16"},
	} {
		if err := WriteSyntheticModel(filepath.Join(t.TempDir(), name), o); !errors.Is(err, dllm.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
}
