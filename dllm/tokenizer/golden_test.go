package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const microDir = "../../testdata/llada2-micro"

type goldenCase struct {
	Name               string   `json:"name"`
	Text               string   `json:"text"`
	IDs                []int32  `json:"ids"`
	Tokens             []string `json:"tokens"`
	Decoded            string   `json:"decoded"`
	DecodedSkipSpecial string   `json:"decoded_skip_special"`
	Pretokens          []string `json:"pretokens"`
}

type chatCase struct {
	Name                string    `json:"name"`
	Messages            []Message `json:"messages"`
	AddGenerationPrompt bool      `json:"add_generation_prompt"`
	Text                string    `json:"text"`
	IDs                 []int32   `json:"ids"`
	Tokens              []string  `json:"tokens"`
}

func readJSON(t testing.TB, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func microHF(t testing.TB) *Tokenizer {
	t.Helper()
	tk, err := Load(filepath.Join(microDir, "hf"))
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func microGGUF(t testing.TB, name string) *Tokenizer {
	t.Helper()
	v, err := ggufVocabFromFile(filepath.Join(microDir, "gguf", name))
	if err != nil {
		t.Fatal(err)
	}
	tk, err := FromGGUF(v)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// microTokenizers returns the micro tokenizer from tokenizer.json and from
// every GGUF file.
func microTokenizers(t *testing.T) map[string]*Tokenizer {
	out := map[string]*Tokenizer{"hf": microHF(t)}
	files, _ := filepath.Glob(filepath.Join(microDir, "gguf", "*.gguf"))
	if len(files) == 0 {
		t.Fatal("no GGUF fixtures")
	}
	for _, f := range files {
		out[filepath.Base(f)] = microGGUF(t, filepath.Base(f))
	}
	return out
}

func TestGoldenTokenizer(t *testing.T) {
	var g struct{ Cases []goldenCase }
	readJSON(t, filepath.Join(microDir, "golden", "tokenizer.json"), &g)
	if len(g.Cases) != 62 {
		t.Fatalf("expected 62 golden cases, got %d", len(g.Cases))
	}
	for src, tk := range microTokenizers(t) {
		for _, c := range g.Cases {
			t.Run(src+"/"+c.Name, func(t *testing.T) {
				ids := tk.Encode(c.Text)
				if !reflect.DeepEqual(nonNil(ids), nonNil(c.IDs)) {
					t.Fatalf("ids\n got %v\nwant %v", ids, c.IDs)
				}
				if got := tk.Tokens(ids); !reflect.DeepEqual(nonNilS(got), nonNilS(c.Tokens)) {
					t.Fatalf("tokens\n got %q\nwant %q", got, c.Tokens)
				}
				if got := tk.Decode(c.IDs); got != c.Decoded {
					t.Fatalf("decoded %q want %q", got, c.Decoded)
				}
				if got := tk.DecodeSkipSpecial(c.IDs); got != c.DecodedSkipSpecial {
					t.Fatalf("decoded_skip_special %q want %q", got, c.DecodedSkipSpecial)
				}
				if c.Pretokens != nil {
					if got := tk.PreTokenize(c.Text); !reflect.DeepEqual(nonNilS(got), nonNilS(c.Pretokens)) {
						t.Fatalf("pretokens\n got %q\nwant %q", got, c.Pretokens)
					}
				}
				var stream strings.Builder
				d := tk.NewStreamDecoder(false)
				for _, id := range c.IDs {
					stream.WriteString(d.Add(id))
				}
				stream.WriteString(d.Flush())
				if stream.String() != c.Decoded {
					t.Fatalf("stream decode %q want %q", stream.String(), c.Decoded)
				}
			})
		}
	}
}

func TestGoldenChat(t *testing.T) {
	var g struct {
		Template string
		Cases    []chatCase
	}
	readJSON(t, filepath.Join(microDir, "golden", "chat_template.json"), &g)
	if len(g.Cases) == 0 {
		t.Fatal("no chat cases")
	}
	for src, tk := range microTokenizers(t) {
		if tk.ChatTemplate() != g.Template {
			t.Errorf("%s: chat template differs from the golden's", src)
		}
		for _, c := range g.Cases {
			t.Run(src+"/"+c.Name, func(t *testing.T) {
				text, err := tk.ApplyChat(c.Messages, c.AddGenerationPrompt)
				if err != nil {
					t.Fatal(err)
				}
				if text != c.Text {
					t.Fatalf("text\n got %q\nwant %q", text, c.Text)
				}
				ids, err := tk.EncodeChat(c.Messages, c.AddGenerationPrompt)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(ids, c.IDs) {
					t.Fatalf("ids\n got %v\nwant %v", ids, c.IDs)
				}
				if c.Tokens != nil && !reflect.DeepEqual(tk.Tokens(ids), c.Tokens) {
					t.Fatalf("tokens\n got %q\nwant %q", tk.Tokens(ids), c.Tokens)
				}
			})
		}
	}
}

func TestSpecials(t *testing.T) {
	want := SpecialTokens{BOS: 1018, EOS: 1019, Pad: 1019, Mask: 1020, RoleEnd: 1021, RoleOpen: 1022, RoleClose: 1023}
	for src, tk := range microTokenizers(t) {
		if got := tk.Specials(); got != want {
			t.Errorf("%s: Specials() = %+v, want %+v", src, got, want)
		}
		if tk.VocabSize() != 1024 {
			t.Errorf("%s: VocabSize() = %d", src, tk.VocabSize())
		}
		for _, id := range []int32{1018, 1019, 1020, 1021, 1022, 1023} {
			if !tk.IsSpecial(id) {
				t.Errorf("%s: %d not special", src, id)
			}
		}
	}
}

func nonNil(s []int32) []int32 {
	if s == nil {
		return []int32{}
	}
	return s
}

func nonNilS(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
