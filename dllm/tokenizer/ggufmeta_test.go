package tokenizer

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
)

// readGGUFMeta is a tiny test-only reader of a GGUF v2/v3 header: it returns
// the metadata key/values (strings, numbers, and arrays of them) and stops
// before the tensor infos. The real reader lives in dllm/internal/weights.
func readGGUFMeta(path string) (map[string]any, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := bufio.NewReader(f)
	var magic [4]byte
	if _, err := io.ReadFull(r, magic[:]); err != nil || string(magic[:]) != "GGUF" {
		return nil, fmt.Errorf("%s: not a GGUF file", path)
	}
	var hdr struct {
		Version uint32
		Tensors uint64
		KVs     uint64
	}
	if err := binary.Read(r, binary.LittleEndian, &hdr); err != nil {
		return nil, err
	}
	if hdr.Version < 2 || hdr.KVs > 1<<20 {
		return nil, fmt.Errorf("%s: unsupported GGUF version %d", path, hdr.Version)
	}
	u64 := func() (uint64, error) {
		var v uint64
		err := binary.Read(r, binary.LittleEndian, &v)
		return v, err
	}
	u32 := func() (uint32, error) {
		var v uint32
		err := binary.Read(r, binary.LittleEndian, &v)
		return v, err
	}
	str := func() (string, error) {
		n, err := u64()
		if err != nil {
			return "", err
		}
		if n > 1<<30 {
			return "", fmt.Errorf("string too long")
		}
		b := make([]byte, n)
		_, err = io.ReadFull(r, b)
		return string(b), err
	}
	var value func(typ uint32) (any, error)
	value = func(typ uint32) (any, error) {
		sizes := map[uint32]int{0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
		switch typ {
		case 8:
			return str()
		case 9:
			et, err := u32()
			if err != nil {
				return nil, err
			}
			n, err := u64()
			if err != nil {
				return nil, err
			}
			if n > 1<<28 {
				return nil, fmt.Errorf("array too long")
			}
			switch et {
			case 8:
				out := make([]string, n)
				for i := range out {
					if out[i], err = str(); err != nil {
						return nil, err
					}
				}
				return out, nil
			case 5:
				out := make([]int32, n)
				err := binary.Read(r, binary.LittleEndian, out)
				return out, err
			}
			out := make([]any, n)
			for i := range out {
				if out[i], err = value(et); err != nil {
					return nil, err
				}
			}
			return out, nil
		}
		sz, ok := sizes[typ]
		if !ok {
			return nil, fmt.Errorf("unknown GGUF type %d", typ)
		}
		b := make([]byte, sz)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, err
		}
		var v uint64
		for i := sz - 1; i >= 0; i-- {
			v = v<<8 | uint64(b[i])
		}
		switch typ {
		case 1:
			return int64(int8(v)), nil
		case 3:
			return int64(int16(v)), nil
		case 5:
			return int64(int32(v)), nil
		case 11:
			return int64(v), nil
		case 6:
			return float64(math.Float32frombits(uint32(v))), nil
		case 12:
			return math.Float64frombits(v), nil
		case 7:
			return v != 0, nil
		}
		return int64(v), nil
	}
	kv := map[string]any{}
	for i := uint64(0); i < hdr.KVs; i++ {
		key, err := str()
		if err != nil {
			return nil, err
		}
		typ, err := u32()
		if err != nil {
			return nil, err
		}
		v, err := value(typ)
		if err != nil {
			return nil, fmt.Errorf("%s: key %s: %w", path, key, err)
		}
		kv[key] = v
	}
	return kv, nil
}

// ggufVocabFromFile extracts GGUFVocab from a GGUF file with readGGUFMeta.
func ggufVocabFromFile(path string) (GGUFVocab, error) {
	kv, err := readGGUFMeta(path)
	if err != nil {
		return GGUFVocab{}, err
	}
	v := GGUFVocab{BOS: -1, EOS: -1, Pad: -1, Mask: -1}
	v.Model, _ = kv["tokenizer.ggml.model"].(string)
	v.Pre, _ = kv["tokenizer.ggml.pre"].(string)
	v.Tokens, _ = kv["tokenizer.ggml.tokens"].([]string)
	v.TokenTypes, _ = kv["tokenizer.ggml.token_type"].([]int32)
	v.Merges, _ = kv["tokenizer.ggml.merges"].([]string)
	v.ChatTemplate, _ = kv["tokenizer.chat_template"].(string)
	for key, dst := range map[string]*int{"bos": &v.BOS, "eos": &v.EOS, "padding": &v.Pad, "mask": &v.Mask} {
		if x, ok := kv["tokenizer.ggml."+key+"_token_id"].(int64); ok {
			*dst = int(x)
		}
	}
	if v.Model == "" {
		return v, fmt.Errorf("%s: no tokenizer metadata", path)
	}
	return v, nil
}
