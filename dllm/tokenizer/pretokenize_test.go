package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// withPreTokenizer returns the micro tokenizer.json with its pre_tokenizer
// replaced.
func withPreTokenizer(t testing.TB, pre json.RawMessage) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(microDir, "hf", "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f map[string]json.RawMessage
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	f["pre_tokenizer"] = pre
	out, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPreTokenizeOracle compares every recognised split pattern (Ling,
// cl100k, Llama-3, Qwen2, and ByteLevel's built-in GPT-2 regex) with the
// Hugging Face library's pre-tokenizer on tricky strings
// (testdata/pretokenize.json.gz, written by scripts/tokenizer-oracle.sh).
func TestPreTokenizeOracle(t *testing.T) {
	raw, err := readMaybeGzip("testdata/pretokenize.json.gz")
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		PreTokenizers map[string]json.RawMessage `json:"pre_tokenizers"`
		Cases         []struct {
			Text   string              `json:"text"`
			Pieces map[string][]string `json:"pieces"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(g.PreTokenizers))
	for name := range g.PreTokenizers {
		names = append(names, name)
	}
	sort.Strings(names)
	if len(names) != 5 || len(g.Cases) < 500 {
		t.Fatalf("golden has %d pre-tokenizers and %d cases", len(names), len(g.Cases))
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			tk, err := FromJSON(withPreTokenizer(t, g.PreTokenizers[name]), nil)
			if err != nil {
				t.Fatal(err)
			}
			bad := 0
			for _, c := range g.Cases {
				got := tk.PreTokenize(c.Text)
				if !reflect.DeepEqual(nonNilS(got), nonNilS(c.Pieces[name])) {
					bad++
					if bad <= 5 {
						t.Errorf("%q:\n got %q\nwant %q", c.Text, got, c.Pieces[name])
					}
				}
			}
			if bad > 0 {
				t.Errorf("%d of %d strings differ", bad, len(g.Cases))
			}
		})
	}
}

func TestPatternRecognition(t *testing.T) {
	for _, p := range []string{LingPattern, Qwen2Pattern, Llama3Pattern, CL100KPattern, GPT2Pattern} {
		if _, err := lookupPattern(p); err != nil {
			t.Errorf("%q not recognised: %v", p, err)
		}
	}
	bad := `\p{L}+|\p{N}+`
	_, err := lookupPattern(bad)
	if err == nil || !strings.Contains(err.Error(), bad) {
		t.Fatalf("unknown pattern: err = %v, want one naming the pattern", err)
	}
	pre, _ := json.Marshal(map[string]any{
		"type": "Sequence", "pretokenizers": []any{
			map[string]any{"type": "Split", "pattern": map[string]string{"Regex": bad}, "behavior": "Isolated"},
			map[string]any{"type": "ByteLevel", "use_regex": false},
		}})
	if _, err := FromJSON(withPreTokenizer(t, pre), nil); err == nil || !strings.Contains(err.Error(), bad) {
		t.Fatalf("FromJSON with unknown pattern: err = %v", err)
	}
}

// TestSplitCoversInput checks that pieces tile the input for every rule.
func TestSplitCoversInput(t *testing.T) {
	inputs := []string{"", "a", " ", "\xff\xfe", "a\u0301b  \n\n x'S'ſ 12345 ... \r\n\t", "\u3000\u00a0word"}
	for p, rule := range knownPatterns {
		for _, s := range inputs {
			var b strings.Builder
			for i := 0; i < len(s); {
				j := rule.next(s, i)
				if j <= i || j > len(s) {
					t.Fatalf("%q: next(%q, %d) = %d", p, s, i, j)
				}
				b.WriteString(s[i:j])
				i = j
			}
			if b.String() != s {
				t.Fatalf("pieces do not tile %q", s)
			}
		}
	}
}
