package tokenizer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// TestAddedTokensOracle checks lstrip, rstrip, single_word, normalized and
// non-special added tokens against the Hugging Face library
// (testdata/added_tokens.json, written by scripts/tokenizer-oracle.sh).
func TestAddedTokensOracle(t *testing.T) {
	var g struct {
		Tokenizer json.RawMessage
		Cases     []struct {
			Text               string
			IDs                []int32
			Decoded            string
			DecodedSkipSpecial string `json:"decoded_skip_special"`
		}
	}
	readJSON(t, "testdata/added_tokens.json", &g)
	tk, err := FromJSON(g.Tokenizer, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range g.Cases {
		if got := tk.Encode(c.Text); !reflect.DeepEqual(got, c.IDs) {
			t.Errorf("%q: got %v want %v", c.Text, got, c.IDs)
		}
		if got := tk.Decode(c.IDs); got != c.Decoded {
			t.Errorf("%q: decode %q want %q", c.Text, got, c.Decoded)
		}
		if got := tk.DecodeSkipSpecial(c.IDs); got != c.DecodedSkipSpecial {
			t.Errorf("%q: decode skip special %q want %q", c.Text, got, c.DecodedSkipSpecial)
		}
	}
}

func TestLossyDecode(t *testing.T) {
	cases := []struct{ in, want string }{
		{"abc", "abc"},
		{"\xe2\x82", "\uFFFD"},
		{"\xe2\x82A", "\uFFFDA"},
		{"\xff", "\uFFFD"},
		{"\xff\xfe", "\uFFFD\uFFFD"},
		{"\xed\xa0\x80", "\uFFFD\uFFFD\uFFFD"}, // a surrogate: every byte is invalid
		{"\xf0\x9f\x98", "\uFFFD"},
		{"\xf0\x9f\x98\x80", "😀"},
		{"\xe0\x80\x80", "\uFFFD\uFFFD\uFFFD"},
		{"\xf4\x90\x80\x80", "\uFFFD\uFFFD\uFFFD\uFFFD"},
		{"\xef\xbf\xbd", "\uFFFD"},
	}
	for _, c := range cases {
		if got := string(appendLossy(nil, []byte(c.in))); got != c.want {
			t.Errorf("lossy(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestIncompleteTail(t *testing.T) {
	cases := []struct {
		in   string
		want int
	}{
		{"", 0}, {"a", 0}, {"\xe2", 1}, {"a\xe2\x82", 2}, {"\xe2\x82\xac", 0},
		{"\xf0\x9f\x98", 3}, {"\xf0\x9f", 2}, {"\xff", 0}, {"\xe0\x80", 0}, {"\x80", 0},
	}
	for _, c := range cases {
		if got := incompleteTail([]byte(c.in)); got != c.want {
			t.Errorf("incompleteTail(%q) = %d, want %d", c.in, got, c.want)
		}
	}
}

func TestStreamDecoderHoldsPartialCharacters(t *testing.T) {
	tk := microHF(t)
	text := "a😀b€"
	var ids []int32
	for i := 0; i < len(text); i++ { // one id per byte
		ids = append(ids, tk.model.byteID[text[i]])
	}
	d := tk.NewStreamDecoder(false)
	var outs []string
	for _, id := range ids {
		outs = append(outs, d.Add(id))
	}
	want := []string{"a", "", "", "", "😀", "b", "", "", "€"}
	if !reflect.DeepEqual(outs, want) || d.Flush() != "" {
		t.Fatalf("stream outputs %q, want %q", outs, want)
	}
	// An incomplete character at the end is flushed as U+FFFD.
	d.Add(ids[1])
	d.Add(ids[2])
	if got := d.Flush(); got != "\uFFFD" {
		t.Fatalf("flush = %q", got)
	}
	// Special tokens are skipped when asked.
	d = tk.NewStreamDecoder(true)
	if got := d.Add(tk.Specials().EOS); got != "" {
		t.Fatalf("special token emitted %q", got)
	}
}

func TestEncodePlain(t *testing.T) {
	tk := microHF(t)
	s := "x<|endoftext|>y<role>"
	if got := tk.Encode(s); !contains(got, tk.Specials().EOS) || !contains(got, tk.Specials().RoleOpen) {
		t.Fatalf("Encode did not parse special tokens: %v", got)
	}
	plain := tk.EncodePlain(s)
	for _, id := range plain {
		if tk.IsSpecial(id) {
			t.Fatalf("EncodePlain produced special id %d: %v", id, plain)
		}
	}
	if tk.Decode(plain) != s {
		t.Fatalf("EncodePlain round trip: %q", tk.Decode(plain))
	}
}

func contains(ids []int32, id int32) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func TestLookups(t *testing.T) {
	tk := microHF(t)
	if s, ok := tk.Token(1020); !ok || s != "<|mask|>" {
		t.Fatalf("Token(1020) = %q %v", s, ok)
	}
	if _, ok := tk.Token(-1); ok {
		t.Fatal("Token(-1) ok")
	}
	if _, ok := tk.Token(1 << 20); ok {
		t.Fatal("Token(huge) ok")
	}
	id, ok := tk.ID("Ġthe")
	if !ok || tk.Decode([]int32{id}) != " the" || string(tk.PieceBytes(id)) != " the" {
		t.Fatalf("ID(Ġthe) = %d %v", id, ok)
	}
	if id, ok := tk.ID("</role>"); !ok || id != 1023 {
		t.Fatalf("ID(</role>) = %d %v", id, ok)
	}
	if len(tk.AddedTokens()) != 6 {
		t.Fatalf("%d added tokens", len(tk.AddedTokens()))
	}
	if tk.PieceBytes(-5) != nil {
		t.Fatal("PieceBytes(-5) not nil")
	}
}

func TestQwen3Specials(t *testing.T) {
	tk := qwen3(t)
	sp := tk.Specials()
	eos, _ := tk.ID("<|endoftext|>")
	if sp.EOS != eos || sp.Mask != -1 || sp.RoleEnd != -1 || sp.RoleOpen != -1 || sp.BOS != -1 {
		t.Fatalf("Qwen3 specials = %+v", sp)
	}
	if tk.VocabSize() != 151669 {
		t.Fatalf("VocabSize = %d", tk.VocabSize())
	}
}

func TestChatErrors(t *testing.T) {
	tk := microHF(t)
	_, err := tk.ApplyChat([]Message{{Role: "wizard", Content: "x"}}, true)
	if err == nil || !strings.Contains(err.Error(), `"wizard"`) {
		t.Fatalf("unknown role: %v", err)
	}
	// The micro template has no tool turns.
	if _, err := tk.ApplyChat([]Message{{Role: "tool", Content: "42"}}, true); err == nil {
		t.Fatal("tool role accepted by a template without OBSERVATION")
	}
	// No template at all.
	b, _ := os.ReadFile(filepath.Join(microDir, "hf", "tokenizer.json"))
	bare, err := FromJSON(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bare.ApplyChat([]Message{{Role: "user", Content: "hi"}}, true); !errors.Is(err, ErrNoChatTemplate) {
		t.Fatalf("no template: %v", err)
	}
	// A template of another family.
	cfg, _ := json.Marshal(map[string]string{"chat_template": "{% for m in messages %}<start_of_turn>{{ m.role }}\n{{ m.content }}<end_of_turn>\n{% endfor %}"})
	other, err := FromJSON(b, cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = other.ApplyChat([]Message{{Role: "user", Content: "hi"}}, true)
	if err == nil || !strings.Contains(err.Error(), "Encode") {
		t.Fatalf("unknown template: %v", err)
	}
	if _, err := other.EncodeChat(nil, true); err == nil {
		t.Fatal("EncodeChat with unknown template succeeded")
	}
}

func TestChatToolTurns(t *testing.T) {
	b, _ := os.ReadFile(filepath.Join(microDir, "hf", "tokenizer.json"))
	tpl := "{%- set thinking_option = 'off' -%}<role>SYSTEM</role>detailed thinking {{ thinking_option }}<|role_end|>" +
		"{%- for m in messages %}{%- if m.role == 'user' %}<role>HUMAN</role>{%- elif m.role == 'tool' %}<role>OBSERVATION</role>{%- endif %}{%- endfor %}<role>ASSISTANT</role>"
	cfg, _ := json.Marshal(map[string]string{"chat_template": tpl})
	tk, err := FromJSON(b, cfg)
	if err != nil {
		t.Fatal(err)
	}
	msgs := []Message{
		{Role: "system", Content: "S"},
		{Role: "user", Content: "U"},
		{Role: "assistant", Content: "A"},
		{Role: "tool", Content: "T1"},
		{Role: "observation", Content: "T2"},
		{Role: "system", Content: "S2"},
	}
	got, err := tk.ApplyChat(msgs, true)
	if err != nil {
		t.Fatal(err)
	}
	want := "<role>SYSTEM</role>S\ndetailed thinking off<|role_end|><role>HUMAN</role>U<|role_end|>" +
		"<role>ASSISTANT</role>A<|role_end|><role>OBSERVATION</role>\n<tool_response>\nT1\n</tool_response>" +
		"\n<tool_response>\nT2\n</tool_response><|role_end|><role>SYSTEM</role>S2<|role_end|><role>ASSISTANT</role>"
	if got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
	got, _ = tk.ApplyChat(nil, false)
	if got != "<role>SYSTEM</role>detailed thinking off<|role_end|>" {
		t.Fatalf("empty conversation: %q", got)
	}
}

func TestGGUFErrors(t *testing.T) {
	base, err := ggufVocabFromFile(filepath.Join(microDir, "gguf", "micro-f32.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	for name, mod := range map[string]func(*GGUFVocab){
		"model":    func(v *GGUFVocab) { v.Model = "llama" },
		"pre":      func(v *GGUFVocab) { v.Pre = "mystery-pre" },
		"types":    func(v *GGUFVocab) { v.TokenTypes = v.TokenTypes[:3] },
		"merge":    func(v *GGUFVocab) { v.Merges = append([]string{"nospace"}, v.Merges...) },
		"empty":    func(v *GGUFVocab) { v.Tokens, v.TokenTypes = nil, nil },
		"eos=mask": func(v *GGUFVocab) { v.EOS = v.Mask },
		"pad=mask": func(v *GGUFVocab) { v.Pad = v.Mask },
		"mask id":  func(v *GGUFVocab) { v.Mask = int32(len(v.Tokens)) },
	} {
		v := base
		mod(&v)
		if _, err := FromGGUF(v); err == nil {
			t.Errorf("%s: no error", name)
		} else if name == "pre" && !strings.Contains(err.Error(), "mystery-pre") {
			t.Errorf("pre error does not name it: %v", err)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	if _, err := Load(t.TempDir()); err == nil {
		t.Fatal("Load of an empty directory succeeded")
	}
	for _, bad := range []string{
		`{`,
		`{"model":{"type":"Unigram","vocab":{}}}`,
		`{"model":{"type":"BPE","vocab":{"a":0},"merges":["a b"]},"pre_tokenizer":{"type":"ByteLevel"}}`,
		`{"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"pre_tokenizer":null}`,
		`{"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"pre_tokenizer":{"type":"ByteLevel"},"normalizer":{"type":"Lowercase"}}`,
		`{"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"pre_tokenizer":{"type":"Whitespace"}}`,
		`{"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"pre_tokenizer":{"type":"ByteLevel"},"decoder":{"type":"WordPiece"}}`,
		`{"model":{"type":"BPE","vocab":{"a":-1},"merges":[]},"pre_tokenizer":{"type":"ByteLevel"}}`,
		// ids are int32: one past it must not wrap to a small valid id
		`{"model":{"type":"BPE","vocab":{"a":4294967296},"merges":[]},"pre_tokenizer":{"type":"ByteLevel"}}`,
		`{"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"pre_tokenizer":{"type":"ByteLevel"},"added_tokens":[{"id":2147483648,"content":"x"}]}`,
		`{"model":{"type":"BPE","vocab":{"a":2097152},"merges":[]},"pre_tokenizer":{"type":"ByteLevel"}}`,
	} {
		if _, err := FromJSON([]byte(bad), nil); err == nil {
			t.Errorf("FromJSON(%s) succeeded", bad)
		}
	}
}

// TestConcurrentEncode shares one tokenizer (and its cache) between
// goroutines; run with -race.
func TestConcurrentEncode(t *testing.T) {
	tk := microHF(t)
	texts := make([]string, 64)
	want := make([][]int32, len(texts))
	for i := range texts {
		texts[i] = fmt.Sprintf("Goroutine %d says: the quick brown fox %d jumps over <|mask|> lazy dogs %x.", i, i*i, i*7919)
		want[i] = tk.Encode(texts[i])
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for k := 0; k < 200; k++ {
				i := (g*31 + k) % len(texts)
				if got := tk.Encode(texts[i]); !reflect.DeepEqual(got, want[i]) {
					t.Errorf("goroutine %d: mismatch on %q", g, texts[i])
					return
				}
			}
		}(g)
	}
	wg.Wait()
}

func TestCacheBounded(t *testing.T) {
	tk := microHF(t)
	for i := 0; i < 3*cacheShards*cachePerShard/2; i++ {
		tk.Encode(fmt.Sprintf(" w%dx", i))
	}
	n := 0
	for i := range tk.model.cache.shards {
		n += len(tk.model.cache.shards[i].m)
	}
	if n > cacheShards*cachePerShard {
		t.Fatalf("cache holds %d entries", n)
	}
}

// TestByteLevelPrefixSpace: ByteLevel's add_prefix_space adds a space to
// every piece it receives (each text segment between added tokens, or each
// piece of a preceding Split). Expected values from the Hugging Face
// library (npm tokenizers@0.23.2) on the micro vocabulary.
func TestByteLevelPrefixSpace(t *testing.T) {
	ling, _ := json.Marshal(map[string]any{"type": "Split", "pattern": map[string]string{"Regex": LingPattern}, "behavior": "Isolated", "invert": false})
	bl := func(useRegex bool) json.RawMessage {
		b, _ := json.Marshal(map[string]any{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": useRegex})
		return b
	}
	seq := func(useRegex bool) json.RawMessage {
		return json.RawMessage(`{"type":"Sequence","pretokenizers":[` + string(ling) + `,` + string(bl(useRegex)) + `]}`)
	}
	type tc struct {
		text      string
		pretokens []string
		ids       []int32
	}
	alone := []tc{
		{"hello world", []string{"Ġhello", "Ġworld"}, []int32{490, 288, 78, 424, 319}},
		{" hi  there\n", []string{"Ġhi", "Ġ", "Ġthere", "Ċ"}, []int32{321, 72, 220, 845, 198}},
		{"x<|mask|>y", []string{"Ġx", "<|", "mask", "|>", "y"}, []int32{823, 1020, 372}},
	}
	inSeq := []tc{
		{"hello world", []string{"Ġhello", "Ġworld"}, []int32{490, 288, 78, 424, 319}},
		{" hi  there\n", []string{"Ġhi", "Ġ", "Ġthere", "ĠĊ"}, []int32{321, 72, 220, 845, 220, 198}},
		{"x<|mask|>y", []string{"Ġx", "Ġ<|", "Ġmask", "Ġ|>", "Ġy"}, []int32{823, 1020, 372}},
	}
	for name, c := range map[string]struct {
		pre   json.RawMessage
		cases []tc
	}{"alone": {bl(true), alone}, "seq": {seq(false), inSeq}, "seq-regex": {seq(true), inSeq}} {
		tk, err := FromJSON(withPreTokenizer(t, c.pre), nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range c.cases {
			if got := tk.PreTokenize(k.text); !reflect.DeepEqual(got, k.pretokens) {
				t.Errorf("%s %q: pretokens %q want %q", name, k.text, got, k.pretokens)
			}
			if got := tk.Encode(k.text); !reflect.DeepEqual(got, k.ids) {
				t.Errorf("%s %q: ids %v want %v", name, k.text, got, k.ids)
			}
		}
	}
}

// TestIgnoreMergesAndStringMerges uses a hand-made vocabulary where the
// merges cannot build a token the vocabulary has, and merges in the
// "left right" string form.
func TestIgnoreMergesAndStringMerges(t *testing.T) {
	mk := func(ignore bool) *Tokenizer {
		f := map[string]any{
			"added_tokens":  []any{},
			"pre_tokenizer": map[string]any{"type": "ByteLevel", "add_prefix_space": false, "use_regex": true},
			"decoder":       map[string]any{"type": "ByteLevel"},
			"model": map[string]any{
				"type": "BPE", "ignore_merges": ignore,
				"vocab":  map[string]int{"a": 0, "b": 1, "c": 2, "bc": 3, "abc": 4, "Ġ": 5, "ab": 6},
				"merges": []string{"#version: 0.2", "b c", "a b"},
			},
		}
		b, _ := json.Marshal(f)
		tk, err := FromJSON(b, nil)
		if err != nil {
			t.Fatal(err)
		}
		return tk
	}
	if got := mk(false).Encode("abc"); !reflect.DeepEqual(got, []int32{0, 3}) {
		t.Errorf("without ignore_merges: %v, want [0 3]", got)
	}
	if got := mk(true).Encode("abc"); !reflect.DeepEqual(got, []int32{4}) {
		t.Errorf("with ignore_merges: %v, want [4]", got)
	}
	if got := mk(true).Encode("abab c"); !reflect.DeepEqual(got, []int32{6, 6, 5, 2}) {
		t.Errorf("abab c: %v", got)
	}
}

func TestLoadChatTemplateFile(t *testing.T) {
	dir := t.TempDir()
	b, _ := os.ReadFile(filepath.Join(microDir, "hf", "tokenizer.json"))
	cfg, _ := os.ReadFile(filepath.Join(microDir, "hf", "tokenizer_config.json"))
	var c map[string]any
	json.Unmarshal(cfg, &c)
	tpl := c["chat_template"].(string)
	delete(c, "chat_template")
	cfg, _ = json.Marshal(c)
	os.WriteFile(filepath.Join(dir, "tokenizer.json"), b, 0o644)
	os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), cfg, 0o644)
	os.WriteFile(filepath.Join(dir, "chat_template.jinja"), []byte(tpl), 0o644)
	tk, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if tk.ChatTemplate() != tpl {
		t.Fatal("chat_template.jinja not used")
	}
	if _, err := tk.ApplyChat([]Message{{Role: "user", Content: "x"}}, true); err != nil {
		t.Fatal(err)
	}
}

// A special token the configuration names must exist and the mask must be a token of
// its own: either mistake loads silently otherwise and fails every generation later.
func TestSpecialTokenErrors(t *testing.T) {
	b, _ := os.ReadFile(filepath.Join(microDir, "hf", "tokenizer.json"))
	for _, c := range []struct{ cfg, want string }{
		{`{"eos_token": "<|no-such-token|>"}`, `eos_token "<|no-such-token|>" is not in the vocabulary`},
		{`{"mask_token": {"content": "nope"}}`, `mask_token "nope" is not in the vocabulary`},
		{`{"eos_token": "<|mask|>"}`, "mask_token and eos_token are the same token"},
	} {
		_, err := FromJSON(b, []byte(c.cfg))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.cfg, err, c.want)
		}
	}
}
