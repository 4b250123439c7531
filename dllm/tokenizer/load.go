package tokenizer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/dllm-go/dllm/dllm/internal/regfile"
)

// Load reads tokenizer.json and, if present, tokenizer_config.json (chat
// template and special token names) from a Hugging Face model directory. A
// chat_template.jinja file, as newer releases ship, supplies the template
// when tokenizer_config.json has none.
// Only regular files are read (a FIFO would block forever); errors name the directory.
func Load(dir string) (*Tokenizer, error) {
	read := func(name string, optional bool) ([]byte, error) {
		b, err := regfile.ReadFile(filepath.Join(dir, name), regfile.MaxTextBytes)
		if optional && errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return b, err
	}
	tj, err := read("tokenizer.json", false)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	cfg, err := read("tokenizer_config.json", true)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	tpl, err := read("chat_template.jinja", true)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	t, err := fromJSON(tj, cfg, string(tpl))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return t, nil
}

// FromJSON builds a tokenizer from the contents of tokenizer.json and
// tokenizer_config.json (config may be nil).
func FromJSON(tokenizerJSON, config []byte) (*Tokenizer, error) {
	return fromJSON(tokenizerJSON, config, "")
}

func fromJSON(tokenizerJSON, config []byte, template string) (*Tokenizer, error) {
	var f hfFile
	if err := json.Unmarshal(tokenizerJSON, &f); err != nil {
		return nil, fmt.Errorf("tokenizer: tokenizer.json: %w", err)
	}
	sp := &spec{strictMerges: true, bosID: -1, eosID: -1, padID: -1, maskID: -1}
	if err := f.Model.fill(sp); err != nil {
		return nil, err
	}
	for _, a := range f.AddedTokens {
		normalized := !a.Special
		if a.Normalized != nil {
			normalized = *a.Normalized
		}
		sp.added = append(sp.added, AddedToken{
			ID: a.ID, Content: a.Content, Special: a.Special,
			LStrip: a.LStrip, RStrip: a.RStrip, SingleWord: a.SingleWord, Normalized: normalized,
		})
	}
	var err error
	if sp.normalize, err = parseNormalizer(f.Normalizer); err != nil {
		return nil, err
	}
	if sp.steps, err = parsePreTokenizer(f.PreTokenizer); err != nil {
		return nil, err
	}
	if err := checkDecoder(f.Decoder); err != nil {
		return nil, err
	}
	if len(config) > 0 {
		var c hfConfig
		if err := json.Unmarshal(config, &c); err != nil {
			return nil, fmt.Errorf("tokenizer: tokenizer_config.json: %w", err)
		}
		sp.bosName, sp.eosName = c.BOS.s, c.EOS.s
		sp.padName, sp.maskName = c.Pad.s, c.Mask.s
		sp.chatTemplate = c.ChatTemplate.s
	}
	if sp.chatTemplate == "" {
		sp.chatTemplate = template
	}
	return build(sp)
}

type hfFile struct {
	AddedTokens []struct {
		ID         int32  `json:"id"` // a larger number is a decoding error
		Content    string `json:"content"`
		SingleWord bool   `json:"single_word"`
		LStrip     bool   `json:"lstrip"`
		RStrip     bool   `json:"rstrip"`
		Normalized *bool  `json:"normalized"`
		Special    bool   `json:"special"`
	} `json:"added_tokens"`
	Normalizer   json.RawMessage `json:"normalizer"`
	PreTokenizer json.RawMessage `json:"pre_tokenizer"`
	Model        hfModel         `json:"model"`
	Decoder      json.RawMessage `json:"decoder"`
}

type hfModel struct {
	Type                    string           `json:"type"`
	Dropout                 *float64         `json:"dropout"`
	UnkToken                *string          `json:"unk_token"`
	ContinuingSubwordPrefix *string          `json:"continuing_subword_prefix"`
	EndOfWordSuffix         *string          `json:"end_of_word_suffix"`
	ByteFallback            bool             `json:"byte_fallback"`
	IgnoreMerges            bool             `json:"ignore_merges"`
	Vocab                   map[string]int32 `json:"vocab"`
	Merges                  []hfMerge        `json:"merges"`
}

