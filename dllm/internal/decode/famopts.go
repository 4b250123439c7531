package decode

import (
	"fmt"
	"math"
)

// Remasking is LLaDA's rule for which predicted positions to keep at a step.
type Remasking uint8

const (
	// LowConfidence keeps the positions whose predicted token has the highest softmax
	// probability (ML-GSAI generate's "low_confidence": the least confident stay masked).
	LowConfidence Remasking = iota
	// RandomRemasking keeps positions ranked by a uniform draw ("random").
	RandomRemasking
)

func (r Remasking) String() string {
	switch r {
	case LowConfidence:
		return "low_confidence"
	case RandomRemasking:
		return "random"
	}
	return fmt.Sprintf("Remasking(%d)", uint8(r))
}

// DreamAlg is the `alg` of Dream's diffusion_generate.
type DreamAlg uint8

const (
	// DreamOrigin reveals each masked position with probability 1 − s/t.
	DreamOrigin DreamAlg = iota
	// DreamMaskGitPlus ranks positions by the probability of their sampled token.
	DreamMaskGitPlus
	// DreamTopKMargin ranks by the gap between the two most probable tokens.
	DreamTopKMargin
	// DreamEntropy ranks by negative entropy (the most certain first).
	DreamEntropy
	// DreamConfidenceThreshold is Fast-dLLM's parallel decoding for Dream (no cache):
	// per step masked/steps positions plus carry-over are candidates, and those under
	// Threshold (but the first) wait for a later step. Approximate, opt-in.
	DreamConfidenceThreshold
)

var dreamAlgNames = [...]string{"origin", "maskgit_plus", "topk_margin", "entropy", "confidence_threshold"}

func (a DreamAlg) String() string {
	if int(a) < len(dreamAlgNames) {
		return dreamAlgNames[a]
	}
	return fmt.Sprintf("DreamAlg(%d)", uint8(a))
}

// ParseDreamAlg maps Dream's alg names to DreamAlg.
func ParseDreamAlg(s string) (DreamAlg, error) {
	for i, n := range dreamAlgNames {
		if n == s {
			return DreamAlg(i), nil
		}
	}
	return 0, invalid("unknown Dream alg %q (origin, maskgit_plus, topk_margin, entropy, confidence_threshold)", s)
}

// CacheMode selects Fast-dLLM's approximate KV caching for the LLaDA and Dream
// decoders. Every block starts with a full forward, which also refreshes the cache; the
// block's later steps run a shorter forward against the cached keys and values of the
// rest of the canvas, computed when the block started. Cached K/V are stale once tokens
// change, so the logits — and possibly the output — differ from the exact mode: it is an
// approximation, opt-in, for speed. The model must implement CachedWindowModel.
// LLaDA-MoE's official code has no cache path; the decoders run the same approximation
// on it (it is LLaDA's algorithm on a bidirectional model).
type CacheMode uint8

const (
	// CacheNone is the exact mode: every step recomputes the whole canvas.
	CacheNone CacheMode = iota
	// CachePrefix is generate_with_prefix_cache (LLaDA) / the block sampler without
	// dual_cache (Dream): steps after a block's first run x[block_start:] against the
	// cached K/V of the prompt and the finished blocks.
	CachePrefix
	// CacheDual is generate_with_dual_cache / dual_cache=True: steps after a block's first
	// run only the current block against the cached K/V of everything else (the suffix
	// too).
	CacheDual
)

var cacheModeNames = [...]string{"", "prefix", "dual"}

// String is the mode's name as ParseCacheMode reads it: "" (exact), "prefix", "dual".
func (c CacheMode) String() string {
	if int(c) < len(cacheModeNames) {
		return cacheModeNames[c]
	}
	return fmt.Sprintf("CacheMode(%d)", uint8(c))
}

