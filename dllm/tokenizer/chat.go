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

// chatFormat is the native renderer for the LLaDA2 / Ling 2.0 role format.
type chatFormat struct {
	thinking    string // "off" or "on": the "detailed thinking …" line of the system turn
	observation bool   // the template renders tool results as OBSERVATION turns
}

// The literal pieces of the LLaDA2 / Ling 2.0 format.
const (
	roleSystem      = "<role>SYSTEM</role>"
	roleHuman       = "<role>HUMAN</role>"
	roleAssistant   = "<role>ASSISTANT</role>"
	roleObservation = "<role>OBSERVATION</role>"
	roleEnd         = "<|role_end|>"
)

// detectChat recognises the LLaDA2 / Ling 2.0 chat template. A Jinja
// template is taken to be that format when it mentions all of "<role>",
// "HUMAN", "ASSISTANT", "<|role_end|>" and "detailed thinking" (the exact
// Jinja text differs between releases, so it is not compared verbatim).
// The thinking switch is "on" only when the template sets
// thinking_option to 'on'; tool results are supported when the template
// mentions OBSERVATION.
func detectChat(tpl string) (*chatFormat, error) {
	if strings.TrimSpace(tpl) == "" {
		return nil, ErrNoChatTemplate
	}
	for _, marker := range []string{"<role>", "HUMAN", "ASSISTANT", roleEnd, "detailed thinking"} {
		if !strings.Contains(tpl, marker) {
			return nil, fmt.Errorf("tokenizer: unrecognised chat template (only the LLaDA2 / Ling 2.0 <role>…</role> format is built in; it lacks %q); render the prompt yourself and pass it to Encode", marker)
		}
	}
	f := &chatFormat{thinking: "off", observation: strings.Contains(tpl, "OBSERVATION")}
	compact := strings.ReplaceAll(tpl, " ", "")
	if strings.Contains(compact, "thinking_option='on'") || strings.Contains(compact, `thinking_option="on"`) {
		f.thinking = "on"
	}
	return f, nil
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

func isTool(role string) bool { return role == "tool" || role == "observation" }

func (f *chatFormat) render(b *chatText, msgs []Message, gen bool) error {
	b.template(roleSystem)
	if len(msgs) > 0 && msgs[0].Role == "system" {
		b.content(msgs[0].Content)
		b.template("\n")
	}
	b.template("detailed thinking ")
	b.template(f.thinking)
	b.template(roleEnd)
	for i, m := range msgs {
		switch {
		case m.Role == "system":
			if i == 0 {
				continue
			}
			b.template(roleSystem)
		case m.Role == "user":
			b.template(roleHuman)
		case m.Role == "assistant":
			b.template(roleAssistant)
		case isTool(m.Role):
			if !f.observation {
				return fmt.Errorf("tokenizer: message %d: this chat template has no tool (OBSERVATION) turns", i)
			}
			if i == 0 || !isTool(msgs[i-1].Role) {
				b.template(roleObservation)
			}
			b.template("\n<tool_response>\n")
			b.content(m.Content)
			b.template("\n</tool_response>")
			if i+1 == len(msgs) || !isTool(msgs[i+1].Role) {
				b.template(roleEnd)
			}
			continue
		default:
			return fmt.Errorf("tokenizer: message %d: unknown role %q (use system, user, assistant or tool)", i, m.Role)
		}
		b.content(m.Content)
		b.template(roleEnd)
	}
	if gen {
		b.template(roleAssistant)
	}
	return nil
}
