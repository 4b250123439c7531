package tokenizer

import "unicode/utf8"

// The GPT-2 byte-level alphabet: every byte value is written as one printable
// rune so that vocabulary entries and merges are plain text. Bytes that are
// already printable (0x21–0x7E, 0xA1–0xAC, 0xAE–0xFF) keep their own code
// point; the remaining 68 bytes are numbered upwards from U+0100 in byte order.
var (
	byteToRune [256]rune
	runeToByte map[rune]byte
)

func init() {
	runeToByte = make(map[rune]byte, 256)
	next := rune(0x100)
	for b := 0; b < 256; b++ {
		if (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			byteToRune[b] = rune(b)
		} else {
			byteToRune[b] = next
			next++
		}
		runeToByte[byteToRune[b]] = byte(b)
	}
}

// byteLevelEncode writes raw bytes in the byte-level alphabet.
func byteLevelEncode(raw string) string {
	out := make([]byte, 0, len(raw)*2)
	for i := 0; i < len(raw); i++ {
		out = utf8.AppendRune(out, byteToRune[raw[i]])
	}
	return string(out)
}

// byteLevelDecode maps a byte-level string back to raw bytes. ok is false if
// any rune lies outside the alphabet (such a token is used verbatim, as the
// Hugging Face ByteLevel decoder does).
func byteLevelDecode(s string) (raw []byte, ok bool) {
	raw = make([]byte, 0, len(s))
	for _, r := range s {
		b, in := runeToByte[r]
		if !in {
			return nil, false
		}
		raw = append(raw, b)
	}
	return raw, true
}

// appendLossy appends b to dst as valid UTF-8, replacing every maximal
// ill-formed subsequence with one U+FFFD (the rule Rust's
// String::from_utf8_lossy and the WHATWG decoder follow).
func appendLossy(dst, b []byte) []byte {
	for len(b) > 0 {
		if b[0] < utf8.RuneSelf {
			dst = append(dst, b[0])
			b = b[1:]
			continue
		}
		r, size := utf8.DecodeRune(b)
		if r != utf8.RuneError || size > 1 {
			dst = append(dst, b[:size]...)
			b = b[size:]
			continue
		}
		n := invalidPrefixLen(b)
		dst = append(dst, "\uFFFD"...)
		b = b[n:]
	}
	return dst
}

// invalidPrefixLen returns the length (at least 1) of the maximal prefix of b
// that could begin a well-formed UTF-8 sequence but does not complete one.
func invalidPrefixLen(b []byte) int {
	need, lo, hi := seqInfo(b[0])
	if need == 0 {
		return 1
	}
	n := 1
	for n < len(b) && n <= need {
		c := b[n]
		l, h := byte(0x80), byte(0xBF)
		if n == 1 {
			l, h = lo, hi
		}
		if c < l || c > h {
			break
		}
		n++
	}
	return n
}

// seqInfo describes a UTF-8 lead byte: how many continuation bytes follow it
// and the valid range of the first continuation byte. need is 0 for bytes
// that cannot start a multi-byte sequence.
func seqInfo(c byte) (need int, lo, hi byte) {
	switch {
	case c >= 0xC2 && c <= 0xDF:
		return 1, 0x80, 0xBF
	case c == 0xE0:
		return 2, 0xA0, 0xBF
	case c == 0xED:
		return 2, 0x80, 0x9F
	case c >= 0xE1 && c <= 0xEF:
		return 2, 0x80, 0xBF
	case c == 0xF0:
		return 3, 0x90, 0xBF
	case c >= 0xF1 && c <= 0xF3:
		return 3, 0x80, 0xBF
	case c == 0xF4:
		return 3, 0x80, 0x8F
	}
	return 0, 0, 0
}

// incompleteTail returns how many trailing bytes of b form a proper prefix of
// a well-formed UTF-8 sequence, i.e. bytes that may still become a character
// once more bytes arrive. It is 0 when b ends on a complete character or on
// bytes that can never become one.
func incompleteTail(b []byte) int {
	for k := 1; k <= 3 && k <= len(b); k++ {
		start := len(b) - k
		c := b[start]
		if c < 0x80 {
			return 0
		}
		if c >= 0xC0 { // a lead byte (or an invalid one)
			need, lo, hi := seqInfo(c)
			if need < k { // complete or impossible
				return 0
			}
			for j := 1; j < k; j++ {
				cc := b[start+j]
				l, h := byte(0x80), byte(0xBF)
				if j == 1 {
					l, h = lo, hi
				}
				if cc < l || cc > h {
					return 0
				}
			}
			return k
		}
	}
	return 0
}
