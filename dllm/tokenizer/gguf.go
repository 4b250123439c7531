package tokenizer

import (
	"fmt"
	"strings"
)

// GGUFVocab is the tokenizer metadata of a GGUF file (the tokenizer.ggml.*
// keys), as plain Go values so that any GGUF reader can supply it.
type GGUFVocab struct {
	Model        string   // tokenizer.ggml.model; must be "gpt2" (byte-level BPE)
	Pre          string   // tokenizer.ggml.pre, e.g. "bailingmoe2", "qwen2", "llama-bpe"
	Tokens       []string // tokenizer.ggml.tokens; index = id
	TokenTypes   []int32  // tokenizer.ggml.token_type (1 normal, 3 control, 4 user-defined, ...); may be nil
	Merges       []string // tokenizer.ggml.merges, "left right" in rank order
	BOS          int32    // tokenizer.ggml.bos_token_id, -1 if absent
	EOS          int32    // tokenizer.ggml.eos_token_id, -1 if absent
	Pad          int32    // tokenizer.ggml.padding_token_id, -1 if absent
	Mask         int32    // tokenizer.ggml.mask_token_id, -1 if absent
	ChatTemplate string   // tokenizer.chat_template, "" if absent
}

// GGUFMetadata is read access to the key/values of a GGUF file, as any GGUF reader
// provides it (dllm's own reader does).
type GGUFMetadata interface {
	String(key string) (string, bool)
	Strings(key string) ([]string, bool)
	Ints(key string) ([]int64, bool)
	Uint(key string) (uint64, bool)
}

// VocabFromGGUF collects the tokenizer.ggml.* keys (and tokenizer.chat_template) of GGUF
// metadata for FromGGUF.
func VocabFromGGUF(md GGUFMetadata) (GGUFVocab, error) {
	v := GGUFVocab{BOS: -1, EOS: -1, Pad: -1, Mask: -1}
	var ok bool
	if v.Model, ok = md.String("tokenizer.ggml.model"); !ok {
		return v, fmt.Errorf("tokenizer: GGUF has no tokenizer (tokenizer.ggml.model missing)")
	}
	v.Pre, _ = md.String("tokenizer.ggml.pre")
	if v.Tokens, ok = md.Strings("tokenizer.ggml.tokens"); !ok {
		return v, fmt.Errorf("tokenizer: GGUF tokenizer.ggml.tokens missing or not a string array")
	}
	v.Merges, _ = md.Strings("tokenizer.ggml.merges")
	if types, ok := md.Ints("tokenizer.ggml.token_type"); ok {
		v.TokenTypes = make([]int32, len(types))
		for i, t := range types {
			v.TokenTypes[i] = int32(t)
		}
	}
	for key, dst := range map[string]*int32{
		"tokenizer.ggml.bos_token_id":     &v.BOS,
		"tokenizer.ggml.eos_token_id":     &v.EOS,
		"tokenizer.ggml.padding_token_id": &v.Pad,
		"tokenizer.ggml.mask_token_id":    &v.Mask,
	} {
		id, ok := md.Uint(key)
		if !ok {
			if present(md, key) {
				return v, fmt.Errorf("tokenizer: GGUF %s is not a token id (an unsigned integer)", key)
			}
			continue
		}
		if id >= uint64(len(v.Tokens)) {
			return v, fmt.Errorf("tokenizer: GGUF %s = %d is outside the vocabulary of %d tokens", key, id, len(v.Tokens))
		}
		*dst = int32(id) // below len(v.Tokens), which FromGGUF bounds by maxVocab
	}
	v.ChatTemplate, _ = md.String("tokenizer.chat_template")
	return v, nil
}

// GGUF token types (llama.cpp's llama_token_type).
const (
	ggufTypeControl     = 3
	ggufTypeUserDefined = 4
)

// ggufPre maps llama.cpp pre-tokenizer names to split patterns.
var ggufPre = map[string]string{
	"bailingmoe":  LingPattern,
	"bailingmoe2": LingPattern,
	"llada-moe":   LingPattern,
	"llada2":      LingPattern,
	"qwen2":       Qwen2Pattern,
	"llama-bpe":   Llama3Pattern,
	"llama3":      Llama3Pattern,
	"gpt-4o":      "", // listed so the error below is specific
	"gpt2":        GPT2Pattern,
	"default":     GPT2Pattern,
}

// FromGGUF builds a tokenizer from GGUF tokenizer metadata. Control tokens
// become special added tokens and user-defined tokens non-special added
// tokens, matched on the raw text; there is no normalizer (llama.cpp
// applies none either).
func FromGGUF(meta GGUFVocab) (*Tokenizer, error) {
	if meta.Model != "gpt2" {
		return nil, fmt.Errorf("tokenizer: GGUF tokenizer model %q is not supported (only \"gpt2\", byte-level BPE)", meta.Model)
	}
	pat, ok := ggufPre[meta.Pre]
	if !ok || pat == "" {
		return nil, fmt.Errorf("tokenizer: GGUF pre-tokenizer %q is not supported (supported: bailingmoe, bailingmoe2, llada-moe, llada2, qwen2, llama-bpe, llama3, gpt2, default)", meta.Pre)
	}
	rule, err := lookupPattern(pat)
	if err != nil {
		return nil, err
	}
	if len(meta.Tokens) == 0 {
		return nil, fmt.Errorf("tokenizer: GGUF metadata has no tokens")
	}
	if len(meta.Tokens) > maxVocab {
		return nil, fmt.Errorf("tokenizer: vocabulary of %d ids is too large", len(meta.Tokens))
	}
	if meta.TokenTypes != nil && len(meta.TokenTypes) != len(meta.Tokens) {
		return nil, fmt.Errorf("tokenizer: GGUF has %d tokens but %d token types", len(meta.Tokens), len(meta.TokenTypes))
	}
	sp := &spec{
		vocab:        make(map[string]int32, len(meta.Tokens)),
		steps:        []preStep{{rule: &rule}},
		bosID:        meta.BOS,
		eosID:        meta.EOS,
		padID:        meta.Pad,
		maskID:       meta.Mask,
		chatTemplate: meta.ChatTemplate,
	}
	for i, tok := range meta.Tokens {
		id := int32(i)
		typ := int32(1)
		if meta.TokenTypes != nil {
			typ = meta.TokenTypes[id]
		}
		if typ == ggufTypeControl || typ == ggufTypeUserDefined {
			sp.added = append(sp.added, AddedToken{ID: id, Content: tok, Special: typ == ggufTypeControl})
			continue
		}
		if _, dup := sp.vocab[tok]; !dup {
			sp.vocab[tok] = id
		}
	}
	sp.merges = make([][2]string, 0, len(meta.Merges))
	for i, m := range meta.Merges {
		// llama.cpp splits at the first space after the first character.
		k := strings.IndexByte(m[min(1, len(m)):], ' ')
		if k < 0 {
			return nil, fmt.Errorf("tokenizer: GGUF merge %d (%q) has no space", i, m)
		}
		k += min(1, len(m))
		sp.merges = append(sp.merges, [2]string{m[:k], m[k+1:]})
	}
	return build(sp)
}

// present reports whether md holds key with a value of any type, as far as md can tell:
// a special token id stored as a string, an array or a negative number must not be
// mistaken for an absent one.
func present(md GGUFMetadata, key string) bool {
	if g, ok := md.(interface{ Has(string) bool }); ok {
		return g.Has(key)
	}
	_, s := md.String(key)
	_, a := md.Ints(key)
	_, ss := md.Strings(key)
	return s || a || ss
}
