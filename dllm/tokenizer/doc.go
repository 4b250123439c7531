// Package tokenizer implements the byte-level BPE tokenizers of LLaDA2 /
// Ling 2.0 and related models (Qwen2/Qwen3, Llama 3, GPT-2 style), with the
// LLaDA2 chat format. It needs no outside services and no cgo.
//
// # Loading
//
// Load reads a Hugging Face model directory (tokenizer.json plus, if
// present, tokenizer_config.json for the chat template and the names of the
// BOS/EOS/pad/mask tokens); FromJSON takes the two files' contents. FromGGUF
// builds the same tokenizer from GGUF metadata (the tokenizer.ggml.* keys)
// passed as plain Go values in a GGUFVocab, so any GGUF reader can feed it.
//
// Supported tokenizer.json contents:
//
//   - model: BPE with vocab and merges, merges in either the "left right"
//     string form or the ["left", "right"] pair form; ignore_merges.
//     Dropout, byte_fallback and subword prefixes/suffixes are rejected.
//   - normalizer: none, NFC, NFD, NFKC, NFKD, or a Sequence of those.
//   - pre_tokenizer: Split (Regex, behavior Isolated or Removed), ByteLevel
//     (add_prefix_space, use_regex) and Sequence, with ByteLevel last.
//   - added_tokens with the special, lstrip, rstrip, single_word and
//     normalized flags, matched leftmost-longest before pre-tokenization.
//   - decoder: ByteLevel. The post-processor is ignored: Encode never adds
//     BOS or EOS (LLaDA2 adds none).
//
// Anything else is an error that names the unsupported part.
//
// # Pre-tokenization
//
// Go's regexp package cannot run the split patterns of modern tokenizers
// (they use lookahead and possessive quantifiers), so the patterns are
// recognised by their exact text and executed by a hand-written scanner.
// Recognised: the Ling/LLaDA2 pattern (LingPattern), Qwen2 (Qwen2Pattern),
// Llama 3 (Llama3Pattern), GPT-4 cl100k in its tiktoken and Hugging Face
// spellings (CL100KPattern), and GPT-2 (GPT2Pattern, also ByteLevel's
// built-in regex). The cl100k family is accepted in any mix of its
// equivalent spellings (possessive or greedy quantifiers, the two ways of
// writing the contractions, \s*[\r\n] or \s*[\r\n]+); they split
// identically. Any other pattern is an error quoting it. \s is Unicode
// White_Space and \p{L}, \p{N} are Unicode general categories, from Go's
// unicode package (Unicode 15.0); text with characters assigned after 15.0
// may split differently from a tokenizer built on newer tables. GGUF
// pre-tokenizer names map to these patterns: bailingmoe, bailingmoe2 and
// llada-moe (Ling), qwen2, llama-bpe and llama3, gpt2 and default.
//
// # Encoding and decoding
//
// Encode recognises added tokens, special ones included, like Hugging
// Face's encode; EncodePlain treats special-token text as ordinary text,
// for untrusted input. Merges run on raw bytes, lowest rank first (an
// array scan for short words, a heap for long ones: O(n log n)), and the
// result for each pre-token is kept in a bounded, sharded cache. Decode
// undoes the byte-level alphabet and replaces invalid UTF-8 like Rust's
// from_utf8_lossy; DecodeSkipSpecial drops special tokens; StreamDecoder
// emits text incrementally and never splits a UTF-8 character. Token, ID,
// Tokens and PieceBytes convert between ids and pieces. A Tokenizer is
// immutable and safe for concurrent use.
//
// # Special tokens
//
// Specials returns the ids LLaDA2 inference needs (mask, EOS, <|role_end|>,
// BOS, <role>, </role>), resolved from the files by token text: the names in
// tokenizer_config.json (or the ids in GGUF metadata) first, then the
// conventional LLaDA2 names. Missing tokens are -1. No id is hard-coded.
//
// # Chat
//
// ApplyChat renders a conversation in the LLaDA2 / Ling 2.0 role format
// (<role>HUMAN</role>…<|role_end|>, see ApplyChat for the layout) and
// EncodeChat encodes it, parsing special tokens in the template's text but
// never in message contents, so a message cannot forge a turn. The Jinja chat_template from tokenizer_config.json
// or GGUF is not executed: it is recognised as the LLaDA2 format when it
// contains "<role>", "HUMAN", "ASSISTANT", "<|role_end|>" and "detailed
// thinking", and rendered by native code that reproduces it exactly.
// Other templates give an error; render such prompts yourself and pass
// the text to Encode.
//
// The implementation is checked against the Hugging Face tokenizers
// library (see scripts/tokenizer-oracle.sh): the LLaDA2 fixture goldens,
// and 7.7 MB of varied text (prose, code, CJK, emoji, whitespace runs)
// through the Qwen3, Llama-3 and LLaDA2 fixture tokenizers, with identical
// ids.
package tokenizer
