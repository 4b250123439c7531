package tokenizer

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// AddedToken is a token matched in the text before pre-tokenization (the
// tokenizer.json "added_tokens"): special tokens such as <|endoftext|> and
// user-defined ones.
type AddedToken struct {
	ID         int32  // the token's id
	Content    string // the text it matches, verbatim
	Special    bool   // removed by DecodeSkipSpecial; not matched by EncodePlain
	LStrip     bool   // the match absorbs whitespace on its left
	RStrip     bool   // the match absorbs whitespace on its right
	SingleWord bool   // only matched when not inside a word
	Normalized bool   // matched after normalization rather than on the raw text
}

// addedMatcher finds added tokens leftmost-longest.
type addedMatcher struct {
	toks    []AddedToken
	byFirst [256][]int32 // candidate indexes per first byte, longest first
	any     bool
	first   string // the distinct first bytes of all tokens
}

func newAddedMatcher(toks []AddedToken, keep func(AddedToken) bool) *addedMatcher {
	m := &addedMatcher{}
	for _, t := range toks {
		if t.Content == "" || !keep(t) {
			continue
		}
		m.toks = append(m.toks, t)
	}
	sort.SliceStable(m.toks, func(i, j int) bool { return len(m.toks[i].Content) > len(m.toks[j].Content) })
	for i, t := range m.toks {
		b := t.Content[0]
		if len(m.byFirst[b]) == 0 {
			m.first += string([]byte{b})
		}
		m.byFirst[b] = append(m.byFirst[b], int32(i))
		m.any = true
	}
	return m
}

func isWordRune(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r) }

// split cuts s into text pieces and added tokens, calling text for every
// non-empty run of plain text and tok for every match, in order. Matching
// follows the reference implementation: the leftmost-longest match wins; a
// single_word token that is inside a word, or (with plain) a special token,
// is not tried again shorter but left as text, and matching resumes after it.
func (m *addedMatcher) split(s string, plain bool, text func(string), tok func(int32)) {
	if !m.any {
		if s != "" {
			text(s)
		}
		return
	}
	done := 0 // s[:done] has been emitted
	for i := 0; i < len(s); {
		if len(m.first) == 1 { // common case: every token starts with '<'
			k := strings.IndexByte(s[i:], m.first[0])
			if k < 0 {
				break
			}
			i += k
		}
		t := m.longestAt(s, i)
		if t == nil {
			i++
			continue
		}
		end := i + len(t.Content)
		if plain && t.Special || t.SingleWord && inWord(s, i, end) {
			i = end
			continue
		}
		start := i
		if t.LStrip {
			for start > done {
				r, w := utf8.DecodeLastRuneInString(s[done:start])
				if !unicode.IsSpace(r) {
					break
				}
				start -= w
			}
		}
		if t.RStrip {
			for end < len(s) {
				r, w := utf8.DecodeRuneInString(s[end:])
				if !unicode.IsSpace(r) {
					break
				}
				end += w
			}
		}
		if start > done {
			text(s[done:start])
		}
		tok(t.ID)
		done, i = end, end
	}
	if done < len(s) {
		text(s[done:])
	}
}

// longestAt returns the longest added token that starts at s[i:], or nil.
func (m *addedMatcher) longestAt(s string, i int) *AddedToken {
	for _, ci := range m.byFirst[s[i]] {
		if t := &m.toks[ci]; strings.HasPrefix(s[i:], t.Content) {
			return t
		}
	}
	return nil
}

// inWord reports whether s[i:end] touches a word character on either side.
func inWord(s string, i, end int) bool {
	if r, _ := utf8.DecodeLastRuneInString(s[:i]); i > 0 && isWordRune(r) {
		return true
	}
	r, _ := utf8.DecodeRuneInString(s[end:])
	return end < len(s) && isWordRune(r)
}
