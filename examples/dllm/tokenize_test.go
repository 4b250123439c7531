package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestTokenizeCommand(t *testing.T) {
	var g struct {
		Cases []struct {
			Messages []struct{ Role, Content string }
			IDs      []int
			Tokens   []string
		}
	}
	b, err := os.ReadFile("../../testdata/llada2-micro/golden/chat_template.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	c := g.Cases[0] // a single user turn with the generation prompt
	var out bytes.Buffer
	args := []string{"-m", "../../testdata/llada2-micro/hf", "--chat", "--json", c.Messages[0].Content}
	if err := runTokenize(args, outTo(&out)); err != nil {
		t.Fatal(err)
	}
	var got struct {
		IDs    []int    `json:"ids"`
		Pieces []string `json:"pieces"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("%v: %s", err, out.Bytes())
	}
	if !reflect.DeepEqual(got.IDs, c.IDs) || !reflect.DeepEqual(got.Pieces, c.Tokens) {
		t.Fatalf("got %+v\nwant ids %v tokens %q", got, c.IDs, c.Tokens)
	}

	out.Reset()
	if err := runTokenize([]string{"-m", "../../testdata/llada2-micro/hf"}, stdio{in: strings.NewReader("hello"), out: &out, err: io.Discard}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"ll"`) || !strings.HasSuffix(out.String(), "3 tokens\n") {
		t.Fatalf("text output:\n%s", out.String())
	}
	if err := runTokenize([]string{"x"}, outTo(&out)); err == nil {
		t.Fatal("missing -m accepted")
	}
}
