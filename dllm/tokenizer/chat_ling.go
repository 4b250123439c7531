package tokenizer

import (
	"fmt"
	"strings"
)

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

// newLingFormat reads the two switches of a LLaDA2 / Ling 2.0 template: the thinking
// line is "on" only when the template sets thinking_option to 'on'; tool results are
// supported when it mentions OBSERVATION.
func newLingFormat(tpl string) *chatFormat {
	f := &chatFormat{thinking: "off", observation: strings.Contains(tpl, "OBSERVATION")}
	compact := strings.ReplaceAll(tpl, " ", "")
	if strings.Contains(compact, "thinking_option='on'") || strings.Contains(compact, `thinking_option="on"`) {
		f.thinking = "on"
	}
	return f
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
