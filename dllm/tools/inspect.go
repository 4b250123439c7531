package tools

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"

	"github.com/dllm-go/dllm/dllm/internal/arch"
	"github.com/dllm-go/dllm/dllm/internal/checkpoint"
	"github.com/dllm-go/dllm/dllm/internal/weights"
)

// Config is the LLaDA2 model configuration, as read from config.json or from the GGUF
// keys; JSON names are config.json's (meanings: docs/llada2-spec.md §1.2).
type Config struct {
	HiddenSize            int     `json:"hidden_size"`                // width of the residual stream
	NumLayers             int     `json:"num_hidden_layers"`          // transformer layers
	NumHeads              int     `json:"num_attention_heads"`        // query heads
	NumKVHeads            int     `json:"num_key_value_heads"`        // key/value heads (grouped-query attention)
	HeadDim               int     `json:"head_dim"`                   // width of one head
	VocabSize             int     `json:"vocab_size"`                 // rows of the embedding and the LM head
	IntermediateSize      int     `json:"intermediate_size"`          // FFN width of the dense layers
	MoEIntermediateSize   int     `json:"moe_intermediate_size"`      // FFN width of one routed expert
	NumExperts            int     `json:"num_experts"`                // routed experts per MoE layer
	NumExpertsPerTok      int     `json:"num_experts_per_tok"`        // experts each token is routed to
	NumSharedExperts      int     `json:"num_shared_experts"`         // experts every token passes through
	NumGroups             int     `json:"n_group"`                    // expert groups of the group-limited router
	TopKGroups            int     `json:"topk_group"`                 // groups a token may be routed into
	RoutedScalingFactor   float64 `json:"routed_scaling_factor"`      // scale of the routed experts' sum
	FirstKDenseReplace    int     `json:"first_k_dense_replace"`      // leading layers with a dense FFN instead of MoE
	RopeTheta             float64 `json:"rope_theta"`                 // RoPE base frequency
	RotaryDim             int     `json:"rotary_dim"`                 // rotated dimensions per head (head_dim·partial_rotary_factor)
	RMSNormEps            float64 `json:"rms_norm_eps"`               // epsilon of every RMSNorm
	MaxPositionEmbeddings int     `json:"max_position_embeddings"`    // context length
	TieWordEmbeddings     bool    `json:"tie_word_embeddings"`        // the LM head is the embedding matrix
	UseQKNorm             bool    `json:"use_qk_norm"`                // RMSNorm on queries and keys per head
	NormTopKProb          bool    `json:"norm_topk_prob"`             // renormalise the chosen experts' weights
	ScoreFunction         string  `json:"score_function"`             // router scores: "sigmoid" or "softmax"
	PadTokenID            int     `json:"pad_token_id"`               // from config.json; the tokenizer is the authority
	Family                string  `json:"-"`                          // CheckpointInfo.Family
	QKVBias               bool    `json:"qkv_bias,omitempty"`         // the query/key/value projections have a bias (Dream)
	ShiftLogits           bool    `json:"shift_logits,omitempty"`     // decoding reads position i from logits row i−1 (Dream)
	RopeInterleaved       bool    `json:"rope_interleaved,omitempty"` // adjacent RoPE pairs: a GGUF with permuted Q/K rows (LLaDA)
}

// CheckpointInfo describes a checkpoint from its headers alone; it is what `dllm inspect
// --json` prints (DESIGN.md §4: an interface, change only compatibly). Tensor names are
// canonical — Hugging Face names with one tensor per routed expert — for every format, so
// reports of the same model in different forms can be compared.
type CheckpointInfo struct {
	Format       string `json:"format"`       // "safetensors" or "gguf"
	Architecture string `json:"architecture"` // general.architecture, or config.json's model_type
	// Family is the model family the checkpoint belongs to (dllm.ModelInfo.Architecture:
	// "llada2", "llada", "dream", "llada-moe") and Defaults what running it implies.
	Family   string         `json:"family"`
	Defaults FamilyDefaults `json:"defaults"`
	Config   Config         `json:"config"`
	// SpecialTokens maps the LLaDA2 special token texts (<|mask|>, <|endoftext|>, …) and
	// the roles bos/eos/padding/mask ("mask_token_id", …) to ids; nil without a tokenizer.
	SpecialTokens map[string]int `json:"special_tokens,omitempty"`
	Tensors       []TensorInfo   `json:"tensors"`
	Bytes         int64          `json:"bytes"` // total tensor bytes
}

// FamilyDefaults is what a model family implies beyond its configuration.
type FamilyDefaults struct {
	Title  string `json:"title"`  // "LLaDA-MoE"
	Models string `json:"models"` // the published models of the family
	// Attention is "block-causal" (LLaDA2: blocks decoded left to right with a KV cache)
	// or "bidirectional" (every position sees the whole window; no KV cache).
	Attention string `json:"attention"`
	// ShiftLogits: decoding reads position i's prediction from logits row i−1 (Dream);
	// `dllm logits` always writes the unshifted rows.
	ShiftLogits bool `json:"shift_logits"`
	// The family's special token texts: the diffusion mask ("" when its id has no text,
	// as RND1's: then special_tokens' mask_token_id), end of text, end of turn.
	MaskToken    string `json:"mask_token"`
	EOSToken     string `json:"eos_token"`
	RoleEndToken string `json:"role_end_token,omitempty"`
}

// TensorInfo is one tensor of a CheckpointInfo.
type TensorInfo struct {
	Name  string `json:"name"`
	DType string `json:"dtype"` // "bf16", "f32", "q8_0", …
	Shape []int  `json:"shape"` // row-major, outermost first
}

