// Package convert turns a Hugging Face checkpoint (config.json, safetensors, tokenizer
// files) of any family dllm runs into a GGUF file in the layout llama.cpp uses for that
// family, with the weight matrices stored as f32, f16, bf16, q8_0, q4_0, q4_k or q6_k:
// LLaDA2 as llama.cpp's LLaDA2 support expects it (arch.GGUFLayout), LLaDA, LLaDA-MoE,
// Dream and RND1 as llama.cpp's convert_hf_to_gguf.py writes them (arch.PlanHFGGUF:
// their f32 and q8_0 files are that converter's byte for byte).
//
// The conversion streams: tensors are read from the memory-mapped safetensors one chunk
// of rows at a time, converted, and appended to the output, so memory stays at a few
// megabytes of buffers whatever the model size (the source pages of each chunk are
// released once it is converted, so even the resident mapped file stays at a chunk).
//
// Checked against llama.cpp v0.5.0's llama-quantize on a synthetic model (f32 GGUF of
// the same weights in, Q8_0 / Q4_0 / Q6_K / Q4_K_S out): every tensor stored in the same
// type is byte-identical; the types differ only where the policies do (see TypeFor:
// llama-quantize puts the head in Q6_K for Q4_0, uses Q5_K for the fused QKV and Q5_0
// instead of Q8_0 as the K-quant fallback in Q4_K_S). The output appears under its name only once complete and synced.
package convert

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dllm-go/dllm/dllm/internal/arch"
	"github.com/dllm-go/dllm/dllm/internal/weights"
	"github.com/dllm-go/dllm/kernels"
)

// Options controls a conversion.
type Options struct {
	// Type is the storage type of the weight matrices: f32, f16, bf16, q8_0, q4_0, q4_k
	// or q6_k. Norms, the router and the expert bias are always f32.
	Type string
	// OutputType overrides the type of the LM head (output.weight); "" applies the
	// default policy (see TypeFor).
	OutputType string
	// Arch is general.architecture; "" is the family's. LLaDA2 takes "llada2" (its
	// default, llama.cpp's LLaDA2 branch) or "bailingmoe2" (what llama.cpp master loads;
	// same keys and tensors); the other families only their own.
	Arch string
	// Name is general.name; "" uses the source directory's name.
	Name string
	// Tokenizer is the directory holding tokenizer.json and tokenizer_config.json; ""
	// means the source directory (set it for weight-only directories such as a
	// re-sharded copy).
	Tokenizer string
	// Threads converts rows in parallel; 0 means GOMAXPROCS.
	Threads int
	// Progress, if set, is called after every chunk with the source bytes converted so
	// far and the total.
	Progress func(done, total int64)
}

// Summary describes a finished conversion.
type Summary struct {
	Tensors   int
	Types     map[string]int // tensor count per stored type
	Fallbacks []string       // "name: q4_k → q8_0 (row of 64)" for matrices that could not take the type
	InBytes   int64          // source tensor bytes
	OutBytes  int64          // size of the written file
	Elapsed   time.Duration
}

// ParseType maps a type name (case-insensitive) to a DType the converter writes.
func ParseType(s string) (weights.DType, error) {
	switch strings.ToLower(s) {
	case "f32":
		return weights.F32, nil
	case "f16":
		return weights.F16, nil
	case "bf16":
		return weights.BF16, nil
	case "q8_0":
		return weights.Q8_0, nil
	case "q4_0":
		return weights.Q4_0, nil
	case "q4_k", "q4_k_s", "q4_k_m":
		return weights.Q4_K, nil
	case "q6_k":
		return weights.Q6_K, nil
	}
	return weights.Invalid, fmt.Errorf("convert: unknown type %q (want f32, f16, bf16, q8_0, q4_0, q4_k or q6_k)", s)
}

// TypeFor picks the stored type of one tensor (GGUF name, row-major shape) of a file of
// type base. The policy, and why:
//
//   - 1-D tensors (norms, exp_probs_b.bias) and the router ffn_gate_inp stay f32, as in
//     llama.cpp's converter: they are tiny, and routing decisions are sensitive to them.
//   - output.weight is q6_k when base is q4_k, as llama-quantize does for every K-quant
//     type: the LM head's error shows directly in the logits and it costs one matrix.
//     For the other types every matrix, embeddings and head included, has the file's
//     type, like convert_hf_to_gguf.py --outtype and the fixture GGUFs.
//   - A matrix whose row length is not a whole number of blocks falls back: q4_k/q6_k
//     (256-element super-blocks) to q8_0 when rows are a multiple of 32, else f16;
//     q8_0/q4_0 to f16. (llama.cpp picks q5_0/q8_0 for the K-quant case; we have no
//     q5_0 kernels, and q8_0 loses less.) LLaDA2 mini/flash widths are all multiples of
//     256, so this only affects small test models.
func TypeFor(name string, shape []int, base, outputOverride weights.DType) (t weights.DType, fallback bool) {
	if len(shape) < 2 || strings.HasSuffix(name, "ffn_gate_inp.weight") {
		return weights.F32, false
	}
	t = base
	if name == "output.weight" {
		if outputOverride != weights.Invalid {
			t = outputOverride
		} else if base == weights.Q4_K {
			t = weights.Q6_K
		}
	}
	cols := shape[len(shape)-1]
	if cols%t.BlockElems() == 0 {
		return t, false
	}
	if t.BlockElems() == 256 && cols%32 == 0 {
		return weights.Q8_0, true
	}
	return weights.F16, true
}

