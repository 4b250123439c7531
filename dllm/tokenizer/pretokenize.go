package tokenizer

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Character classes used by every supported split pattern. \s is the
// Unicode White_Space property (what Oniguruma uses and what
// unicode.IsSpace reports), \p{L} and \p{N} are general categories.
const (
	clsOther  = iota // not whitespace, letter or number
	clsLetter        // \p{L}
	clsNumber        // \p{N}
	clsCRLF          // \r or \n
	clsSpace         // other White_Space
)

var asciiClass [utf8.RuneSelf]uint8

func init() {
	for c := 0; c < utf8.RuneSelf; c++ {
		asciiClass[c] = runeClassSlow(rune(c))
	}
}

func runeClassSlow(r rune) uint8 {
	switch {
	case r == '\r' || r == '\n':
		return clsCRLF
	case unicode.IsSpace(r):
		return clsSpace
	case unicode.IsLetter(r):
		return clsLetter
	case unicode.IsNumber(r):
		return clsNumber
	}
	return clsOther
}

// classAt decodes the rune at s[i] and returns its class and byte width.
// Invalid UTF-8 bytes are one-byte "other" characters.
func classAt(s string, i int) (uint8, int) {
	c := s[i]
	if c < utf8.RuneSelf {
		return asciiClass[c], 1
	}
	r, w := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && w == 1 {
		return clsOther, 1
	}
	return runeClassSlow(r), w
}

func isWhite(c uint8) bool { return c == clsCRLF || c == clsSpace }

// splitRule is a hand-written matcher equivalent to one regular expression
// of the GPT-2 / cl100k family. next returns the end of the match that starts
// at i (always > i when i < len(s)); the patterns cover every character, so
// matches tile the input.
type splitRule struct {
	name      string
	gpt2      bool // GPT-2 style: case-sensitive contractions, " ?" prefixes, no newline rule
	maxDigits int  // digits per piece for cl100k-style rules; 0 = unbounded
}

// Known patterns, verbatim as they appear in tokenizer.json files. The
// cl100k family is listed in every spelling seen in the wild; the spellings
// of one family match identically (possessive quantifiers change nothing for
// these patterns because the quantified classes cannot overlap what
// follows them, and \s*[\r\n] and \s*[\r\n]+ both end at the last CR/LF of
// a whitespace run).
var knownPatterns = map[string]splitRule{}

// LingPattern is the pre-tokenizer regex of the Ling 2.0 / LLaDA2 tokenizer.
const LingPattern = `'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+`

// Qwen2Pattern is the pre-tokenizer regex of Qwen2 / Qwen2.5 / Qwen3.
const Qwen2Pattern = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`

// Llama3Pattern is the pre-tokenizer regex of Llama 3 (and GPT-4's cl100k
// in its Hugging Face spelling).
const Llama3Pattern = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`

// CL100KPattern is GPT-4's cl100k_base regex as tiktoken writes it.
const CL100KPattern = `'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+`