func (m *hfModel) fill(sp *spec) error {
	if m.Type != "" && m.Type != "BPE" {
		return fmt.Errorf("tokenizer: unsupported model type %q (only byte-level BPE is supported)", m.Type)
	}
	if m.Vocab == nil {
		return errors.New("tokenizer: tokenizer.json has no model.vocab")
	}
	if m.Dropout != nil && *m.Dropout > 0 {
		return errors.New("tokenizer: BPE dropout is not supported")
	}
	if m.ByteFallback {
		return errors.New("tokenizer: byte_fallback BPE (SentencePiece style) is not supported; only byte-level BPE is")
	}
	if (m.ContinuingSubwordPrefix != nil && *m.ContinuingSubwordPrefix != "") ||
		(m.EndOfWordSuffix != nil && *m.EndOfWordSuffix != "") {
		return errors.New("tokenizer: continuing_subword_prefix / end_of_word_suffix are not supported by byte-level BPE")
	}
	sp.vocab = m.Vocab
	sp.ignoreMerges = m.IgnoreMerges
	sp.merges = make([][2]string, 0, len(m.Merges))
	for _, mg := range m.Merges {
		if mg.skip {
			continue
		}
		sp.merges = append(sp.merges, mg.pair)
	}
	return nil
}

// hfMerge accepts both merge encodings: "left right" and ["left", "right"].
type hfMerge struct {
	pair [2]string
	skip bool // a "#version" comment line
}

// UnmarshalJSON decodes either merge form.
func (m *hfMerge) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if len(s) >= 8 && s[:8] == "#version" {
			m.skip = true
			return nil
		}
		l, r, ok := cutSpace(s)
		if !ok {
			return fmt.Errorf("merge %q is not two tokens separated by one space", s)
		}
		m.pair = [2]string{l, r}
		return nil
	}
	var p []string
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	if len(p) != 2 {
		return fmt.Errorf("merge %s does not have two parts", b)
	}
	m.pair = [2]string{p[0], p[1]}
	return nil
}

// cutSpace splits a "left right" merge on its single space.
func cutSpace(s string) (string, string, bool) {
	i := bytes.IndexByte([]byte(s), ' ')
	if i <= 0 || i == len(s)-1 {
		return "", "", false
	}
	l, r := s[:i], s[i+1:]
	if bytes.IndexByte([]byte(r), ' ') >= 0 {
		return "", "", false
	}
	return l, r, true
}

func parseNormalizer(raw json.RawMessage) (func(string) string, error) {
	if isNull(raw) {
		return nil, nil
	}
	var n struct {
		Type        string            `json:"type"`
		Normalizers []json.RawMessage `json:"normalizers"`
	}
	if err := json.Unmarshal(raw, &n); err != nil {
		return nil, fmt.Errorf("tokenizer: normalizer: %w", err)
	}
	if n.Type != "Sequence" {
		return normalizerFor(n.Type)
	}
	var fs []func(string) string
	for _, sub := range n.Normalizers {
		f, err := parseNormalizer(sub)
		if err != nil {
			return nil, err
		}
		if f != nil {
			fs = append(fs, f)
		}
	}
	switch len(fs) {
	case 0:
		return nil, nil
	case 1:
		return fs[0], nil
	}
	return func(s string) string {
		for _, f := range fs {
			s = f(s)
		}
		return s
	}, nil
}

func parsePreTokenizer(raw json.RawMessage) ([]preStep, error) {
	steps, byteLevel, err := preSteps(raw)
	if err != nil {
		return nil, err
	}
	if !byteLevel {
		return nil, errors.New("tokenizer: the pre-tokenizer has no ByteLevel step; only byte-level BPE is supported")
	}
	return steps, nil
}

