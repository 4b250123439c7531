package convert

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/dllm-go/dllm/dllm/internal/arch"
	"github.com/dllm-go/dllm/dllm/internal/weights"
)

// planFamily lays out the GGUF of a family other than LLaDA2 as llama.cpp's
// convert_hf_to_gguf.py writes it (arch.PlanHFGGUF: keys and tensors; the tokenizer
// keys here, as its _set_vocab_gpt2 and gguf-py's SpecialVocab write them).
func planFamily(ck *weights.Checkpoint, f *arch.Family, cfg *arch.Config, name string, base, outOverride weights.DType, v *vocab) ([]weights.KV, []item, error) {
	mask := -1
	if id, ok := v.addedFirst[f.Specials.Mask]; ok && f.Specials.Mask != "" {
		mask = id
	} else if id, ok := arch.MaskTokenID(ck); ok {
		mask = id
	}
	p, err := arch.PlanHFGGUF(ck, f, cfg, name, weights.FileType(base), mask)
	if err != nil {
		return nil, nil, fmt.Errorf("convert: %s: %w", ck.Path, err)
	}
	if p.SpecialByFlag {
		// LLaDA's and Dream's converter classes type an added token by its special
		// flag alone: one that only looks special (<…>) is user-defined.
		for id, special := range v.added {
			if !special && v.types[id] == tokenControl {
				v.types[id] = tokenUserDefined
			}
		}
	}
	k := p.Keys
	k.Set("tokenizer.ggml.model", "gpt2")
	k.Set("tokenizer.ggml.pre", p.Pre)
	k.Set("tokenizer.ggml.tokens", v.tokens)
	k.Set("tokenizer.ggml.token_type", v.types)
	if len(v.merges) > 0 {
		k.Set("tokenizer.ggml.merges", v.merges)
	}
	if err := specialVocab(k, v, ck.Config, len(v.tokens)); err != nil {
		return nil, nil, err
	}
	if v.chatTemplate != "" {
		k.Set("tokenizer.chat_template", v.chatTemplate)
	}
	if p.AddBOS {
		k.Set("tokenizer.ggml.add_bos_token", true)
	}
	items, err := planItems(ck, p.Tensors, base, outOverride)
	return k.KVs(), items, err
}

// specialTypes are gguf-py SpecialVocab's token types in its order, with the GGUF key
// of each id ("" where its writer has no handler and skips it) and of its add_ flag.
var specialTypes = []struct{ typ, idKey, addKey string }{
	{"bos", "bos_token_id", "add_bos_token"},
	{"eos", "eos_token_id", "add_eos_token"},
	{"unk", "unknown_token_id", ""},
	{"sep", "seperator_token_id", "add_sep_token"}, // gguf-py's spelling
	{"pad", "padding_token_id", ""},
	{"cls", "", ""},
	{"mask", "mask_token_id", ""},
}

// specialVocab writes the special token ids and add_ flags as gguf-py's SpecialVocab
// does: first tokenizer_config.json's <typ>_token, looked up among tokenizer.json's
// added tokens; then config.json's <typ>_token_id for the types still unset; ids in
// the order they were found, then the add_<typ>_token flags tokenizer_config states.
func specialVocab(k *arch.GGUFKeys, v *vocab, config []byte, nVocab int) error {
	type found struct {
		key string
		id  int
	}
	var ids []found
	have := map[string]bool{}
	set := func(typ, key string, id any) error {
		n, ok := id.(float64)
		if !ok || have[typ] {
			return nil
		}
		if n < 0 || n != float64(int(n)) {
			return fmt.Errorf("convert: invalid id %v for the %s token", id, typ)
		}
		if int(n) < nVocab {
			have[typ] = true
			ids = append(ids, found{key, int(n)})
		}
		return nil
	}
	for _, s := range specialTypes {
		e, ok := v.tokConfig[s.typ+"_token"]
		if !ok {
			continue
		}
		if o, ok := e.(map[string]any); ok {
			e = o["content"]
		}
		text, ok := e.(string)
		if !ok {
			continue
		}
		if id, ok := v.addedFirst[text]; ok {
			if err := set(s.typ, s.idKey, float64(id)); err != nil {
				return err
			}
		}
	}
	var cfg map[string]any
	if err := json.Unmarshal(config, &cfg); err != nil {
		return fmt.Errorf("convert: config.json: %w", err)
	}
	for _, s := range specialTypes {
		if err := set(s.typ, s.idKey, cfg[s.typ+"_token_id"]); err != nil {
			return err
		}
	}
	for _, f := range ids {
		if f.key != "" {
			k.Set("tokenizer.ggml."+f.key, uint32(f.id))
		}
	}
	for _, s := range specialTypes {
		if b, ok := v.tokConfig["add_"+s.typ+"_token"].(bool); ok && s.addKey != "" {
			k.Set("tokenizer.ggml."+s.addKey, b)
		}
	}
	return nil
}

// planItems turns a layout into output items, checking every source tensor.
func planItems(ck *weights.Checkpoint, layout []arch.GGUFTensor, base, outOverride weights.DType) ([]item, error) {
	var items []item
	var missing []string
	get := func(hf string, shape ...int) *weights.Tensor {
		t, ok := ck.Tensor(hf)
		if !ok {
			missing = append(missing, hf)
			return nil
		}
		if !equalShape(t.Shape, shape) {
			missing = append(missing, fmt.Sprintf("%s (shape %v, want %v)", hf, t.Shape, shape))
			return nil
		}
		if _, ok := t.DType.Format(); !ok || t.DType.Quantized() {
			missing = append(missing, fmt.Sprintf("%s (dtype %s; want f32, f16 or bf16)", hf, t.DType))
			return nil
		}
		return t
	}
	for _, lt := range layout {
		dt, fb := TypeFor(lt.Name, lt.Shape, base, outOverride)
		it := item{name: lt.Name, shape: lt.Shape, dtype: dt, fallback: fb, permute: lt.PermuteHeads}
		part := lt.Shape
		if len(lt.HF) > 1 {
			part = lt.Shape[1:] // one expert of a stacked tensor
		}
		for _, hf := range lt.HF {
			it.parts = append(it.parts, get(hf, part...))
		}
		if it.permute > 0 && (lt.Shape[0]%(2*it.permute) != 0 || len(lt.Shape) > 2) {
			missing = append(missing, fmt.Sprintf("%s (shape %v does not split into %d heads of row pairs)", lt.HF[0], lt.Shape, it.permute))
		}
		items = append(items, it)
	}
	if len(missing) > 0 {
		if len(missing) > 5 {
			missing = append(missing[:5], fmt.Sprintf("and %d more", len(missing)-5))
		}
		return nil, fmt.Errorf("convert: %s: missing or unusable tensors: %s", ck.Path, strings.Join(missing, "; "))
	}
	return items, nil
}