// GPT2Pattern is the GPT-2 regex, also used by a ByteLevel pre-tokenizer
// with use_regex=true.
const GPT2Pattern = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`

func init() {
	knownPatterns[GPT2Pattern] = splitRule{name: "gpt2", gpt2: true}
	contractions := []string{`'(?i:[sdmt]|ll|ve|re)`, `(?i:'s|'t|'re|'ve|'m|'ll|'d)`}
	letters := []string{`[^\r\n\p{L}\p{N}]?+\p{L}+`, `[^\r\n\p{L}\p{N}]?\p{L}+`}
	digits := map[string]int{`\p{N}`: 1, `\p{N}{1,3}`: 3}
	puncts := []string{` ?[^\s\p{L}\p{N}]++[\r\n]*`, ` ?[^\s\p{L}\p{N}]+[\r\n]*`}
	newlines := []string{`\s*[\r\n]`, `\s*[\r\n]+`}
	for _, c := range contractions {
		for _, l := range letters {
			for d, nd := range digits {
				for _, p := range puncts {
					for _, n := range newlines {
						pat := strings.Join([]string{c, l, d, p, n, `\s+(?!\S)`, `\s+`}, "|")
						name := "cl100k"
						if nd == 1 {
							name = "qwen2/ling"
						}
						knownPatterns[pat] = splitRule{name: name, maxDigits: nd}
					}
				}
			}
		}
	}
}

func lookupPattern(p string) (splitRule, error) {
	r, ok := knownPatterns[p]
	if !ok {
		return splitRule{}, fmt.Errorf("tokenizer: unsupported pre-tokenizer regex `%s` (supported: the GPT-2, GPT-4 cl100k, Llama-3, Qwen2 and Ling/LLaDA2 patterns)", p)
	}
	return r, nil
}

// contraction reports the byte length of a contraction suffix (s, d, m, t,
// ll, ve, re) at s[i:], matched case-insensitively with Unicode simple case
// folding when fold is set (so U+017F LONG S counts as s), or 0.
func contraction(s string, i int, fold bool) int {
	if i >= len(s) {
		return 0
	}
	c := s[i]
	if fold {
		if c == 0xC5 && i+1 < len(s) && s[i+1] == 0xBF { // U+017F ſ
			return 2
		}
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
	}
	switch c {
	case 's', 'd', 'm', 't':
		return 1
	case 'l', 'v', 'r':
		if i+1 >= len(s) {
			return 0
		}
		c2 := s[i+1]
		if fold && c2 >= 'A' && c2 <= 'Z' {
			c2 += 'a' - 'A'
		}
		if (c == 'l' && c2 == 'l') || (c != 'l' && c2 == 'e') {
			return 2
		}
	}
	return 0
}

// scanClass advances over characters of class cls and returns the end.
func scanClass(s string, i int, cls uint8) int {
	for i < len(s) {
		c, w := classAt(s, i)
		if c != cls {
			break
		}
		i += w
	}
	return i
}

func scanCRLF(s string, i int) int {
	for i < len(s) && (s[i] == '\r' || s[i] == '\n') {
		i++
	}
	return i
}

// next returns the end of the match starting at i < len(s).
func (p *splitRule) next(s string, i int) int {
	c, w := classAt(s, i)
	if s[i] == '\'' {
		if n := contraction(s, i+1, !p.gpt2); n > 0 {
			return i + 1 + n
		}
	}
	if p.gpt2 {
		return p.nextGPT2(s, i, c, w)
	}
	// [^\r\n\p{L}\p{N}]?\p{L}+
	if c == clsLetter {
		return scanClass(s, i+w, clsLetter)
	}
	if c != clsNumber && c != clsCRLF && i+w < len(s) {
		if c2, w2 := classAt(s, i+w); c2 == clsLetter {
			return scanClass(s, i+w+w2, clsLetter)
		}
	}
	// \p{N} or \p{N}{1,3}
	if c == clsNumber {
		end := i + w
		for k := 1; (p.maxDigits == 0 || k < p.maxDigits) && end < len(s); k++ {
			c2, w2 := classAt(s, end)
			if c2 != clsNumber {
				break
			}
			end += w2
		}
		return end
	}
	// ' ?[^\s\p{L}\p{N}]+[\r\n]*'
	j := i
	if s[i] == ' ' {
		j++
	}
	if j < len(s) {
		if c2, _ := classAt(s, j); c2 == clsOther {
			return scanCRLF(s, scanClass(s, j, clsOther))
		}
	}
	// \s*[\r\n] | \s+(?!\S) | \s+
	if isWhite(c) {
		end, lastNL, last := i, -1, i
		for end < len(s) {
			c2, w2 := classAt(s, end)
			if !isWhite(c2) {
				break
			}
			last = end
			end += w2
			if c2 == clsCRLF {
				lastNL = end
			}
		}
		if lastNL >= 0 {
			return lastNL
		}
		return backOff(s, i, end, last)
	}
	return i + w
}

// backOff implements \s+(?!\S)|\s+ for the whitespace run s[i:end] whose last
// character starts at last: a run that is followed by a non-space character
// gives that last character back to the next piece, unless it is the only one.
func backOff(s string, i, end, last int) int {
	if end == len(s) || last == i {
		return end
	}
	return last
}

func (p *splitRule) nextGPT2(s string, i int, c uint8, w int) int {
	// ' ?\p{L}+', ' ?\p{N}+', ' ?[^\s\p{L}\p{N}]+'
	j, cj := i, c
	if s[i] == ' ' && i+1 < len(s) {
		j = i + 1
		cj, _ = classAt(s, j)
	}
	if cj == clsLetter || cj == clsNumber || cj == clsOther {
		return scanClass(s, j, cj)
	}
	if isWhite(c) {
		end, last := i, i
		for end < len(s) {
			c2, w2 := classAt(s, end)
			if !isWhite(c2) {
				break
			}
			last = end
			end += w2
		}
		return backOff(s, i, end, last)
	}
	return i + w
}
