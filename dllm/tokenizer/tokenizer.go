package tokenizer

import (
	"fmt"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Tokenizer is a byte-level BPE tokenizer with its added tokens, special
// token ids and chat template. It is immutable after construction and safe
// for concurrent use by many goroutines.
type Tokenizer struct {
	model bpe

	normalize func(string) string // nil: no normalizer
	steps     []preStep           // pre-tokenizer pipeline (byte-level mapping implicit)

	added     []AddedToken
	rawAdded  *addedMatcher // added tokens matched on the raw text (normalized=false)
	normAdded *addedMatcher // added tokens matched after normalization
	// specialAdded matches special tokens in chat template text (EncodeChat).
	specialAdded *addedMatcher
	pieces       []string // id -> token string as written in the vocabulary ("" if unused)
	pieceBytes   []byte   // concatenated decoded bytes of every id
	pieceOff     []uint32 // id -> offset into pieceBytes; len = vocab size + 1
	special      []bool   // id -> special added token
	idOf         map[string]int32

	specials     SpecialTokens
	chatTemplate string
	chat         chatRenderer // nil if the template is not recognised
	chatErr      error        // why chat is nil
}

// preStep is one pre-tokenizer step applied to every piece produced so far.
type preStep struct {
	rule        *splitRule // nil for a prefix-space-only step
	removeDelim bool       // Split behavior "Removed" (matches or gaps dropped)
	invert      bool
	prefixSpace bool // ByteLevel add_prefix_space
}

// VocabSize returns the number of ids (one more than the largest id).
func (t *Tokenizer) VocabSize() int { return len(t.pieces) }

// Token returns the token string of id as written in the vocabulary (in the
// byte-level alphabet for model tokens, e.g. "Ġthe"), or false if id is out
// of range or unused.
func (t *Tokenizer) Token(id int32) (string, bool) {
	if id < 0 || int(id) >= len(t.pieces) || t.pieces[id] == "" {
		return "", false
	}
	return t.pieces[id], true
}

// ID returns the id of a token string as written in the vocabulary (added
// tokens by their content, model tokens in the byte-level alphabet).
func (t *Tokenizer) ID(token string) (int32, bool) {
	id, ok := t.idOf[token]
	return id, ok
}

// PieceBytes returns the raw bytes that id stands for in decoded text (the
// byte-level alphabet undone). The returned slice must not be modified.
func (t *Tokenizer) PieceBytes(id int32) []byte {
	if id < 0 || int(id) >= len(t.pieces) {
		return nil
	}
	return t.pieceBytes[t.pieceOff[id]:t.pieceOff[id+1]:t.pieceOff[id+1]]
}

// IsSpecial reports whether id is a special added token (dropped by
// DecodeSkipSpecial).
func (t *Tokenizer) IsSpecial(id int32) bool {
	return id >= 0 && int(id) < len(t.special) && t.special[id]
}

// AddedTokens returns a copy of the added tokens.
func (t *Tokenizer) AddedTokens() []AddedToken {
	return append([]AddedToken(nil), t.added...)
}

// Encode returns the ids of text. Added tokens, special ones included, are
// recognised in the text (like Hugging Face's encode with default options);
// no BOS or EOS is added. Use EncodePlain for untrusted text.
func (t *Tokenizer) Encode(text string) []int32 {
	return t.encode(text, false)
}

// EncodePlain is Encode with special tokens treated as ordinary text, so
// "<|endoftext|>" in user input becomes ordinary tokens rather than the EOS
// id (Hugging Face's encode_special_tokens). Non-special added tokens are
// still recognised.
func (t *Tokenizer) EncodePlain(text string) []int32 {
	return t.encode(text, true)
}

func (t *Tokenizer) encode(text string, plain bool) []int32 {
	out := make([]int32, 0, len(text)/3+1)
	tok := func(id int32) { out = append(out, id) }
	word := func(w string) { out = t.model.encodeWord(w, out) }
	normText := func(s string) {
		if t.normalize != nil {
			s = t.normalize(s)
		}
		t.normAdded.split(s, plain, func(s string) { t.preTokenize(s, 0, word) }, tok)
	}
	t.rawAdded.split(text, plain, normText, tok)
	return out
}

// preTokenize runs pipeline steps k.. on s and calls emit for every final
// piece (raw bytes; the byte-level mapping is implicit).
func (t *Tokenizer) preTokenize(s string, k int, emit func(string)) {
	if s == "" {
		return
	}
	if k == len(t.steps) {
		emit(s)
		return
	}
	st := &t.steps[k]
	if st.prefixSpace && (s == "" || s[0] != ' ') {
		s = " " + s
	}
	if st.rule == nil {
		t.preTokenize(s, k+1, emit)
		return
	}
	if k == len(t.steps)-1 && !st.removeDelim { // last step: emit directly
		for i := 0; i < len(s); {
			j := st.rule.next(s, i)
			emit(s[i:j])
			i = j
		}
		return
	}
	for i := 0; i < len(s); {
		j := st.rule.next(s, i)
		// The supported rules match every character, so pieces are matches
		// and gaps are always empty: Isolated keeps every match, Removed
		// drops them unless inverted.
		if !st.removeDelim || st.invert {
			t.preTokenize(s[i:j], k+1, emit)
		}
		i = j
	}
}

// PreTokenize returns the pre-tokens of text in the byte-level alphabet
// (what Hugging Face's pre_tokenize_str shows). Added tokens are not
// treated specially. Useful for debugging and tests.
func (t *Tokenizer) PreTokenize(text string) []string {
	var out []string
	if t.normalize != nil {
		text = t.normalize(text)
	}
	t.preTokenize(text, 0, func(w string) { out = append(out, byteLevelEncode(w)) })
	return out
}

// Tokens returns the token strings of ids (as Token does); unknown ids give
// "".
func (t *Tokenizer) Tokens(ids []int32) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i], _ = t.Token(id)
	}
	return out
}

