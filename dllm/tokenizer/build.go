package tokenizer

import (
	"errors"
	"fmt"
	"sort"
)

// spec is the format-independent description a Tokenizer is built from.
type spec struct {
	vocab        map[string]int32 // model vocabulary, token string -> id
	merges       [][2]string      // in rank order
	strictMerges bool             // a merge with a missing part is an error (else skipped)
	ignoreMerges bool
	added        []AddedToken
	normalize    func(string) string
	steps        []preStep

	// Special tokens named by the configuration ("" if not given) and ids
	// given directly (GGUF metadata; -1 if not given).
	bosName, eosName, padName, maskName string
	bosID, eosID, padID, maskID         int32

	chatTemplate string
}

// maxVocab bounds the ids a tokenizer file may give (2^21, more than ten times the largest
// vocabulary in use), so that every table indexed by id stays small and ids fit int32.
const maxVocab = 1 << 21

func build(sp *spec) (*Tokenizer, error) {
	size := int32(0)
	for tok, id := range sp.vocab {
		if id < 0 {
			return nil, fmt.Errorf("tokenizer: negative id %d for token %q", id, tok)
		}
		size = max(size, id+1)
	}
	for _, a := range sp.added {
		if a.ID < 0 {
			return nil, fmt.Errorf("tokenizer: negative id %d for added token %q", a.ID, a.Content)
		}
		size = max(size, a.ID+1)
	}
	if size > maxVocab {
		return nil, fmt.Errorf("tokenizer: vocabulary of %d ids is too large", size)
	}
	t := &Tokenizer{
		normalize:    sp.normalize,
		steps:        sp.steps,
		pieces:       make([]string, size),
		special:      make([]bool, size),
		idOf:         make(map[string]int32, len(sp.vocab)+len(sp.added)),
		chatTemplate: sp.chatTemplate,
	}
	m := &t.model
	m.ignoreMerges = sp.ignoreMerges
	m.rawToID = make(map[string]int32, len(sp.vocab))
	for tok, id := range sp.vocab {
		t.pieces[id] = tok
		t.idOf[tok] = id
		if raw, ok := byteLevelDecode(tok); ok {
			m.rawToID[string(raw)] = id
		}
	}
	// Added tokens win over model tokens with the same id or text, as in
	// the reference implementation.
	added := append([]AddedToken(nil), sp.added...)
	sort.SliceStable(added, func(i, j int) bool { return added[i].ID < added[j].ID })
	for _, a := range added {
		t.pieces[a.ID] = a.Content
		t.idOf[a.Content] = a.ID
		t.special[a.ID] = a.Special
	}
	t.added = added
	for b := 0; b < 256; b++ {
		m.byteID[b] = -1
		if id, ok := sp.vocab[string(byteToRune[b])]; ok {
			m.byteID[b] = int32(id)
		}
	}
	m.merges = make(map[uint64]merge, len(sp.merges))
	for rank, mg := range sp.merges {
		a, okA := sp.vocab[mg[0]]
		b, okB := sp.vocab[mg[1]]
		c, okC := sp.vocab[mg[0]+mg[1]]
		if !okA || !okB || !okC {
			if sp.strictMerges {
				return nil, fmt.Errorf("tokenizer: merge %d (%q %q) refers to a token missing from the vocabulary", rank, mg[0], mg[1])
			}
			continue
		}
		m.merges[pairKey(int32(a), int32(b))] = merge{rank: int32(rank), id: int32(c)}
	}
	m.cache = newWordCache()

	// Decoded bytes of every id: the byte-level alphabet undone, or the text
	// itself for tokens outside the alphabet (the ByteLevel decoder's rule).
	t.pieceOff = make([]uint32, size+1)
	for id, p := range t.pieces {
		t.pieceOff[id] = uint32(len(t.pieceBytes))
		if raw, ok := byteLevelDecode(p); ok {
			t.pieceBytes = append(t.pieceBytes, raw...)
		} else {
			t.pieceBytes = append(t.pieceBytes, p...)
		}
	}
	t.pieceOff[size] = uint32(len(t.pieceBytes))

	// Two passes, as in the reference: tokens with normalized=false are cut
	// out of the raw text, the rest after normalization.
	t.rawAdded = newAddedMatcher(added, func(a AddedToken) bool { return !a.Normalized })
	t.normAdded = newAddedMatcher(added, func(a AddedToken) bool { return a.Normalized })
	t.specialAdded = newAddedMatcher(added, func(a AddedToken) bool { return a.Special })

	var err error
	if t.specials, err = t.resolveSpecials(sp); err != nil {
		return nil, err
	}
	bos := ""
	if t.specials.BOS >= 0 {
		bos = t.pieces[t.specials.BOS]
	}
	t.chat, t.chatErr = detectChat(sp.chatTemplate, bos, func(s string) bool { _, ok := t.idOf[s]; return ok })
	return t, nil
}

