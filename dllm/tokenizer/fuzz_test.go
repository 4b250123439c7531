package tokenizer

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/dllm-go/dllm/dllm/internal/corpus"
)

func addGoldenSeeds(f *testing.F) {
	var g struct{ Cases []goldenCase }
	readJSON(f, filepath.Join(microDir, "golden", "tokenizer.json"), &g)
	for _, c := range g.Cases {
		f.Add(c.Text)
	}
	f.Add("\xff\xfe<|mask|\xe2\x82")
	f.Add(strings.Repeat("ab", 100))
}

// FuzzEncode: encoding never panics, ids are in range, the raw bytes round
// trip for any input and the text round trips for valid UTF-8 (the micro
// tokenizer has no normalizer), and streaming decode equals Decode.
func FuzzEncode(f *testing.F) {
	addGoldenSeeds(f)
	tk := microHF(f)
	f.Fuzz(func(t *testing.T, s string) {
		for _, ids := range [][]int32{tk.Encode(s), tk.EncodePlain(s)} {
			for _, id := range ids {
				if id < 0 || int(id) >= tk.VocabSize() {
					t.Fatalf("id %d out of range", id)
				}
			}
			if got := tk.DecodeBytes(ids, false); !bytes.Equal(got, []byte(s)) {
				t.Fatalf("raw round trip: %q -> %v -> %q", s, ids, got)
			}
			dec := tk.Decode(ids)
			if utf8.ValidString(s) && dec != s {
				t.Fatalf("round trip: %q -> %v -> %q", s, ids, dec)
			}
			if !utf8.ValidString(dec) {
				t.Fatalf("Decode returned invalid UTF-8 %q", dec)
			}
			d := tk.NewStreamDecoder(false)
			var sb strings.Builder
			for _, id := range ids {
				sb.WriteString(d.Add(id))
			}
			sb.WriteString(d.Flush())
			if sb.String() != dec {
				t.Fatalf("stream %q != Decode %q", sb.String(), dec)
			}
		}
		var joined strings.Builder
		for _, p := range tk.PreTokenize(s) {
			raw, ok := byteLevelDecode(p)
			if !ok {
				t.Fatalf("pre-token %q outside the byte alphabet", p)
			}
			joined.Write(raw)
			// Both merge strategies must agree on every pre-token.
			syms := make([]int32, len(raw))
			for i, c := range raw {
				syms[i] = tk.model.byteID[c]
			}
			a := tk.model.mergeSmall(append([]int32(nil), syms...))
			b := tk.model.mergeHeap(append([]int32(nil), syms...))
			if !equal32(a, b) {
				t.Fatalf("merge strategies differ on %q: %v vs %v", raw, a, b)
			}
		}
		if joined.String() != s {
			t.Fatalf("pre-tokens do not tile the input")
		}
	})
}

func equal32(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// FuzzDecode: decoding arbitrary ids (in range or not) never panics, always
// gives valid UTF-8, and streaming gives the same text.
func FuzzDecode(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3})
	f.Add([]byte{0xff, 0xff, 0xfc, 0x03, 0x10, 0x00})
	tk := microHF(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		ids := make([]int32, 0, len(b)/2)
		for len(b) >= 2 {
			ids = append(ids, int32(int16(binary.LittleEndian.Uint16(b)))%1100)
			b = b[2:]
		}
		for _, skip := range []bool{false, true} {
			var dec string
			if skip {
				dec = tk.DecodeSkipSpecial(ids)
			} else {
				dec = tk.Decode(ids)
			}
			if !utf8.ValidString(dec) {
				t.Fatalf("invalid UTF-8 %q", dec)
			}
			d := tk.NewStreamDecoder(skip)
			var sb strings.Builder
			for _, id := range ids {
				out := d.Add(id)
				if !utf8.ValidString(out) {
					t.Fatalf("stream emitted invalid UTF-8 %q", out)
				}
				sb.WriteString(out)
			}
			sb.WriteString(d.Flush())
			if sb.String() != dec {
				t.Fatalf("stream %q != Decode %q (ids %v)", sb.String(), dec, ids)
			}
		}
		tk.Tokens(ids)
	})
}