// ParseCacheMode maps "" (or "none": exact), "prefix" and "dual" to a CacheMode.
func ParseCacheMode(s string) (CacheMode, error) {
	switch s {
	case "", "none":
		return CacheNone, nil
	case "prefix":
		return CachePrefix, nil
	case "dual":
		return CacheDual, nil
	}
	return 0, invalid("unknown cache mode %q (\"\" for exact, prefix, dual)", s)
}

// WindowCommon are the options every bidirectional-family decoder shares.
type WindowCommon struct {
	// MaskID is the mask token.
	MaskID int32
	// StopIDs end the returned output: Result.Tokens is cut after the first of them.
	// The official algorithms always fill the whole canvas; so does the decoder unless
	// EOSEarlyStop is set.
	StopIDs []int32
	// EOSEarlyStop ends generation as soon as the output is final up to a stop token
	// (a stop token is committed and no mask precedes it). Committed tokens never change
	// in these algorithms, so Result.Tokens is the same as without it; only the forwards
	// the rest of the canvas would have taken are saved.
	EOSEarlyStop bool
	// Seed seeds the default Source, NewTorchSource(Seed): torch.manual_seed(Seed).
	Seed uint64
	// Source, when set, is used instead of the seeded default (replays, tests).
	Source Source
	// OnStep is called after every step with what changed; false stops generation
	// (ErrStopped). Slices in the event are valid only during the call.
	OnStep func(WindowStepEvent) bool
	// OnCommit receives output tokens as they become final, as contiguous pieces; false
	// stops generation (ErrStopped).
	OnCommit func(CommitEvent) bool
}

// LLaDAOptions parameterise ML-GSAI's generate() for LLaDA and LLaDA-MoE, and
// Fast-dLLM's threshold variant of it.
type LLaDAOptions struct {
	// Steps is the total number of sampling steps; it must be a multiple of the number
	// of blocks (GenLength/BlockLength) and is split evenly across them.
	Steps int
	// GenLength is the number of generated positions (a multiple of BlockLength).
	GenLength int
	// BlockLength is the semi-autoregressive block, counted from the end of the prompt.
	BlockLength int
	// Remasking selects low_confidence or random.
	Remasking Remasking
	// Temperature > 0 samples with Gumbel-max noise in float64 (add_gumbel_noise).
	Temperature float64
	// CFGScale > 0 adds classifier-free guidance: a second forward with the prompt
	// masked, logits = un + (CFGScale+1)·(cond − un).
	CFGScale float64
	// Threshold in (0, 1] selects Fast-dLLM's confidence-threshold parallel decoding (no
	// cache): each step commits every masked position of the block with confidence
	// ≥ Threshold, and at least the most confident one; Steps then only has to satisfy
	// the divisibility rule. 0 is the exact ML-GSAI schedule. Approximate, opt-in.
	Threshold float64
	// Cache selects Fast-dLLM's prefix or dual cache (generate_with_prefix_cache,
	// generate_with_dual_cache), with the Threshold rule or, without one, the Steps
	// schedule; each block runs until it has no mask. Approximate, opt-in; not with
	// CFGScale (the cache functions have none). Random draws (Temperature > 0, random
	// remasking) follow the official tensors' shapes (the forward's input, and the extra
	// unused noise of generate_with_prefix_cache), but the cache goldens are greedy.
	Cache CacheMode

	WindowCommon
}