// preSteps flattens a pre-tokenizer into steps. byteLevel reports whether a
// ByteLevel step was seen; it must come last, because the BPE works on raw
// bytes and the byte-to-character mapping is implicit.
func preSteps(raw json.RawMessage) (steps []preStep, byteLevel bool, err error) {
	if isNull(raw) {
		return nil, false, nil
	}
	var p struct {
		Type          string            `json:"type"`
		PreTokenizers []json.RawMessage `json:"pretokenizers"`
		Pattern       struct {
			Regex  *string `json:"Regex"`
			String *string `json:"String"`
		} `json:"pattern"`
		Behavior       string `json:"behavior"`
		Invert         bool   `json:"invert"`
		AddPrefixSpace bool   `json:"add_prefix_space"`
		UseRegex       *bool  `json:"use_regex"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, false, fmt.Errorf("tokenizer: pre_tokenizer: %w", err)
	}
	switch p.Type {
	case "Sequence":
		for _, sub := range p.PreTokenizers {
			if byteLevel {
				return nil, false, errors.New("tokenizer: pre-tokenizer steps after ByteLevel are not supported")
			}
			s, bl, err := preSteps(sub)
			if err != nil {
				return nil, false, err
			}
			steps = append(steps, s...)
			byteLevel = byteLevel || bl
		}
		return steps, byteLevel, nil
	case "Split":
		if p.Pattern.Regex == nil {
			return nil, false, errors.New("tokenizer: Split pre-tokenizer: only Regex patterns are supported")
		}
		rule, err := lookupPattern(*p.Pattern.Regex)
		if err != nil {
			return nil, false, err
		}
		st := preStep{rule: &rule, invert: p.Invert}
		switch p.Behavior {
		case "Isolated":
		case "Removed":
			st.removeDelim = true
		default:
			return nil, false, fmt.Errorf("tokenizer: Split behavior %q is not supported (supported: Isolated, Removed)", p.Behavior)
		}
		return []preStep{st}, false, nil
	case "ByteLevel":
		st := preStep{prefixSpace: p.AddPrefixSpace}
		if p.UseRegex == nil || *p.UseRegex {
			rule := knownPatterns[GPT2Pattern]
			st.rule = &rule
		}
		if st.rule == nil && !st.prefixSpace {
			return nil, true, nil
		}
		return []preStep{st}, true, nil
	}
	return nil, false, fmt.Errorf("tokenizer: unsupported pre-tokenizer %q (supported: Sequence, Split, ByteLevel)", p.Type)
}

func checkDecoder(raw json.RawMessage) error {
	if isNull(raw) {
		return nil
	}
	var d struct {
		Type     string            `json:"type"`
		Decoders []json.RawMessage `json:"decoders"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		return fmt.Errorf("tokenizer: decoder: %w", err)
	}
	switch d.Type {
	case "ByteLevel":
		return nil
	case "Sequence":
		for _, sub := range d.Decoders {
			if err := checkDecoder(sub); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("tokenizer: unsupported decoder %q (only ByteLevel)", d.Type)
}

func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || bytes.Equal(raw, []byte("null"))
}

// hfConfig is the part of tokenizer_config.json the tokenizer uses.
type hfConfig struct {
	BOS          tokenName    `json:"bos_token"`
	EOS          tokenName    `json:"eos_token"`
	Pad          tokenName    `json:"pad_token"`
	Mask         tokenName    `json:"mask_token"`
	ChatTemplate chatTemplate `json:"chat_template"`
}

// tokenName accepts a token given as a string or as {"content": "..."}.
type tokenName struct{ s string }

// UnmarshalJSON decodes a token given as a string or an object.
func (n *tokenName) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		n.s = s
		return nil
	}
	var o struct {
		Content string `json:"content"`
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return nil // an unexpected shape leaves the name unset
	}
	n.s = o.Content
	return nil
}

// chatTemplate accepts a template string or a list of {name, template}
// (the "default" one is used).
type chatTemplate struct{ s string }

// UnmarshalJSON decodes a template string or a list of named templates.
func (c *chatTemplate) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		c.s = s
		return nil
	}
	var list []struct {
		Name     string `json:"name"`
		Template string `json:"template"`
	}
	if err := json.Unmarshal(b, &list); err != nil {
		return nil
	}
	for _, t := range list {
		if t.Name == "default" || c.s == "" {
			c.s = t.Template
		}
	}
	return nil
}
