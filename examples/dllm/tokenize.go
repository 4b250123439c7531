package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dllm-go/dllm/dllm"
	"github.com/dllm-go/dllm/dllm/tokenizer"
)

// runTokenize implements `dllm tokenize -m PATH [--chat] [--json] TEXT`: it
// prints the token ids of TEXT (read from standard input when absent) and
// their pieces. PATH is a Hugging Face directory with tokenizer.json (and
// tokenizer_config.json), or a .gguf model file. With --chat, TEXT is one
// user message rendered with the model's chat template and the generation
// prompt. With --json the output is {"ids":[…],"pieces":[…]}, pieces being
// the vocabulary's token strings (as Hugging Face's tokens).
func runTokenize(args []string, std stdio) error {
	stdout, stdin := std.out, std.in
	fs := newCommandFlags("tokenize", "dllm tokenize -m PATH [--chat] [--json] [TEXT...]   (TEXT from stdin when absent)", stdout)
	model := fs.StringP("model", "m", "", "`PATH` of the model: a folder with tokenizer.json, a .gguf file, or demo (required)")
	chat := fs.Bool("chat", false, "render TEXT as a user message with the chat template (and generation prompt)")
	system := fs.String("system", "", "with --chat: a system message before the user message")
	asJSON := fs.Bool("json", false, `print {"ids":[...],"pieces":[...]}`)
	plain := fs.Bool("plain", false, "treat special-token text in TEXT as ordinary text")
	if err := fs.parse(args); err != nil {
		return err
	}
	if *model == "" {
		return fs.required("-m PATH")
	}
	text := strings.Join(fs.Args(), " ")
	if fs.NArg() == 0 {
		b, err := io.ReadAll(stdin)
		if err != nil {
			return err
		}
		text = string(b)
	}
	tk, closeFn, err := openTokenizer(*model)
	if err != nil {
		return err
	}
	defer closeFn()

	var ids []int32
	switch {
	case *chat:
		var msgs []tokenizer.Message
		if *system != "" {
			msgs = append(msgs, tokenizer.Message{Role: "system", Content: *system})
		}
		msgs = append(msgs, tokenizer.Message{Role: "user", Content: text})
		if ids, err = tk.EncodeChat(msgs, true); err != nil {
			return err
		}
	case *plain:
		ids = tk.EncodePlain(text)
	default:
		ids = tk.Encode(text)
	}
	pieces := tk.Tokens(ids)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		return enc.Encode(struct {
			IDs    []int32  `json:"ids"`
			Pieces []string `json:"pieces"`
		}{nonNil(ids), nonNil(pieces)})
	}
	for i, id := range ids {
		fmt.Fprintf(stdout, "%8d  %-24s %s\n", id, pieces[i], strconv.Quote(string(tk.PieceBytes(id))))
	}
	_, err = fmt.Fprintf(stdout, "%d tokens\n", len(ids))
	return err
}

// openTokenizer loads the tokenizer of a folder with tokenizer.json directly (it needs
// no weights), or otherwise through the model loader: a GGUF file's tokenizer.ggml.*
// metadata, the demo model, a folder holding one model.
func openTokenizer(path string) (*tokenizer.Tokenizer, func(), error) {
	if _, err := os.Stat(filepath.Join(path, "tokenizer.json")); err == nil {
		tk, err := tokenizer.Load(path)
		return tk, func() {}, err
	}
	m, err := loadModel(path, dllm.LoadOptions{})
	if err != nil {
		return nil, nil, err
	}
	return m.Tokenizer(), func() { m.Close() }, nil
}

// nonNil makes an empty list print as [] rather than null in JSON.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