// DreamOptions parameterise Dream's diffusion_generate.
type DreamOptions struct {
	Alg DreamAlg
	// Steps is the number of denoising steps (forwards; confidence_threshold may add some).
	Steps int
	// GenLength is max_new_tokens.
	GenLength int
	// Eps is the last timestep: timesteps = linspace(1, Eps, Steps+1) (Dream's default 1e-3).
	Eps float64
	// Temperature > 0 samples tokens; 0 takes the argmax.
	Temperature float64
	// TopP in (0, 1) keeps the nucleus; 0 or 1 disables it.
	TopP float64
	// TopK > 0 keeps the K most likely tokens; 0 disables it.
	TopK int
	// AlgTemp > 0 draws the positions to reveal from softmax(confidence/AlgTemp)
	// instead of taking the top ones (maskgit_plus, topk_margin, entropy).
	AlgTemp float64
	// Threshold is confidence_threshold's threshold (Fast-dLLM's default 0.9).
	Threshold float64
	// Cache selects Fast-dLLM's block-wise cached sampler (generation_utils_block.py;
	// CacheDual: dual_cache=True) over blocks of BlockLength: a full forward per block
	// commits its first position, then confidence_threshold commits the most confident
	// and every other ≥ Threshold of the block per forward; any other Alg follows the
	// per-block timestep schedule (Steps/blocks per block) ranking by entropy, as the
	// official code does whatever alg says. Eps is used by that schedule only.
	// Approximate, opt-in.
	Cache CacheMode
	// BlockLength is the cached sampler's block (0: the whole generation). Set without a
	// Cache, it selects the same block-wise sampler with every forward over the whole
	// canvas: the exact reference the cache modes approximate (Fast-dLLM ships none).
	BlockLength int

	WindowCommon
}

func finiteNonNeg(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) && x >= 0 }

// validateCommon checks what every family shares: the prompt, the ids and the size.
func (c *WindowCommon) validate(prompt []int32, genLength, vocab, capacity int) error {
	inVocab := func(t int32) bool { return t >= 0 && int(t) < vocab }
	switch {
	case len(prompt) == 0:
		return invalid("empty prompt")
	case genLength <= 0:
		return invalid("generation length %d must be > 0", genLength)
	case !inVocab(c.MaskID):
		return invalid("mask id %d outside the vocabulary [0, %d)", c.MaskID, vocab)
	case len(prompt) > capacity || genLength > capacity-len(prompt):
		return invalid("prompt of %d tokens + %d generated exceeds the context of %d", len(prompt), genLength, capacity)
	}
	for _, t := range c.StopIDs {
		if !inVocab(t) {
			return invalid("stop id %d outside the vocabulary [0, %d)", t, vocab)
		}
		if t == c.MaskID {
			return invalid("stop id %d is the mask token", t)
		}
	}
	for i, t := range prompt {
		if !inVocab(t) {
			return invalid("prompt token %d at position %d outside the vocabulary [0, %d)", t, i, vocab)
		}
		if t == c.MaskID {
			return invalid("prompt token at position %d is the mask token %d (masks in a prompt are not supported)", i, t)
		}
	}
	return nil
}

func (o *LLaDAOptions) validate(prompt []int32, vocab, capacity int) error {
	switch {
	case o.Steps <= 0:
		return invalid("steps %d must be > 0", o.Steps)
	case o.BlockLength <= 0:
		return invalid("block length %d must be > 0", o.BlockLength)
	case o.GenLength > 0 && o.GenLength%o.BlockLength != 0:
		return invalid("generation length %d is not a multiple of the block length %d", o.GenLength, o.BlockLength)
	case o.GenLength > 0 && o.Steps%(o.GenLength/o.BlockLength) != 0:
		return invalid("steps %d is not a multiple of the number of blocks %d (generation length %d / block length %d)",
			o.Steps, o.GenLength/o.BlockLength, o.GenLength, o.BlockLength)
	case o.Remasking != LowConfidence && o.Remasking != RandomRemasking:
		return invalid("unknown remasking %v", o.Remasking)
	case !finiteNonNeg(o.Temperature):
		return invalid("temperature %v must be a finite number >= 0", o.Temperature)
	case !finiteNonNeg(o.CFGScale):
		return invalid("cfg scale %v must be a finite number >= 0", o.CFGScale)
	case math.IsNaN(o.Threshold) || o.Threshold < 0 || o.Threshold > 1:
		return invalid("threshold %v outside [0, 1] (0: the exact step schedule)", o.Threshold)
	case o.Cache > CacheDual:
		return invalid("unknown cache mode %v", o.Cache)
	case o.Cache != CacheNone && o.CFGScale > 0:
		return invalid("the %s cache has no classifier-free guidance (cfg scale %v)", o.Cache, o.CFGScale)
	}
	return o.WindowCommon.validate(prompt, o.GenLength, vocab, capacity)
}

