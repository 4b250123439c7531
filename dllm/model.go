package dllm

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"unicode/utf8"

	"github.com/dllm-go/dllm/dllm/internal/arch"
	"github.com/dllm-go/dllm/dllm/internal/checkpoint"
	"github.com/dllm-go/dllm/dllm/internal/decode"
	"github.com/dllm-go/dllm/dllm/internal/invalid"
	"github.com/dllm-go/dllm/dllm/internal/modelview"
	"github.com/dllm-go/dllm/dllm/internal/weights"
	"github.com/dllm-go/dllm/dllm/tokenizer"
)

// DemoModel is the name under which Load finds the built-in demo model: a tiny LLaDA2
// (2.4 MB, compiled into the library) trained to answer simple questions such as
// "What is 3+4?" through the chat template. A file or folder called "demo" in the
// working directory wins over the name.
const DemoModel = "demo" // = checkpoint.DemoName (TestDemoFromAnyFolder loads it by this name)

// MaxThreads bounds LoadOptions.Threads (each thread is a worker goroutine).
const MaxThreads = 4096

// LoadOptions controls Load.
type LoadOptions struct {
	// Threads is the size of the model's worker pool, at most MaxThreads; 0 means
	// GOMAXPROCS.
	Threads int
	// KVCacheF16 stores the KV cache in half precision (half the memory, tiny error).
	KVCacheF16 bool
	// NoRepack keeps every weight matrix in the memory-mapped file. By default Load
	// copies the matrices the kernels multiply faster in a layout of their own (on
	// amd64 with AVX2: Q4_K, Q6_K and Q8_0; up to 3.7× faster) into it, on
	// every CPU: Load then reads those weights (seconds for gigabytes) and takes as much
	// memory again as they are. NoRepack is for a model larger than memory, weights
	// shared between processes, or the fastest load. Outputs may differ in the last
	// bits of the logits.
	NoRepack bool
}

// ModelInfo describes a loaded model.
type ModelInfo struct {
	Architecture  string // the model family: "llada2", "llada", "llada-moe", "dream" or "rnd1"
	Format        string // "safetensors" or "gguf"
	Path          string
	VocabSize     int
	ContextLength int
	Layers        int
	HiddenSize    int
	Experts       int
	// Special token ids resolved from the tokenizer (-1 when absent).
	MaskID, EOSID, RoleEndID int32
}

// Model is a loaded checkpoint: memory-mapped weights, the tokenizer and a worker pool.
// It is safe for concurrent use by many Sessions.
type Model struct {
	ck   *weights.Checkpoint
	net  *arch.Model
	tok  *tokenizer.Tokenizer
	info ModelInfo
	kv16 bool
	pad  int32 // the configuration's pad_token_id (RND1 fills its reserved last slot with it)
	// threads is the size of the worker pool, for the tools' reports.
	threads int

	// mu guards closed; generations hold it for reading so Close cannot unmap the
	// weights under a running forward pass.
	mu     sync.RWMutex
	closed bool
}

// Load opens a checkpoint of a supported family (LLaDA2, LLaDA, Dream, LLaDA-MoE, RND1;
// (*Model).DefaultOptions gives its recommended decoding settings): a Hugging Face directory (config.json, safetensors,
// tokenizer.json), a GGUF file, or a folder holding exactly one of those (such as a
// download with an hf/ subfolder). Weights are memory-mapped, not read: loading is fast
// and the pages fault in on first use, except for the matrices the kernels copy into a
// faster layout (see LoadOptions.NoRepack). The name DemoModel ("demo") loads the built-in
// demo model unless a file or folder of that name exists.
func Load(path string, opts LoadOptions) (*Model, error) {
	if opts.Threads < 0 || opts.Threads > MaxThreads {
		return nil, invalidf("dllm: Threads must be in [0,%d], got %d", MaxThreads, opts.Threads)
	}
	ck, err := checkpoint.Open(path)
	if err != nil {
		return nil, err
	}
	m, err := bindModel(ck, opts)
	if err != nil {
		ck.Close()
		return nil, err
	}
	return m, nil
}

func bindModel(ck *checkpoint.Checkpoint, opts LoadOptions) (*Model, error) {
	net, err := arch.Load(ck.Checkpoint, arch.LoadOptions{NoRepack: opts.NoRepack})
	if err != nil {
		return nil, err
	}
	cfg := net.Config()
	net = net.WithThreads(opts.Threads)
	tok, err := ck.LoadTokenizer()
	if err != nil {
		return nil, err
	}
	if tok.VocabSize() > cfg.VocabSize {
		return nil, fmt.Errorf("dllm: %s: tokenizer has %d tokens but the model's vocabulary is %d", ck.Path, tok.VocabSize(), cfg.VocabSize)
	}
	fam := arch.FamilyByName(cfg.Family)
	stated, ok := arch.MaskTokenID(ck.Checkpoint)
	if !ok || stated >= cfg.VocabSize {
		stated = -1
	}
	mask, eos, roleEnd, err := familySpecials(tok, fam, int32(stated))
	if err != nil {
		return nil, fmt.Errorf("dllm: %s: %w", ck.Path, err)
	}
	threads := opts.Threads
	if threads == 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	m := &Model{ck: ck.Checkpoint, net: net, tok: tok, kv16: opts.KVCacheF16, threads: threads, pad: int32(cfg.PadTokenID)}
	m.info = ModelInfo{
		Architecture: fam.Name, Format: ck.Format, Path: ck.Path,
		VocabSize: cfg.VocabSize, ContextLength: cfg.MaxPositionEmbeddings,
		Layers: cfg.NumLayers, HiddenSize: cfg.HiddenSize, Experts: cfg.NumExperts,
		MaskID: mask, EOSID: eos, RoleEndID: roleEnd,
	}
	return m, nil
}

