package corpus

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
)

// ggufLayout is where the numbers of a GGUF file are.
type ggufLayout struct {
	fields    []field
	bounds    map[int]string // section boundaries, for truncation
	infos     [][2]int       // byte range of each tensor info
	offsets   []field        // each tensor info's data offset
	names     []string       // each tensor's name
	types     []field        // each tensor's ggml type
	dataStart int
	align     uint64
}

// gguf value type ids (the format's).
const (
	gString  = 8
	gArray   = 9
	gFloat32 = 6
	gFloat64 = 12
)

var scalarWidth = map[uint32]int{0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}

// walkGGUF locates every header field of a valid GGUF file.
func walkGGUF(b []byte) (*ggufLayout, error) {
	l := &ggufLayout{bounds: map[int]string{}, align: 32}
	bound := func(at int, what string) {
		if _, ok := l.bounds[at]; !ok {
			l.bounds[at] = what
		}
	}
	off := 0
	num := func(name string, width int) (uint64, error) {
		if off+width > len(b) {
			return 0, errors.New("corpus: truncated GGUF")
		}
		f := field{name: name, off: off, width: width}
		off += width
		if name != "" {
			l.fields = append(l.fields, f)
		}
		return f.get(b), nil
	}
	str := func(name string) (string, error) {
		n, err := num(name, 8)
		if err != nil || n > uint64(len(b)-off) {
			return "", errors.New("corpus: bad GGUF string")
		}
		s := string(b[off : off+int(n)])
		off += int(n)
		return s, nil
	}
	var value func(name string, typ uint32, depth int) error
	value = func(name string, typ uint32, depth int) error {
		if w, ok := scalarWidth[typ]; ok {
			if name == "" {
				off += w
				return nil
			}
			_, err := num(name, w)
			if err == nil && (typ == gFloat32 || typ == gFloat64) {
				l.fields[len(l.fields)-1].float = true
			}
			return err
		}
		switch typ {
		case gString:
			if name != "" {
				name += " length"
			}
			_, err := str(name)
			return err
		case gArray:
			et, err := num(name+" element type", 4)
			if err != nil {
				return err
			}
			n, err := num(name+" count", 8)
			if err != nil || n > uint64(len(b)) {
				return errors.New("corpus: bad GGUF array")
			}
			// Elements are not mutated one by one (a vocabulary has thousands).
			for i := uint64(0); i < n; i++ {
				if err := value("", uint32(et), depth+1); err != nil {
					return err
				}
			}
			return nil
		}
		return fmt.Errorf("corpus: GGUF value type %d", typ)
	}
	if _, err := num("", 4); err != nil { // magic
		return nil, err
	}
	num("header version", 4)
	nt, _ := num("header tensor count", 8)
	nkv, err := num("header key/value count", 8)
	if err != nil || nt > uint64(len(b)) || nkv > uint64(len(b)) {
		return nil, errors.New("corpus: bad GGUF header")
	}
	bound(off, "after the header")
	for i := uint64(0); i < nkv; i++ {
		start := off
		key, err := str(fmt.Sprintf("kv %d key", i))
		if err != nil {
			return nil, err
		}
		typ, err := num("kv "+key+" type", 4)
		if err != nil {
			return nil, err
		}
		if key == "general.alignment" && typ == 4 {
			l.align = uint64(binary.LittleEndian.Uint32(b[off:]))
		}
		if err := value("kv "+key+" value", uint32(typ), 0); err != nil {
			return nil, err
		}
		bound(start, "before key "+key)
	}
	bound(off, "after the metadata")
	for i := uint64(0); i < nt; i++ {
		start := off
		name, err := str(fmt.Sprintf("tensor %d name", i))
		if err != nil {
			return nil, err
		}
		nd, err := num("tensor "+name+" dims", 4)
		if err != nil || nd > 8 {
			return nil, errors.New("corpus: bad GGUF tensor info")
		}
		for d := uint64(0); d < nd; d++ {
			num(fmt.Sprintf("tensor %s dim %d", name, d), 8)
		}
		num("tensor "+name+" type", 4)
		l.types = append(l.types, l.fields[len(l.fields)-1])
		l.names = append(l.names, name)
		if _, err := num("tensor "+name+" offset", 8); err != nil {
			return nil, err
		}
		l.offsets = append(l.offsets, l.fields[len(l.fields)-1])
		l.infos = append(l.infos, [2]int{start, off})
		bound(start, "before tensor info "+name)
	}
	bound(off, "after the tensor infos")
	l.dataStart = int((uint64(off) + l.align - 1) / l.align * l.align)
	bound(l.dataStart, "at the data section")
	for _, f := range l.offsets {
		at := l.dataStart + int(f.get(b))
		bound(at, "at the data of "+f.name)
	}
	return l, nil
}

