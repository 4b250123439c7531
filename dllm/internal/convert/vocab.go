package convert

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/dllm-go/dllm/dllm/internal/regfile"
)

// GGUF token types (llama.cpp's llama_token_type), as its converter assigns them.
const (
	tokenNormal      = 1
	tokenControl     = 3
	tokenUserDefined = 4
	tokenUnused      = 5
)

// vocab is the tokenizer of a Hugging Face directory in the form of the tokenizer.ggml.*
// keys: tokens by id, their types, merges as "a b" strings in rank order, special ids
// (−1 when absent) and the chat template.
type vocab struct {
	tokens               []string
	types                []int32
	merges               []string
	bos, eos, pad, mask  int
	addBOS, addEOS       bool
	chatTemplate         string
	hasAddBOS, hasAddEOS bool
	// addedFirst maps an added token's text to the first id tokenizer.json gives it,
	// and tokConfig is tokenizer_config.json as read (nil when absent): what gguf-py's
	// SpecialVocab reads (specials.go).
	addedFirst map[string]int
	tokConfig  map[string]any
	added      map[int]bool // added token id → special
}

// hfTokenizerJSON is the part of tokenizer.json the conversion needs.
type hfTokenizerJSON struct {
	AddedTokens []struct {
		ID      int    `json:"id"`
		Content string `json:"content"`
		Special bool   `json:"special"`
	} `json:"added_tokens"`
	Model struct {
		Type   string            `json:"type"`
		Vocab  map[string]int    `json:"vocab"`
		Merges []json.RawMessage `json:"merges"`
	} `json:"model"`
}

// hfTokenizerConfig is the part of tokenizer_config.json the conversion needs. Special
// tokens are either plain strings or {"content": ...} objects; the chat template is a
// string or a list of named templates.
type hfTokenizerConfig struct {
	BOS          json.RawMessage `json:"bos_token"`
	EOS          json.RawMessage `json:"eos_token"`
	Pad          json.RawMessage `json:"pad_token"`
	Mask         json.RawMessage `json:"mask_token"`
	AddBOS       *bool           `json:"add_bos_token"`
	AddEOS       *bool           `json:"add_eos_token"`
	ChatTemplate json.RawMessage `json:"chat_template"`
}

