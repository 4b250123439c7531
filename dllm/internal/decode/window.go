package decode

// WindowModel is a model that attends over the whole window, without a KV cache: the
// bidirectional families (LLaDA, LLaDA-MoE, Dream, RND1).
type WindowModel interface {
	// Window runs one forward pass over tokens (absolute positions 0…len-1, every position
	// sees every other) and writes len(rows)·vocab floats: the decoding logits of the listed
	// rows, in that order. Decoding logits are the model's own for every family except
	// those with shifted logits (Dream, RND1), where row i gets the raw logits of row i-1
	// (row 0 its own), as Dream's generate and RND1's diffusion_sample do.
	Window(tokens []int32, rows []int, logits []float32) error
}

// CachedWindowModel is a WindowModel that can also run Fast-dLLM's approximate cached
// forwards (the decoders' CachePrefix and CacheDual modes).
type CachedWindowModel interface {
	WindowModel
	// WindowCached runs only tokens[from:to] (absolute positions), its queries seeing
	// their own fresh keys and values and, for every position outside [from, to), those
	// the last Window computed (over the canvas as it was then): to = len(tokens) is the
	// prefix cache, to < len(tokens) the dual cache. rows are absolute positions in
	// [from, to); with shifted logits row i reads row i−1, except row from its own (as
	// Dream's block sampler shifts the logits of the forward's input). tokens is the
	// whole canvas, as long as the last Window's.
	WindowCached(tokens []int32, from, to int, rows []int, logits []float32) error
}
