package tokenizer

import (
	"regexp"
	"strings"
	"unicode"
)

// roleTagFormat is LLaDA-MoE's format: the LLaDA2 role tags without the system line
// that LLaDA2 always writes.
//
//	<role>SYSTEM</role>{system}<|role_end|><role>HUMAN</role>{user}<|role_end|>
//	<role>ASSISTANT</role>{assistant}<|role_end|>   …   <role>ASSISTANT</role>
type roleTagFormat struct{}

func (roleTagFormat) render(b *chatText, msgs []Message, gen bool) error {
	for i, m := range msgs {
		if err := knownRole(i, m.Role); err != nil {
			return err
		}
		// The template upper-cases the three roles it knows and writes others as given.
		role := map[string]string{"system": "SYSTEM", "user": "HUMAN", "assistant": "ASSISTANT"}[m.Role]
		if role == "" {
			role = m.Role
		}
		b.template("<role>" + role + "</role>")
		b.content(m.Content)
		b.template(roleEnd)
	}
	if gen {
		b.template(roleAssistant)
	}
	return nil
}

// The literal pieces of the Llama-3 header format.
const (
	headerStart = "<|start_header_id|>"
	headerEnd   = "<|end_header_id|>"
	endOfTurn   = "<|eot_id|>"
)

// headerFormat is LLaDA-8B's Llama-3 style format:
//
//	{bos}<|start_header_id|>{role}<|end_header_id|>\n\n{content, trimmed}<|eot_id|> …
//	<|start_header_id|>assistant<|end_header_id|>\n\n   (generation prompt)
type headerFormat struct {
	bos  string // written before the first message when the template uses bos_token
	trim bool   // contents are trimmed (Jinja's | trim)
}

func newHeaderFormat(tpl, bos string) chatRenderer {
	f := headerFormat{trim: strings.Contains(tpl, "trim")}
	if strings.Contains(tpl, "bos_token") {
		f.bos = bos
	}
	return f
}

func (f headerFormat) render(b *chatText, msgs []Message, gen bool) error {
	for i, m := range msgs {
		if err := knownRole(i, m.Role); err != nil {
			return err
		}
		if i == 0 && f.bos != "" {
			b.template(f.bos)
		}
		b.template(headerStart + m.Role + headerEnd + "\n\n")
		content := m.Content
		if f.trim {
			content = strings.TrimFunc(content, isPythonSpace)
		}
		b.content(content)
		b.template(endOfTurn)
	}
	if gen {
		b.template(headerStart + "assistant" + headerEnd + "\n\n")
	}
	return nil
}

// isPythonSpace is str.isspace, which Jinja's trim uses: Go's unicode.IsSpace plus the
// four information separators U+001C–U+001F.
func isPythonSpace(r rune) bool { return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f) }

// The literal pieces of ChatML.
const (
	imStart = "<|im_start|>"
	imEnd   = "<|im_end|>"
)

// chatMLFormat is ChatML as Qwen2.5 and Dream write it:
//
//	<|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\n{user}<|im_end|>\n …
//	<|im_start|>assistant\n   (generation prompt)
//
// with a default system turn when the conversation does not start with one and the
// template has one.
type chatMLFormat struct {
	defaultSystem string // "" when the template adds no system turn
	hasDefault    bool
}

// defaultSystemTurn finds the system turn a template writes when the first message is
// not a system one.
// The line breaks in it may be escapes or literal.
var defaultSystemTurn = regexp.MustCompile(`'<\|im_start\|>system(?:\\n|\n)((?:[^'\\]|\\.)*)<\|im_end\|>(?:\\n|\n)'`)

func newChatMLFormat(tpl string) chatRenderer {
	var f chatMLFormat
	if m := defaultSystemTurn.FindStringSubmatch(tpl); m != nil && strings.Contains(tpl, "!= 'system'") {
		f.defaultSystem, f.hasDefault = unescapeJinja(m[1]), true
	}
	return f
}

// unescapeJinja undoes the backslash escapes of a single-quoted Jinja string.
func unescapeJinja(s string) string {
	return strings.NewReplacer(`\n`, "\n", `\t`, "\t", `\'`, "'", `\\`, `\`).Replace(s)
}

func (f chatMLFormat) render(b *chatText, msgs []Message, gen bool) error {
	if f.hasDefault && len(msgs) > 0 && msgs[0].Role != "system" {
		b.template(imStart + "system\n" + f.defaultSystem + imEnd + "\n")
	}
	for i, m := range msgs {
		if err := knownRole(i, m.Role); err != nil {
			return err
		}
		b.template(imStart + m.Role + "\n")
		b.content(m.Content)
		b.template(imEnd + "\n")
	}
	if gen {
		b.template(imStart + "assistant\n")
	}
	return nil
}