// readVocab reads tokenizer.json and tokenizer_config.json from dir and lays the
// vocabulary out like llama.cpp's gpt2-style converter: ids without a token become
// "[PADn]" (unused) up to vocabSize, added tokens are control tokens when special and
// user-defined otherwise, everything else is normal. padFallback (config.json's
// pad_token_id) is used when the tokenizer config names no pad token.
func readVocab(dir string, vocabSize, padFallback int) (*vocab, error) {
	raw, err := regfile.ReadFile(filepath.Join(dir, "tokenizer.json"), regfile.MaxTextBytes)
	if err != nil {
		return nil, fmt.Errorf("convert: the tokenizer is needed for the GGUF vocabulary: %w", err)
	}
	var tj hfTokenizerJSON
	if err := json.Unmarshal(raw, &tj); err != nil {
		return nil, fmt.Errorf("convert: tokenizer.json: %w", err)
	}
	if tj.Model.Type != "BPE" {
		return nil, fmt.Errorf("convert: tokenizer.json model %q is not BPE (GGUF gpt2 needs byte-level BPE)", tj.Model.Type)
	}
	byID := map[int]string{}
	maxID := -1
	for tok, id := range tj.Model.Vocab {
		byID[id] = tok
		maxID = max(maxID, id)
	}
	added := map[int]bool{} // id → special
	addedFirst := map[string]int{}
	for _, a := range tj.AddedTokens {
		if _, ok := addedFirst[a.Content]; !ok {
			addedFirst[a.Content] = a.ID
		}
		byID[a.ID] = a.Content
		added[a.ID] = a.Special
		maxID = max(maxID, a.ID)
	}
	if maxID >= vocabSize {
		return nil, fmt.Errorf("convert: tokenizer has token id %d but the model's vocab_size is %d", maxID, vocabSize)
	}
	v := &vocab{bos: -1, eos: -1, pad: -1, mask: -1, addedFirst: addedFirst, added: added}
	v.tokens = make([]string, vocabSize)
	v.types = make([]int32, vocabSize)
	ids := map[string]int{}
	for id := 0; id < vocabSize; id++ {
		tok, ok := byID[id]
		switch {
		case !ok:
			v.tokens[id], v.types[id] = fmt.Sprintf("[PAD%d]", id), tokenUnused
		case isAdded(added, id) && (added[id] || looksSpecial(tok)):
			v.tokens[id], v.types[id] = tok, tokenControl
		case isAdded(added, id):
			v.tokens[id], v.types[id] = tok, tokenUserDefined
		default:
			v.tokens[id], v.types[id] = tok, tokenNormal
		}
		if ok {
			ids[tok] = id
		}
	}
	for i, m := range tj.Model.Merges {
		var s string
		var pair []string
		switch {
		case json.Unmarshal(m, &s) == nil:
		case json.Unmarshal(m, &pair) == nil && len(pair) == 2:
			// gguf-py writes a space inside a part as U+0120, as byte-level BPE does.
			s = strings.ReplaceAll(pair[0], " ", "\u0120") + " " + strings.ReplaceAll(pair[1], " ", "\u0120")
		default:
			return nil, fmt.Errorf("convert: tokenizer.json merge %d is neither \"a b\" nor [a, b]: %s", i, m)
		}
		v.merges = append(v.merges, s)
	}

	var tc hfTokenizerConfig
	if raw, err := regfile.ReadFile(filepath.Join(dir, "tokenizer_config.json"), regfile.MaxTextBytes); err == nil {
		if err := json.Unmarshal(raw, &tc); err != nil {
			return nil, fmt.Errorf("convert: tokenizer_config.json: %w", err)
		}
		if err := json.Unmarshal(raw, &v.tokConfig); err != nil {
			return nil, fmt.Errorf("convert: tokenizer_config.json: %w", err)
		}
	} else if !os.IsNotExist(err) {
		return nil, err
	}
	lookup := func(r json.RawMessage) int {
		name := tokenText(r)
		if id, ok := ids[name]; ok && name != "" {
			return id
		}
		return -1
	}
	v.bos, v.eos, v.pad, v.mask = lookup(tc.BOS), lookup(tc.EOS), lookup(tc.Pad), lookup(tc.Mask)
	if v.mask < 0 {
		if id, ok := ids["<|mask|>"]; ok {
			v.mask = id
		}
	}
	if v.pad < 0 && padFallback >= 0 && padFallback < vocabSize {
		v.pad = padFallback
	}
	if tc.AddBOS != nil {
		v.addBOS, v.hasAddBOS = *tc.AddBOS, true
	}
	if tc.AddEOS != nil {
		v.addEOS, v.hasAddEOS = *tc.AddEOS, true
	}
	v.chatTemplate, err = chatTemplate(tc.ChatTemplate)
	if err != nil {
		return nil, err
	}
	if v.chatTemplate == "" {
		// Newer checkpoints keep the template in its own file.
		if b, err := regfile.ReadFile(filepath.Join(dir, "chat_template.jinja"), regfile.MaxTextBytes); err == nil {
			v.chatTemplate = string(b)
		}
	}
	return v, nil
}

func isAdded(added map[int]bool, id int) bool { _, ok := added[id]; return ok }

// looksSpecial is llama.cpp's does_token_look_special for the <…> / <|…|> forms.
func looksSpecial(tok string) bool {
	return strings.HasPrefix(tok, "<|") && strings.HasSuffix(tok, "|>") ||
		strings.HasPrefix(tok, "<") && strings.HasSuffix(tok, ">") && !strings.ContainsAny(tok[1:len(tok)-1], "<> ")
}

// tokenText reads a special token given as "text" or {"content": "text"}.
func tokenText(r json.RawMessage) string {
	if len(r) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(r, &s) == nil {
		return s
	}
	var o struct {
		Content string `json:"content"`
	}
	if json.Unmarshal(r, &o) == nil {
		return o.Content
	}
	return ""
}

// chatTemplate reads tokenizer_config's chat_template: a string, or a list of
// {"name", "template"} of which "default" (else the first) is taken.
func chatTemplate(r json.RawMessage) (string, error) {
	if len(r) == 0 || string(r) == "null" {
		return "", nil
	}
	var s string
	if json.Unmarshal(r, &s) == nil {
		return s, nil
	}
	var list []struct {
		Name     string `json:"name"`
		Template string `json:"template"`
	}
	if err := json.Unmarshal(r, &list); err != nil {
		return "", fmt.Errorf("convert: tokenizer_config.json chat_template: %w", err)
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i].Name == "default" && list[j].Name != "default" })
	if len(list) > 0 {
		return list[0].Template, nil
	}
	return "", nil
}