// familySpecials resolves the mask, end-of-text and end-of-turn tokens: the roles the
// tokenizer files give (mask_token, eos_token) win, except an eos_token that is the
// family's end of turn; a role they leave open is the family's token of that name
// (LLaDA's <|mdm_mask|>, Dream's <|im_end|>, …), and the
// mask, failing that, the id the model's configuration states (stated, -1 for none:
// RND1's mask id has no text). A missing mask or end of text is an error, naming the
// token the family expects.
func familySpecials(tok *tokenizer.Tokenizer, fam *arch.Family, stated int32) (mask, eos, roleEnd int32, err error) {
	sp := tok.Specials()
	byName := func(id int32, name string) int32 {
		if id >= 0 || name == "" {
			return id
		}
		if v, ok := tok.ID(name); ok {
			return v
		}
		return -1
	}
	mask = byName(sp.Mask, fam.Specials.Mask)
	if mask < 0 {
		mask = stated
	}
	eos = byName(sp.EOS, fam.Specials.EOS)
	roleEnd = sp.RoleEnd
	if fam.Specials.RoleEnd != "" {
		roleEnd = byName(-1, fam.Specials.RoleEnd)
	}
	// A tokenizer whose eos_token is the end of a turn (LLaDA's names <|eot_id|>, while
	// its config's eos_token_id is <|endoftext|>) leaves the end of text to the family.
	if eos >= 0 && eos == roleEnd {
		if v := byName(-1, fam.Specials.EOS); v >= 0 {
			eos = v
		}
	}
	switch {
	case mask < 0 && fam.Specials.Mask == "":
		return 0, 0, 0, errors.New("neither the tokenizer nor the configuration (mask_token_id) gives a mask token, which diffusion decoding needs")
	case mask < 0:
		return 0, 0, 0, fmt.Errorf("the tokenizer has no %s token, which diffusion decoding needs", fam.Specials.Mask)
	case eos < 0:
		return 0, 0, 0, fmt.Errorf("the tokenizer has no end-of-text token (%s)", fam.Specials.EOS)
	case mask == eos || mask == roleEnd:
		return 0, 0, 0, fmt.Errorf("the mask token %d is also the end of text or of a turn", mask)
	}
	return mask, eos, roleEnd, nil
}

// Close releases the weights. Sessions of the model fail with ErrClosed afterwards; a
// generation in progress finishes first.
func (m *Model) Close() error {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	return m.ck.Close()
}

// usable reports why the model cannot run: closed, or its files changed on disk since
// loading (one fstat per file, so a truncated file is an error here rather than a
// SIGBUS in the forward pass). The caller holds m.mu for reading.
func (m *Model) usable() error {
	if m.closed {
		return ErrClosed
	}
	return m.ck.Verify()
}

func init() { modelview.Use = useInternals }

// The bidirectional families' decoders drive an arch.State through decode.WindowModel.
var _ decode.WindowModel = (*arch.State)(nil)

// useInternals is modelview.Use: it lends the tools the model's network and files for
// the duration of fn, under the same guard as a generation.
func useInternals(model any, fn func(modelview.View) error) error {
	m, ok := model.(*Model)
	if !ok || m == nil {
		return invalidf("dllm: a nil or foreign model (%T)", model)
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if err := m.usable(); err != nil {
		return err
	}
	return fn(modelview.View{Net: m.net, Checkpoint: m.ck, Threads: m.threads})
}

// Info describes the model.
func (m *Model) Info() ModelInfo { return m.info }

// Tokenizer returns the model's tokenizer, for what Tokenize and Detokenize do not cover:
// rendering a chat prompt (ApplyChat, EncodeChat), token pieces, the special token ids,
// streaming decoding.
func (m *Model) Tokenizer() *tokenizer.Tokenizer { return m.tok }

// Tokenize encodes text. With parseSpecial, special-token text such as <|role_end|> is
// recognised as the special token; otherwise it is encoded as ordinary text.
func (m *Model) Tokenize(text string, parseSpecial bool) ([]int32, error) {
	if !utf8.ValidString(text) {
		return nil, invalidf("dllm: text is not valid UTF-8")
	}
	if parseSpecial {
		return m.tok.Encode(text), nil
	}
	return m.tok.EncodePlain(text), nil
}

// Detokenize decodes ids to text, special tokens included.
func (m *Model) Detokenize(ids []int32) (string, error) {
	if err := invalid.CheckIDs(ids, m.info.VocabSize); err != nil {
		return "", err
	}
	return m.tok.Decode(ids), nil
}
