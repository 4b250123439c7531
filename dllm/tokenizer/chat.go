package tokenizer

import (
	"errors"
	"fmt"
	"strings"
)

// Message is one chat turn. Role is "system", "user", "assistant", or
// "tool" (alias "observation") for a tool result.
type Message struct {
	Role    string `json:"role"`    // system, user, assistant, tool (or observation)
	Content string `json:"content"` // the text of the turn
}

// ErrNoChatTemplate is returned by ApplyChat when the tokenizer files carry
// no chat template.
var ErrNoChatTemplate = errors.New("tokenizer: no chat template in the tokenizer files; render the prompt yourself and pass it to Encode")

// chatRenderer renders a conversation in one family's chat format.
type chatRenderer interface {
	render(b *chatText, msgs []Message, gen bool) error
}

// chatFormats are the chat formats built in, each recognised by the markers its Jinja
// template must mention (the exact text differs between releases, so templates are not
// compared verbatim); the first that matches wins, so the more specific come first.
// tokens are the markers that must be tokens of the vocabulary for the format to work.
var chatFormats = []struct {
	name    string
	markers []string
	tokens  []string
	make    func(tpl, bos string) chatRenderer
}{
	{"LLaDA2 / Ling 2.0", []string{"<role>", "HUMAN", "ASSISTANT", roleEnd, "detailed thinking"}, nil,
		func(tpl, _ string) chatRenderer { return newLingFormat(tpl) }},
	{"LLaDA-MoE role tags", []string{"<role>", "HUMAN", "ASSISTANT", roleEnd}, []string{roleEnd},
		func(string, string) chatRenderer { return roleTagFormat{} }},
	{"Llama-3 headers (LLaDA)", []string{headerStart, headerEnd, endOfTurn}, []string{headerStart, headerEnd, endOfTurn},
		newHeaderFormat},
	{"ChatML (Dream, Qwen)", []string{imStart, imEnd}, []string{imStart, imEnd},
		func(tpl, _ string) chatRenderer { return newChatMLFormat(tpl) }},
}

// detectChat picks the built-in renderer of a chat template; bos is the text of the
// beginning-of-text token, for templates that write it, and has reports whether a text
// is a token of the vocabulary.
func detectChat(tpl, bos string, has func(string) bool) (chatRenderer, error) {
	if strings.TrimSpace(tpl) == "" {
		return nil, ErrNoChatTemplate
	}
	var names []string
	for _, f := range chatFormats {
		if !containsAll(tpl, f.markers) {
			names = append(names, f.name)
			continue
		}
		for _, tok := range f.tokens {
			if !has(tok) {
				return nil, fmt.Errorf("tokenizer: the chat template is in the %s format, but %q is not a token of the vocabulary; render the prompt yourself and pass it to Encode", f.name, tok)
			}
		}
		return f.make(tpl, bos), nil
	}
	return nil, fmt.Errorf("tokenizer: unrecognised chat template (the built-in formats are %s); render the prompt yourself and pass it to Encode",
		strings.Join(names, ", "))
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// knownRole checks a message's role against those every format renders.
func knownRole(i int, role string) error {
	switch role {
	case "system", "user", "assistant", "tool", "observation":
		return nil
	}
	return fmt.Errorf("tokenizer: message %d: unknown role %q (use system, user, assistant or tool)", i, role)
}

// ChatTemplate returns the raw chat template text from the tokenizer files
// ("" if none).
func (t *Tokenizer) ChatTemplate() string { return t.chatTemplate }

// ApplyChat renders a conversation as prompt text in the model's chat
// format. With addGenerationPrompt the text ends with the assistant role
// tag, ready for the model's reply. The LLaDA2 format is:
//
//	<role>SYSTEM</role>{first system message + "\n"}detailed thinking off<|role_end|>
//	<role>HUMAN</role>{user}<|role_end|>
//	<role>ASSISTANT</role>{assistant}<|role_end|>
//	<role>SYSTEM</role>{later system message}<|role_end|>
//	<role>OBSERVATION</role>\n<tool_response>\n{tool}\n</tool_response><|role_end|>
//	<role>ASSISTANT</role>   (generation prompt)
//
// with no separators between turns (line breaks above are for reading
// only); consecutive tool results share one OBSERVATION turn. An unknown
// role is an error, as is a template that is not recognised.
func (t *Tokenizer) ApplyChat(msgs []Message, addGenerationPrompt bool) (string, error) {
	if t.chat == nil {
		return "", t.chatErr
	}
	var c chatText
	if err := t.chat.render(&c, msgs, addGenerationPrompt); err != nil {
		return "", err
	}
	return c.String(), nil
}

// EncodeChat renders msgs as ApplyChat does and encodes the result. Special
// tokens are recognised in the template's own text only (the role tags and
// <|role_end|> become single ids); message contents are encoded as plain
// text, like EncodePlain, so that a message holding "<|role_end|><role>SYSTEM</role>"
// or "<|mask|>" cannot forge a turn or inject a control token. Text on both
// sides of a content boundary is encoded together, so a conversation without
// special-token text in its contents encodes exactly as Encode(ApplyChat(…)).
// To pass special tokens on purpose, render the prompt and use Encode.
func (t *Tokenizer) EncodeChat(msgs []Message, addGenerationPrompt bool) ([]int32, error) {
	if t.chat == nil {
		return nil, t.chatErr
	}
	var c chatText
	if err := t.chat.render(&c, msgs, addGenerationPrompt); err != nil {
		return nil, err
	}
	var out []int32
	var text strings.Builder
	flush := func() {
		if text.Len() > 0 {
			out = append(out, t.encode(text.String(), true)...)
			text.Reset()
		}
	}
	for _, p := range c.parts {
		if p.content {
			text.WriteString(p.text)
			continue
		}
		t.specialAdded.split(p.text, false,
			func(s string) { text.WriteString(s) },
			func(id int32) { flush(); out = append(out, id) })
	}
	flush()
	return out, nil
}

// chatText is a rendered conversation in pieces: the template's text, where
// special tokens are meant, and message contents, where they never are.
type chatText struct {
	parts []chatPart
}

type chatPart struct {
	text    string
	content bool
}

func (c *chatText) template(s string) { c.parts = append(c.parts, chatPart{text: s}) }
func (c *chatText) content(s string)  { c.parts = append(c.parts, chatPart{text: s, content: true}) }

func (c *chatText) String() string {
	var b strings.Builder
	for _, p := range c.parts {
		b.WriteString(p.text)
	}
	return b.String()
}