// GGUF derives hostile files from a valid GGUF file: every header field (counts, key
// lengths, value types, metadata values, tensor dimensions, types and offsets) set to
// each hostile value, truncations at every section boundary, each tensor info dropped
// (the data then sits one info off), and all offsets shifted by the alignment.
func GGUF(data []byte) ([]Case, error) {
	l, err := walkGGUF(data)
	if err != nil {
		return nil, err
	}
	cs := mutateFields(data, l.fields)
	cs = append(cs, truncations(data, l.bounds)...)
	for i, r := range l.infos {
		cs = append(cs, Case{fmt.Sprintf("tensor info %d dropped, its data kept", i), func() []byte {
			b := append(append([]byte(nil), data[:r[0]]...), data[r[1]:]...)
			binary.LittleEndian.PutUint64(b[8:], binary.LittleEndian.Uint64(b[8:])-1)
			return b
		}})
	}
	cs = append(cs, Case{"every tensor offset shifted by the alignment", func() []byte {
		b := append([]byte(nil), data...)
		for _, f := range l.offsets {
			f.put(b, f.get(b)+l.align)
		}
		return b
	}})
	return cs, nil
}

// firstValue is where a tensor of each ggml type keeps its first value, or the scale of
// its first block, and that value's encoding: 4 for float32, 2 for f16, -2 for bf16.
var firstValue = map[uint64]struct{ off, enc int }{
	0: {0, 4}, 1: {0, 2}, 30: {0, -2}, // f32, f16, bf16
	2: {0, 2}, 8: {0, 2}, 12: {0, 2}, // q4_0, q8_0, q4_K: d first
	14: {208, 2}, // q6_K: d after the quants and scales
}

// GGUFValues derives well-formed files holding a non-finite weight: each tensor's first
// value (its first element, or the scale of its first block) set to NaN and to +Inf.
// A loader may refuse them; a forward must report the value, unless it never reads it.
func GGUFValues(data []byte) ([]Case, error) {
	l, err := walkGGUF(data)
	if err != nil {
		return nil, err
	}
	var cs []Case
	for i, name := range l.names {
		fv, ok := firstValue[l.types[i].get(data)]
		at := l.dataStart + int(l.offsets[i].get(data)) + fv.off
		if !ok || at+max(fv.enc, -fv.enc) > len(data) {
			continue
		}
		for _, v := range []struct {
			name string
			f32  uint32
		}{{"NaN", 0x7fc00000}, {"+Inf", 0x7f800000}} {
			cs = append(cs, Case{fmt.Sprintf("tensor %s first value %s", name, v.name), func() []byte {
				b := append([]byte(nil), data...)
				switch fv.enc {
				case 4:
					binary.LittleEndian.PutUint32(b[at:], v.f32)
				case -2:
					binary.LittleEndian.PutUint16(b[at:], uint16(v.f32>>16))
				default: // f16: the exponent all ones, a quiet NaN's top mantissa bit
					binary.LittleEndian.PutUint16(b[at:], uint16(0x7c00|(v.f32>>13)&0x3ff))
				}
				return b
			}})
		}
	}
	return cs, nil
}

func sortedKeys(m map[int]string) []int {
	ks := make([]int, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Ints(ks)
	return ks
}