// Inspect opens the checkpoint at path (whatever dllm.Load accepts, dllm.DemoModel
// included), reads its configuration, special tokens and tensor list, and closes it. No
// tensor data is read, so it is fast for any model size. Architectures of no supported
// family are an error.
func Inspect(path string) (*CheckpointInfo, error) {
	ck, err := checkpoint.Open(path)
	if err != nil {
		return nil, err
	}
	defer ck.Close()
	cfg, err := arch.LoadConfig(ck.Checkpoint)
	if err != nil {
		return nil, err
	}
	ts, err := arch.CanonicalTensors(ck.Checkpoint)
	if err != nil {
		return nil, err
	}
	fam := arch.FamilyByName(cfg.Family)
	info := &CheckpointInfo{Format: ck.Format, Family: fam.Name, Config: Config(cfg), Bytes: ck.TotalBytes(), Tensors: make([]TensorInfo, len(ts))}
	info.Defaults = FamilyDefaults{
		Title: fam.Title, Models: fam.Models, Attention: "block-causal", ShiftLogits: cfg.ShiftLogits,
		MaskToken: fam.Specials.Mask, EOSToken: fam.Specials.EOS, RoleEndToken: fam.Specials.RoleEnd,
	}
	if fam.Bidirectional {
		info.Defaults.Attention = "bidirectional"
	}
	for i, t := range ts {
		info.Tensors[i] = TensorInfo{t.Name, t.DType.String(), t.Shape}
	}
	if ck.Format == weights.FormatGGUF {
		info.Architecture, _ = ck.Meta.String("general.architecture")
		info.SpecialTokens = inspectGGUFSpecials(ck.Meta)
		return info, nil
	}
	var hdr struct {
		ModelType string `json:"model_type"`
	}
	json.Unmarshal(ck.Config, &hdr) // LoadConfig has parsed it already
	info.Architecture = hdr.ModelType
	info.SpecialTokens, err = inspectHFSpecials(ck)
	if err != nil {
		return nil, err
	}
	// A mask id without token text (RND1) is stated by config.json alone.
	if id, ok := arch.MaskTokenID(ck.Checkpoint); ok && info.SpecialTokens["mask_token_id"] == 0 && id < cfg.VocabSize {
		if info.SpecialTokens == nil {
			info.SpecialTokens = map[string]int{}
		}
		info.SpecialTokens["mask_token_id"] = id
	}
	return info, nil
}

// inspectSpecialTexts are the special tokens worth knowing by text: the diffusion mask,
// end of text, chat turn markers, of every family. Ids are always looked up, never assumed.
var inspectSpecialTexts = func() []string {
	ts := []string{"<|mask|>", "<|endoftext|>", "<|role_end|>", "<|startoftext|>", "<role>", "</role>"}
	for _, f := range arch.Families {
		for _, s := range []string{f.Specials.Mask, f.Specials.EOS, f.Specials.RoleEnd} {
			if s != "" && !slices.Contains(ts, s) {
				ts = append(ts, s)
			}
		}
	}
	return ts
}()

// inspectGGUFSpecials reads the tokenizer.ggml.*_token_id keys and finds the special texts in
// the vocabulary. Keys are named like the GGUF ones so both formats report alike.
func inspectGGUFSpecials(md *weights.Metadata) map[string]int {
	out := map[string]int{}
	for _, role := range []string{"bos", "eos", "padding", "mask"} {
		if id, ok := md.Uint("tokenizer.ggml." + role + "_token_id"); ok && id < 1<<31 {
			out[role+"_token_id"] = int(id)
		}
	}
	if toks, ok := md.Strings("tokenizer.ggml.tokens"); ok {
		for id, s := range toks {
			if isInspectSpecial(s) {
				out[s] = id
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func isInspectSpecial(s string) bool {
	for _, t := range inspectSpecialTexts {
		if s == t {
			return true
		}
	}
	return false
}

// inspectHFSpecials reads tokenizer.json's added_tokens and, through them, the
// bos/eos/pad/mask tokens named by tokenizer_config.json. A checkpoint without
// tokenizer.json has none (nil, no error). This is a plain JSON read: the tokenizer
// proper lives in package tokenizer.
func inspectHFSpecials(ck *checkpoint.Checkpoint) (map[string]int, error) {
	raw, err := ck.SideFile("tokenizer.json")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var tj struct {
		AddedTokens []struct {
			ID      int    `json:"id"`
			Content string `json:"content"`
		} `json:"added_tokens"`
	}
	if err := json.Unmarshal(raw, &tj); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(ck.Dir(), "tokenizer.json"), err)
	}
	byText := map[string]int{}
	out := map[string]int{}
	for _, t := range tj.AddedTokens {
		byText[t.Content] = t.ID
		if isInspectSpecial(t.Content) {
			out[t.Content] = t.ID
		}
	}
	if raw, err := ck.SideFile("tokenizer_config.json"); err == nil {
		var tc map[string]json.RawMessage
		if json.Unmarshal(raw, &tc) == nil {
			for role, key := range map[string]string{"bos_token": "bos", "eos_token": "eos", "pad_token": "padding", "mask_token": "mask"} {
				if id, ok := byText[inspectTokenText(tc[role])]; ok {
					out[key+"_token_id"] = id
				}
			}
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// inspectTokenText reads a tokenizer_config.json token entry: a string or {"content": string}.
func inspectTokenText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var obj struct {
		Content string `json:"content"`
	}
	json.Unmarshal(raw, &obj)
	return obj.Content
}