// item is one output tensor: its GGUF name, shape and type, and the source tensors whose
// rows it is made of (one, or one per expert for the stacked expert tensors).
type item struct {
	name     string
	shape    []int
	dtype    weights.DType
	fallback bool
	parts    []*weights.Tensor
	permute  int // heads whose rows are reordered (arch.GGUFTensor.PermuteHeads); 0: none
}

// Convert converts the Hugging Face directory src to the GGUF file dst. On error
// or cancellation nothing is left at dst (nor any temporary file).
func Convert(ctx context.Context, src, dst string, o Options) (*Summary, error) {
	start := time.Now()
	base, err := ParseType(o.Type)
	if err != nil {
		return nil, err
	}
	outOverride := weights.Invalid
	if o.OutputType != "" {
		if outOverride, err = ParseType(o.OutputType); err != nil {
			return nil, err
		}
	}
	ck, err := weights.Open(src)
	if err != nil {
		return nil, err
	}
	defer ck.Close()
	if ck.Format != weights.FormatSafetensors {
		return nil, fmt.Errorf("convert: %s is a %s file; the converter reads a Hugging Face directory (config.json + safetensors)", src, ck.Format)
	}
	cfg, err := arch.LoadConfig(ck)
	if err != nil {
		return nil, err
	}
	fam := arch.FamilyByName(cfg.Family)
	if fam.Name != "llada2" && o.Arch != "" && o.Arch != fam.GGUFArchitectures[0] {
		return nil, fmt.Errorf("convert: architecture %q for a %s checkpoint (want %s)", o.Arch, fam.Title, fam.GGUFArchitectures[0])
	}
	tokDir := o.Tokenizer
	if tokDir == "" {
		tokDir = ck.Dir()
	}
	voc, err := readVocab(tokDir, cfg.VocabSize, cfg.PadTokenID)
	if err != nil {
		return nil, err
	}
	name := o.Name
	if name == "" {
		name = filepath.Base(filepath.Clean(src))
	}
	var (
		items []item
		meta  []weights.KV
	)
	if fam.Name == "llada2" {
		archName := o.Arch
		if archName == "" {
			archName = arch.GGUFArchitecture
		}
		if archName != arch.GGUFArchitecture && archName != arch.GGUFArchitectureAlias {
			return nil, fmt.Errorf("convert: architecture %q (want %s or %s)", archName, arch.GGUFArchitecture, arch.GGUFArchitectureAlias)
		}
		if items, err = plan(ck, &cfg, base, outOverride); err != nil {
			return nil, err
		}
		meta = metadata(&cfg, archName, name, base, voc)
	} else if meta, items, err = planFamily(ck, fam, &cfg, name, base, outOverride, voc); err != nil {
		return nil, err
	}

	sum := &Summary{Tensors: len(items), Types: map[string]int{}}
	infos := make([]weights.TensorInfo, len(items))
	for i, it := range items {
		infos[i] = weights.TensorInfo{Name: it.name, DType: it.dtype, Shape: it.shape}
		sum.Types[it.dtype.String()]++
		for _, p := range it.parts {
			sum.InBytes += int64(len(p.Data))
		}
		if it.fallback {
			sum.Fallbacks = append(sum.Fallbacks, fmt.Sprintf("%s: %s → %s (rows of %d)", it.name, base, it.dtype, it.shape[len(it.shape)-1]))
		}
	}
	out, err := weights.CreateGGUF(dst, meta, infos)
	if err != nil {
		return nil, err
	}
	threads := o.Threads
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	cv := &converter{ctx: ctx, threads: threads, total: sum.InBytes, progress: o.Progress}
	for _, it := range items {
		if err := out.WriteTensorFunc(it.name, func(w io.Writer) error { return cv.write(w, it) }); err != nil {
			out.Abort()
			return nil, err
		}
	}
	if err := out.Close(); err != nil {
		return nil, err
	}
	sum.OutBytes = fileSize(dst)
	sum.Elapsed = time.Since(start)
	return sum, nil
}

// plan lists the output tensors of a LLaDA2 file in the order of llama.cpp's converter
// (the fixture GGUFs): embeddings, then per layer attention, FFN (dense, or router,
// bias, stacked down/gate/up experts, shared experts), then the final norm and the head.
func plan(ck *weights.Checkpoint, cfg *arch.Config, base, outOverride weights.DType) ([]item, error) {
	_, hasBias := ck.Tensor("model.layers." + strconv.Itoa(cfg.FirstKDenseReplace) + ".mlp.gate.expert_bias")
	_, hasHead := ck.Tensor("lm_head.weight")
	return planItems(ck, arch.GGUFLayout(cfg, hasBias, hasHead || !cfg.TieWordEmbeddings), base, outOverride)
}

func equalShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// metadata builds the GGUF keys, in the order llama.cpp's converter writes them (the
// fixture GGUFs' order), from the config and the vocabulary.
func metadata(cfg *arch.Config, archName, name string, base weights.DType, v *vocab) []weights.KV {
	kv := arch.GGUFModelKeys(cfg, archName, name, weights.FileType(base), base.Quantized())
	put := func(k string, x any) { kv = append(kv, weights.KV{Key: k, Value: weights.MustValue(x)}) }
	put("tokenizer.ggml.model", "gpt2")
	put("tokenizer.ggml.pre", "bailingmoe2")
	put("tokenizer.ggml.tokens", v.tokens)
	put("tokenizer.ggml.token_type", v.types)
	put("tokenizer.ggml.merges", v.merges)
	for _, s := range []struct {
		key string
		id  int
	}{{"bos", v.bos}, {"eos", v.eos}, {"padding", v.pad}, {"mask", v.mask}} {
		if s.id >= 0 {
			put("tokenizer.ggml."+s.key+"_token_id", uint32(s.id))
		}
	}
	if v.hasAddBOS {
		put("tokenizer.ggml.add_bos_token", v.addBOS)
	}
	if v.hasAddEOS {
		put("tokenizer.ggml.add_eos_token", v.addEOS)
	}
	if v.chatTemplate != "" {
		put("tokenizer.chat_template", v.chatTemplate)
	}
	return kv
}

// converter turns source rows into output rows, chunk by chunk, in parallel.
type converter struct {
	ctx      context.Context
	threads  int
	done     int64
	total    int64
	progress func(done, total int64)
}

// chunkElems bounds the floats converted per chunk (per buffer: 4 MiB of float32), which
// is what keeps memory flat whatever the tensor size.
const chunkElems = 1 << 20

func (c *converter) write(w io.Writer, it item) error {
	cols := it.shape[len(it.shape)-1]
	if it.permute > 0 && len(it.shape) == 1 {
		cols = 1 // a permuted bias: its elements are the rows
	}
	outF, ok := it.dtype.Format()
	if !ok {
		return fmt.Errorf("no kernel format for %s", it.dtype)
	}
	outRB, err := outF.RowBytes(cols)
	if err != nil {
		return err
	}
	for _, t := range it.parts {
		inF, _ := t.DType.Format()
		inRB, err := inF.RowBytes(cols)
		if err != nil {
			return err
		}
		rows := len(t.Data) / inRB
		chunk := max(1, min(rows, chunkElems/cols))
		out := make([]byte, chunk*outRB)
		var gather []byte // the source rows of a chunk of a permuted tensor
		if it.permute > 0 {
			gather = make([]byte, chunk*inRB)
		}
		for r0 := 0; r0 < rows; r0 += chunk {
			if err := c.ctx.Err(); err != nil {
				return err
			}
			n := min(chunk, rows-r0)
			src := t.Data[r0*inRB : (r0+n)*inRB]
			if it.permute > 0 {
				d := rows / it.permute // rows of one head
				for i := 0; i < n; i++ {
					r := r0 + i
					h, j, s := r/d, r%d/2, r%2
					from := h*d + s*d/2 + j
					copy(gather[i*inRB:(i+1)*inRB], t.Data[from*inRB:(from+1)*inRB])
				}
				src = gather[:n*inRB]
			}
			dst := out[:n*outRB]
			if err := c.convertRows(dst, src, n, cols, inF, outF, inRB, outRB); err != nil {
				return err
			}
			if _, err := w.Write(dst); err != nil {
				return err
			}
			if it.permute == 0 {
				release(src)
			}
			c.done += int64(len(src))
			if c.progress != nil {
				c.progress(c.done, c.total)
			}
		}
	}
	return nil
}

// convertRows converts n rows, spreading them over the worker goroutines.
func (c *converter) convertRows(dst, src []byte, n, cols int, inF, outF kernels.Format, inRB, outRB int) error {
	if inF == outF {
		copy(dst, src) // same format: the bytes are already right (f32 norms, bf16 → bf16)
		return nil
	}
	workers := min(c.threads, n)
	per := (n + workers - 1) / workers
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for k := 0; k < workers; k++ {
		r0, r1 := k*per, min(n, (k+1)*per)
		if r0 >= r1 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			row := make([]float32, cols)
			for r := r0; r < r1; r++ {
				if err := kernels.Dequantize(inF, row, src[r*inRB:(r+1)*inRB]); err != nil {
					errs[k] = err
					return
				}
				if err := kernels.Quantize(outF, dst[r*outRB:(r+1)*outRB], row); err != nil {
					errs[k] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}