func (o *DreamOptions) validate(prompt []int32, vocab, capacity int) error {
	switch {
	case o.Alg > DreamConfidenceThreshold:
		return invalid("unknown Dream alg %v", o.Alg)
	case o.Steps <= 0:
		return invalid("steps %d must be > 0", o.Steps)
	case math.IsNaN(o.Eps) || o.Eps <= 0 || o.Eps >= 1:
		return invalid("eps %v outside (0, 1)", o.Eps)
	case !finiteNonNeg(o.Temperature):
		return invalid("temperature %v must be a finite number >= 0", o.Temperature)
	case math.IsNaN(o.TopP) || o.TopP < 0 || o.TopP > 1:
		return invalid("top-p %v outside [0, 1] (0 or 1 disables it)", o.TopP)
	case o.TopK < 0:
		return invalid("top-k %d must be >= 0 (0 disables it)", o.TopK)
	case !finiteNonNeg(o.AlgTemp):
		return invalid("alg_temp %v must be a finite number >= 0", o.AlgTemp)
	case o.AlgTemp > 0 && (o.Alg == DreamOrigin || o.Alg == DreamConfidenceThreshold):
		return invalid("alg_temp applies to maskgit_plus, topk_margin and entropy, not %v", o.Alg)
	case math.IsNaN(o.Threshold) || o.Threshold < 0 || o.Threshold > 1:
		return invalid("threshold %v outside [0, 1]", o.Threshold)
	case o.Alg == DreamConfidenceThreshold && !o.blocks() && o.GenLength > 0 && o.GenLength%o.Steps != 0:
		// Fast-dLLM asserts mask_index.sum() % steps == 0.
		return invalid("confidence_threshold needs the generation length %d to be a multiple of steps %d", o.GenLength, o.Steps)
	case o.Cache > CacheDual:
		return invalid("unknown cache mode %v", o.Cache)
	case o.BlockLength < 0:
		return invalid("block length %d must be >= 0", o.BlockLength)
	case o.blocks() && o.GenLength > 0 && o.GenLength%o.blockLength() != 0:
		return invalid("generation length %d is not a multiple of the block length %d", o.GenLength, o.blockLength())
	case o.blocks() && o.GenLength > 0 && o.Steps%(o.GenLength/o.blockLength()) != 0:
		return invalid("steps %d is not a multiple of the number of blocks %d", o.Steps, o.GenLength/o.blockLength())
	}
	return o.WindowCommon.validate(prompt, o.GenLength, vocab, capacity)
}

// blocks says whether the block-wise sampler runs (a Cache, or a BlockLength).
func (o *DreamOptions) blocks() bool { return o.Cache != CacheNone || o.BlockLength > 0 }

func (o *DreamOptions) blockLength() int {
	if o.BlockLength > 0 {
		return o.BlockLength
	}
	return o.GenLength
}