// FuzzMergeQwen3 checks the two merge strategies against each other on the
// large Qwen3 vocabulary, where long merge chains are common.
func FuzzMergeQwen3(f *testing.F) {
	f.Add("internationalization")
	f.Add(strings.Repeat("=", 70))
	f.Add("        \t\t    return")
	tk := qwen3(f)
	f.Fuzz(func(t *testing.T, s string) {
		for _, p := range tk.PreTokenize(s) {
			raw, _ := byteLevelDecode(p)
			syms := make([]int32, len(raw))
			for i, c := range raw {
				syms[i] = tk.model.byteID[c]
			}
			a := tk.model.mergeSmall(append([]int32(nil), syms...))
			b := tk.model.mergeHeap(append([]int32(nil), syms...))
			if !equal32(a, b) {
				t.Fatalf("merge strategies differ on %q: %v vs %v", raw, a, b)
			}
		}
	})
}

// FuzzFromJSON: loading arbitrary tokenizer.json / config bytes never
// panics, and a tokenizer that loads encodes and decodes without panicking.
func FuzzFromJSON(f *testing.F) {
	f.Add([]byte(`{"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b"]},"pre_tokenizer":{"type":"ByteLevel"},"added_tokens":[{"id":3,"content":"<x>","special":true,"lstrip":true}]}`), []byte(`{"chat_template":"<role>HUMAN ASSISTANT <|role_end|> detailed thinking","eos_token":{"content":"<x>"}}`))
	f.Add([]byte(`{"model":{"vocab":{"Ġ":0},"merges":[["Ġ","Ġ"]]},"normalizer":{"type":"Sequence","normalizers":[{"type":"NFKC"}]},"pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":"\\p{N}"},"behavior":"Removed","invert":true},{"type":"ByteLevel","add_prefix_space":true,"use_regex":false}]}}`), []byte(nil))
	// The hostile corpus of the micro fixture's files: every top-level scalar of each
	// at 0, −1, 2^31, 2^63, of the wrong type or removed, and truncations.
	tj, _ := os.ReadFile(filepath.Join(microDir, "hf", "tokenizer.json"))
	cfg, _ := os.ReadFile(filepath.Join(microDir, "hf", "tokenizer_config.json"))
	for i, base := range [][]byte{tj, cfg} {
		cases, err := corpus.JSON(base)
		if err != nil {
			f.Fatal(err)
		}
		for _, c := range cases {
			if i == 0 {
				f.Add(c.Build(), cfg)
			} else {
				f.Add(tj, c.Build())
			}
		}
	}
	f.Fuzz(func(t *testing.T, tj, cfg []byte) {
		tk, err := FromJSON(tj, cfg)
		if err != nil {
			return
		}
		ids := tk.Encode("Hello <x> wörld 123\n\n  'll 😀")
		tk.Decode(ids)
		tk.PreTokenize("a b")
		tk.ApplyChat([]Message{{Role: "system", Content: "s"}, {Role: "user", Content: "u"}}, true)
		tk.Specials()
	})
}

// FuzzFromGGUF: building from arbitrary GGUF-like metadata never panics.
func FuzzFromGGUF(f *testing.F) {
	f.Add("a\nb\nab\n<s>", "a b\nb a", []byte{1, 1, 1, 3}, int8(3), "bailingmoe2")
	f.Add("Ġ\nĠĠ", "Ġ Ġ\n\n Ġ", []byte{}, int8(-1), "qwen2")
	f.Fuzz(func(t *testing.T, toks, merges string, types []byte, special int8, pre string) {
		v := GGUFVocab{Model: "gpt2", Pre: pre, Tokens: strings.Split(toks, "\n"), Merges: strings.Split(merges, "\n"),
			BOS: int32(special), EOS: int32(special) * 3, Pad: -1, Mask: int32(special) - 1}
		if len(types) > 0 {
			v.TokenTypes = make([]int32, len(v.Tokens))
			for i := range v.TokenTypes {
				v.TokenTypes[i] = int32(types[i%len(types)] % 8)
			}
		}
		tk, err := FromGGUF(v)
		if err != nil {
			return
		}
		tk.Decode(tk.Encode(toks + " <s> " + merges))
		tk.Specials()
	})
}
