package corpus

import (
	"bytes"
	"os"
	"testing"
)

const micro = "../../../testdata/llada2-micro/"

// Every case changes the file, names are unique, and the generators reach the fields
// and boundaries they promise.
func TestCases(t *testing.T) {
	read := func(p string) []byte {
		b, err := os.ReadFile(micro + p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	gguf, st, cfg := read("gguf/micro-q4_0.gguf"), read("hf/model.safetensors"), read("hf/config.json")
	for _, c := range []struct {
		name string
		orig []byte
		gen  func([]byte) ([]Case, error)
		want []string
	}{
		{"gguf", gguf, GGUF, []string{
			"header tensor count = 0", "header key/value count = 18446744073709551615",
			"kv llada2.context_length value = 2147483648", "kv general.architecture type = 0",
			"tensor token_embd.weight dim 1 = 9223372036854775808", "tensor output_norm.weight offset = 1",
			"truncated at byte 24 (after the header)", "tensor info 0 dropped, its data kept",
			"every tensor offset shifted by the alignment",
		}},
		{"gguf values", gguf, GGUFValues, []string{
			"tensor output_norm.weight first value NaN", "tensor token_embd.weight first value +Inf",
			"tensor blk.1.ffn_down_exps.weight first value NaN",
		}},
		{"safetensors", st, func(b []byte) ([]Case, error) {
			return Safetensors(b, func(n string) bool { return n == "model.norm.weight" || n == "lm_head.weight" })
		}, []string{
			"header length = 9223372036854775808", "tensor model.norm.weight dim 0 = -1",
			"tensor lm_head.weight data_offsets 1 = 9223372036854775808", "tensor model.norm.weight dropped from the header",
			"every data offset shifted by 2",
		}},
		{"json", cfg, JSON, []string{"max_position_embeddings = 2147483648", "num_experts = -1", "hidden_size removed", "use_qk_norm = null"}},
	} {
		cases, err := c.gen(c.orig)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		names := map[string]bool{}
		for _, k := range cases {
			if names[k.Name] {
				t.Errorf("%s: two cases named %q", c.name, k.Name)
			}
			names[k.Name] = true
			if bytes.Equal(k.Build(), c.orig) {
				t.Errorf("%s: case %q leaves the file as it was", c.name, k.Name)
			}
		}
		for _, w := range c.want {
			if !names[w] {
				t.Errorf("%s: no case %q among %d", c.name, w, len(cases))
			}
		}
		t.Logf("%s: %d cases", c.name, len(cases))
	}
	if _, err := GGUF([]byte("GGUF")); err == nil {
		t.Errorf("a broken base: %v", err)
	}
}
