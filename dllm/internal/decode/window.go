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