// SpecialTokens holds the ids of the tokens LLaDA2 inference needs; -1 when
// the tokenizer has no such token. All are looked up by their text in the
// tokenizer files (or taken from GGUF metadata), never assumed.
type SpecialTokens struct {
	BOS       int32 // beginning of text (<|startoftext|>); never added automatically
	EOS       int32 // end of sequence as configured (eos_token; <|endoftext|> for LLaDA2)
	Pad       int32 // padding (pad_token)
	Mask      int32 // the diffusion mask token (<|mask|>)
	RoleEnd   int32 // end of a chat turn (<|role_end|>)
	RoleOpen  int32 // <role>
	RoleClose int32 // </role>
}

// Specials returns the special token ids.
func (t *Tokenizer) Specials() SpecialTokens { return t.specials }

func (t *Tokenizer) resolveSpecials(sp *spec) (SpecialTokens, error) {
	var errs []error
	// A token the configuration names (or an id it gives) must exist: dropping it would
	// leave the model without, say, its end-of-text token and fail far from the cause.
	find := func(role, name string, id int32, fallback string) int32 {
		if name != "" {
			if v, ok := t.idOf[name]; ok {
				return v
			}
			errs = append(errs, fmt.Errorf("%s %q is not in the vocabulary", role, name))
			return -1
		}
		if id >= 0 {
			if int(id) < len(t.pieces) {
				return id
			}
			errs = append(errs, fmt.Errorf("%s id %d is outside the vocabulary of %d", role, id, len(t.pieces)))
			return -1
		}
		if fallback != "" {
			if v, ok := t.idOf[fallback]; ok {
				return v
			}
		}
		return -1
	}
	s := SpecialTokens{
		BOS:       find("bos_token", sp.bosName, sp.bosID, "<|startoftext|>"),
		EOS:       find("eos_token", sp.eosName, sp.eosID, "<|endoftext|>"),
		Pad:       find("pad_token", sp.padName, sp.padID, ""),
		Mask:      find("mask_token", sp.maskName, sp.maskID, "<|mask|>"),
		RoleEnd:   find("", "", -1, "<|role_end|>"),
		RoleOpen:  find("", "", -1, "<role>"),
		RoleClose: find("", "", -1, "</role>"),
	}
	// The mask marks positions still to be decoded; sharing its id with a token that
	// ends or pads text would make every decoded sequence ambiguous.
	for _, o := range []struct {
		role string
		id   int32
	}{{"bos_token", s.BOS}, {"eos_token", s.EOS}, {"pad_token", s.Pad}, {"<|role_end|>", s.RoleEnd}} {
		if s.Mask >= 0 && o.id == s.Mask {
			errs = append(errs, fmt.Errorf("mask_token and %s are the same token %d", o.role, s.Mask))
		}
	}
	if len(errs) > 0 {
		return s, fmt.Errorf("tokenizer: special tokens: %w", errors.Join(errs...))
	}
	return s, nil
}
