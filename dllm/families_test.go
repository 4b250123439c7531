package dllm_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dllm-go/dllm/dllm"
)

const familiesDir = "../testdata/families"

// familyForms lists every checkpoint of the family fixtures with the ids their READMEs
// give: mask, end of text (config.json's eos_token_id; LLaDA's tokenizer calls its end
// of turn <|eot_id|> eos_token) and end of turn.
var familyForms = []struct {
	family, path       string
	mask, eos, roleEnd int32
}{
	{"llada", "llada/hf", 1020, 1019, 1023},
	{"llada", "llada/gguf/llada-micro-f32.gguf", 1020, 1019, 1023},
	{"llada", "llada/gguf/llada-micro-q8_0.gguf", 1020, 1019, 1023},
	{"dream", "dream/hf", 1022, 1018, 1020},
	{"dream", "dream/gguf/dream-micro-f32.gguf", 1022, 1018, 1020},
	{"llada-moe", "llada-moe/hf", 1020, 1019, 1021},
	{"llada-moe", "llada-moe/gguf/llada-moe-micro-f32.gguf", 1020, 1019, 1021},
	{"rnd1", "rnd1/hf", 1023, 1020, 1020},
	{"rnd1", "rnd1/gguf/rnd1-micro-f32.gguf", 1023, 1020, 1020},
}

// TestLoadFamilies: Load accepts every family's HF folder and GGUFs, reports the family
// and its special tokens, and generating on them is a clear ErrInvalid until their
// decoding is wired.
func TestLoadFamilies(t *testing.T) {
	for _, c := range familyForms {
		t.Run(c.path, func(t *testing.T) {
			m, err := dllm.Load(filepath.Join(familiesDir, c.path), dllm.LoadOptions{Threads: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			info := m.Info()
			if info.Architecture != c.family || info.MaskID != c.mask || info.EOSID != c.eos || info.RoleEndID != c.roleEnd {
				t.Errorf("info %+v, want family %s, mask %d, eos %d, role end %d", info, c.family, c.mask, c.eos, c.roleEnd)
			}
			if info.VocabSize != 1024 || info.Layers != 2 || info.HiddenSize != 64 {
				t.Errorf("info %+v", info)
			}
			s, err := m.NewSession()
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			ctx := context.Background()
			for name, gen := range map[string]func() error{
				"Generate":    func() error { _, err := s.Generate(ctx, "hello", dllm.GenerateOptions{}); return err },
				"GenerateIDs": func() error { _, err := s.GenerateIDs(ctx, []int32{1, 2}, dllm.GenerateOptions{}); return err },
				"GenerateChat": func() error {
					_, err := s.GenerateChat(ctx, []dllm.Message{{Role: "user", Content: "hi"}}, dllm.GenerateOptions{})
					return err
				},
				"Chat": func() error { _, err := s.Chat(ctx, "hi", dllm.GenerateOptions{}); return err },
			} {
				err := gen()
				if !errors.Is(err, dllm.ErrInvalid) || !strings.Contains(err.Error(), "decoding for family "+c.family+" is not wired yet") {
					t.Errorf("%s: %v, want ErrInvalid: decoding for family %s is not wired yet", name, err, c.family)
				}
			}
		})
	}
}