// Decode returns the text of ids, special tokens included. Ids out of range
// are ignored; bytes that do not form valid UTF-8 become U+FFFD (one per
// maximal invalid sequence, like Hugging Face's decoder).
func (t *Tokenizer) Decode(ids []int32) string {
	return string(appendLossy(nil, t.DecodeBytes(ids, false)))
}

// DecodeSkipSpecial is Decode without special tokens.
func (t *Tokenizer) DecodeSkipSpecial(ids []int32) string {
	return string(appendLossy(nil, t.DecodeBytes(ids, true)))
}

// DecodeBytes returns the raw bytes of ids, which need not be valid UTF-8
// (a character may be split across tokens).
func (t *Tokenizer) DecodeBytes(ids []int32, skipSpecial bool) []byte {
	var out []byte
	for _, id := range ids {
		if skipSpecial && t.IsSpecial(id) {
			continue
		}
		out = append(out, t.PieceBytes(id)...)
	}
	return out
}

// StreamDecoder turns ids into text incrementally, never emitting half a
// UTF-8 character: bytes of an incomplete character are held back until the
// character completes (or until Flush). Concatenating the outputs of Add
// and Flush gives exactly Decode (or DecodeSkipSpecial) of all ids. A
// StreamDecoder is not safe for concurrent use.
type StreamDecoder struct {
	t           *Tokenizer
	skipSpecial bool
	pending     []byte
}

// NewStreamDecoder returns a streaming decoder; skipSpecial drops special
// tokens from the output.
func (t *Tokenizer) NewStreamDecoder(skipSpecial bool) *StreamDecoder {
	return &StreamDecoder{t: t, skipSpecial: skipSpecial}
}

// Add feeds one id and returns the text that became complete (possibly "").
func (d *StreamDecoder) Add(id int32) string {
	if d.skipSpecial && d.t.IsSpecial(id) {
		return ""
	}
	d.pending = append(d.pending, d.t.PieceBytes(id)...)
	keep := incompleteTail(d.pending)
	if keep == len(d.pending) {
		return ""
	}
	ready := d.pending[:len(d.pending)-keep]
	var s string
	if utf8.Valid(ready) {
		s = string(ready)
	} else {
		s = string(appendLossy(nil, ready))
	}
	d.pending = append(d.pending[:0], d.pending[len(d.pending)-keep:]...)
	return s
}

// Flush returns any held-back bytes (as U+FFFD, since they do not form a
// complete character) and resets the decoder.
func (d *StreamDecoder) Flush() string {
	s := string(appendLossy(nil, d.pending))
	d.pending = d.pending[:0]
	return s
}

// normalizerFor returns the normalization function for a Hugging Face
// normalizer type.
func normalizerFor(kind string) (func(string) string, error) {
	var f norm.Form
	switch kind {
	case "NFC":
		f = norm.NFC
	case "NFD":
		f = norm.NFD
	case "NFKC":
		f = norm.NFKC
	case "NFKD":
		f = norm.NFKD
	default:
		return nil, fmt.Errorf("tokenizer: unsupported normalizer %q (supported: none, NFC, NFD, NFKC, NFKD and a Sequence of them)", kind)
	}
	return func(s string) string {
		if f.IsNormalString(s) {
			return s
		}
		return f.String(s)
	}, nil
}