// RND1Options parameterise RND1's diffusion_sample (RadicalNumerics/RND1 rnd/sampling.py,
// as RND1GenerationMixin.generate calls it).
type RND1Options struct {
	// Steps is num_diffusion_steps: at most Steps forwards.
	Steps int
	// GenLength is max_new_tokens: the positions after the prompt, of which the last is
	// reserved for the end (PadID, or EOSID with AddEOSAtEnd) and the len(Suffix) before
	// it hold Suffix; the GenLength − len(Suffix) − 1 others are masked and decoded.
	// RND1's infill_length n (with suffix_ids) is GenLength n + len(Suffix).
	GenLength int
	// Suffix is suffix_ids: fixed tokens after the masked span (infilling).
	Suffix []int32
	// Temperature divides the logits (max(Temperature, 1e-8), as the official code): it
	// changes the entropies, so it matters even with Greedy.
	Temperature float64
	// Greedy takes the argmax token; otherwise tokens are drawn (Source.Categorical).
	Greedy bool
	// TopK and TopP are accepted only where they filter nothing (TopK 0 or ≥ the
	// vocabulary, TopP 0 or 1): the official code sets filtered logits to −inf, which makes
	// every entropy NaN (0·−inf), so the positions it reveals are then decided by
	// torch.topk's NaN order (or, with EBGamma, none before the last step).
	TopK int
	TopP float64
	// EntropyBounded selects the entropy-bounded sampler (eb_gamma) instead of the
	// entropy schedule: each step reveals, in order of increasing −log p(token), the
	// longest run whose entropy sum minus its largest entropy is ≤ EBGamma (≥ 1 position).
	EntropyBounded bool
	// EBGamma is eb_gamma (finite, ≥ 0); it needs EntropyBounded.
	EBGamma float64
	// AddEOSAtEnd puts EOSID in the reserved last slot (add_eos_at_end); otherwise it
	// holds PadID.
	AddEOSAtEnd bool
	// EOSID and PadID are eos_token_id and pad_token_id.
	EOSID, PadID int32

	WindowCommon
}

func (o *RND1Options) validate(prompt []int32, vocab, capacity int) error {
	inVocab := func(t int32) bool { return t >= 0 && int(t) < vocab }
	switch {
	case o.Steps <= 0:
		return invalid("steps %d must be > 0", o.Steps)
	case o.GenLength > 0 && o.GenLength < len(o.Suffix)+2:
		return invalid("generation length %d leaves no position to generate: the suffix takes %d and the end slot 1",
			o.GenLength, len(o.Suffix))
	case !finiteNonNeg(o.Temperature):
		return invalid("temperature %v must be a finite number >= 0", o.Temperature)
	case o.TopK < 0:
		return invalid("top-k %d must be >= 0 (0 disables it)", o.TopK)
	case o.TopK > 0 && o.TopK < vocab:
		return invalid("top-k %d is not supported for RND1: the official sampler's entropies are all NaN once "+
			"a token is filtered out (0·log 0 as 0·−inf), so which positions it reveals is undefined", o.TopK)
	case math.IsNaN(o.TopP) || o.TopP < 0 || o.TopP > 1:
		return invalid("top-p %v outside [0, 1] (0 or 1 disables it)", o.TopP)
	case o.TopP > 0 && o.TopP < 1:
		return invalid("top-p %v is not supported for RND1: the official sampler's entropies are all NaN once "+
			"a token is filtered out (0·log 0 as 0·−inf), so which positions it reveals is undefined", o.TopP)
	case !finiteNonNeg(o.EBGamma):
		return invalid("eb_gamma %v must be a finite number >= 0", o.EBGamma)
	case o.EBGamma > 0 && !o.EntropyBounded:
		return invalid("eb_gamma %v needs the entropy-bounded sampler (EntropyBounded)", o.EBGamma)
	case !inVocab(o.PadID) || !inVocab(o.EOSID):
		return invalid("pad id %d or eos id %d outside the vocabulary [0, %d)", o.PadID, o.EOSID, vocab)
	case o.PadID == o.MaskID || o.EOSID == o.MaskID:
		return invalid("pad id %d or eos id %d is the mask token %d", o.PadID, o.EOSID, o.MaskID)
	}
	for i, t := range o.Suffix {
		if !inVocab(t) {
			return invalid("suffix token %d at position %d outside the vocabulary [0, %d)", t, i, vocab)
		}
		if t == o.MaskID {
			return invalid("suffix token at position %d is the mask token %d", i, t)
		}
	}
	return o.WindowCommon.validate(prompt, o.GenLength, vocab, capacity)
}
