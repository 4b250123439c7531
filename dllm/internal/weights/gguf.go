package weights

import (
	"encoding/binary"
	"fmt"
	"math"
	"sort"
)

// GGUF format constants.
const (
	ggufMagic            = 0x46554747 // "GGUF" read as a little-endian uint32
	ggufDefaultAlignment = 32
	ggufMaxDims          = 4  // GGML_MAX_DIMS
	ggufMaxNesting       = 16 // arrays of arrays deeper than this are rejected, bounding recursion
	// ggufMaxAlignment bounds general.alignment so that padding arithmetic cannot overflow.
	ggufMaxAlignment = 1 << 30
)

// KeyAlignment is the metadata key holding the tensor-data alignment.
const KeyAlignment = "general.alignment"

// GGUF is a parsed GGUF file: its metadata and tensor views into the data it was parsed
// from.
type GGUF struct {
	Version    uint32
	Alignment  int
	Meta       *Metadata
	Tensors    []Tensor // in the order of the file's tensor infos
	DataOffset int64    // start of the tensor data section
	Offsets    []int64  // Offsets[i] is Tensors[i]'s offset relative to DataOffset
}

// ggufReader decodes little-endian GGUF fields, checking every length against the bytes
// that remain. After the first error all reads return zero values and err keeps the cause.
type ggufReader struct {
	data []byte
	off  int
	err  error
}

func (r *ggufReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("at byte %d: %s", r.off, fmt.Sprintf(format, args...))
	}
}

func (r *ggufReader) remaining() int { return len(r.data) - r.off }

func (r *ggufReader) bytes(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > r.remaining() {
		r.fail("need %d bytes, only %d left (truncated file?)", n, r.remaining())
		return nil
	}
	b := r.data[r.off : r.off+n]
	r.off += n
	return b
}

func (r *ggufReader) u8() uint8 {
	if b := r.bytes(1); b != nil {
		return b[0]
	}
	return 0
}

func (r *ggufReader) u16() uint16 {
	if b := r.bytes(2); b != nil {
		return binary.LittleEndian.Uint16(b)
	}
	return 0
}

func (r *ggufReader) u32() uint32 {
	if b := r.bytes(4); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

func (r *ggufReader) u64() uint64 {
	if b := r.bytes(8); b != nil {
		return binary.LittleEndian.Uint64(b)
	}
	return 0
}

// count reads a u64 element count and checks that count elements of at least minSize
// bytes each fit in the rest of the file: this is what keeps a hostile count (2^60
// tensors, a 4 GB string) from turning into a huge allocation.
func (r *ggufReader) count(what string, minSize int) int {
	n := r.u64()
	if r.err != nil {
		return 0
	}
	if minSize < 1 {
		minSize = 1
	}
	if n > uint64(r.remaining()/minSize) {
		r.off -= 8
		r.fail("%s count %d exceeds what the remaining %d bytes can hold", what, n, r.remaining())
		return 0
	}
	return int(n)
}

// str reads a length-prefixed string; what (a constant) names it in errors.
func (r *ggufReader) str(what string) string {
	n := r.count(what, 1)
	return string(r.bytes(n))
}

// strs reads n strings into one shared backing allocation: a tokenizer vocabulary has
// hundreds of thousands of short strings, and one allocation instead of one per string
// is most of the difference between a slow and a fast open.
func (r *ggufReader) strs(n int) []string {
	start := r.off
	total := 0
	for i := 0; i < n && r.err == nil; i++ {
		l := r.count("string length", 1)
		r.bytes(l)
		total += l
	}
	if r.err != nil {
		return nil
	}
	buf := make([]byte, 0, total)
	for off := start; off < r.off; {
		l := int(binary.LittleEndian.Uint64(r.data[off:]))
		buf = append(buf, r.data[off+8:off+8+l]...)
		off += 8 + l
	}
	all := string(buf)
	out := make([]string, n)
	pos := 0
	for i, off := 0, start; i < n; i++ {
		l := int(binary.LittleEndian.Uint64(r.data[off:]))
		out[i] = all[pos : pos+l]
		pos += l
		off += 8 + l
	}
	return out
}

// lazyStrs validates n strings and keeps a copy of their encoding for lazy decoding.
func (r *ggufReader) lazyStrs(n int) *lazyStrings {
	start := r.off
	for i := 0; i < n && r.err == nil; i++ {
		r.bytes(r.count("string length", 1))
	}
	if r.err != nil {
		return nil
	}
	return &lazyStrings{raw: string(r.data[start:r.off]), n: n}
}

// fixed reads n fixed-size elements of size bytes each with one bounds check, decoding
// each with dec.
func fixed[T any](r *ggufReader, n, size int, dec func([]byte) T) []T {
	b := r.bytes(n * size) // n*size cannot overflow: count() bounded n by the bytes left
	if b == nil {
		return nil
	}
	out := make([]T, n)
	for i := range out {
		out[i] = dec(b[i*size:])
	}
	return out
}

// value decodes one metadata value of type t.
func (r *ggufReader) value(t ValueType, depth int) Value {
	switch t {
	case TypeUint8:
		return Value{typ: t, x: r.u8()}
	case TypeInt8:
		return Value{typ: t, x: int8(r.u8())}
	case TypeUint16:
		return Value{typ: t, x: r.u16()}
	case TypeInt16:
		return Value{typ: t, x: int16(r.u16())}
	case TypeUint32:
		return Value{typ: t, x: r.u32()}
	case TypeInt32:
		return Value{typ: t, x: int32(r.u32())}
	case TypeFloat32:
		return Value{typ: t, x: math.Float32frombits(r.u32())}
	case TypeUint64:
		return Value{typ: t, x: r.u64()}
	case TypeInt64:
		return Value{typ: t, x: int64(r.u64())}
	case TypeFloat64:
		return Value{typ: t, x: math.Float64frombits(r.u64())}
	case TypeBool:
		b := r.u8()
		if b > 1 {
			r.off--
			r.fail("bool value %d is neither 0 nor 1", b)
		}
		return Value{typ: t, x: b == 1}
	case TypeString:
		return Value{typ: t, x: r.str("string length")}
	case TypeArray:
		return r.array(depth)
	}
	r.off -= 4
	r.fail("unknown metadata value type %d", uint32(t))
	return Value{}
}

func (r *ggufReader) array(depth int) Value {
	if depth >= ggufMaxNesting {
		r.fail("arrays nested deeper than %d", ggufMaxNesting)
		return Value{}
	}
	et := ValueType(r.u32())
	if r.err != nil {
		return Value{}
	}
	if et >= numValueTypes {
		r.off -= 4
		r.fail("unknown array element type %d", uint32(et))
		return Value{}
	}
	n := r.count("array element", et.minSize())
	if r.err != nil {
		return Value{}
	}
	v := Value{typ: TypeArray, elem: et}
	le := binary.LittleEndian
	switch et {
	case TypeUint8:
		v.x = fixed(r, n, 1, func(b []byte) uint8 { return b[0] })
	case TypeInt8:
		v.x = fixed(r, n, 1, func(b []byte) int8 { return int8(b[0]) })
	case TypeUint16:
		v.x = fixed(r, n, 2, le.Uint16)
	case TypeInt16:
		v.x = fixed(r, n, 2, func(b []byte) int16 { return int16(le.Uint16(b)) })
	case TypeUint32:
		v.x = fixed(r, n, 4, le.Uint32)
	case TypeInt32:
		v.x = fixed(r, n, 4, func(b []byte) int32 { return int32(le.Uint32(b)) })
	case TypeFloat32:
		v.x = fixed(r, n, 4, func(b []byte) float32 { return math.Float32frombits(le.Uint32(b)) })
	case TypeUint64:
		v.x = fixed(r, n, 8, le.Uint64)
	case TypeInt64:
		v.x = fixed(r, n, 8, func(b []byte) int64 { return int64(le.Uint64(b)) })
	case TypeFloat64:
		v.x = fixed(r, n, 8, func(b []byte) float64 { return math.Float64frombits(le.Uint64(b)) })
	case TypeBool:
		v.x = fill(n, func() bool { b, _ := r.value(TypeBool, depth).Bool(); return b })
	case TypeString:
		if n >= lazyStringsMin {
			v.x = r.lazyStrs(n)
		} else {
			v.x = r.strs(n)
		}
	case TypeArray:
		v.x = fill(n, func() Value { return r.array(depth + 1) })
	}
	return v
}

// fill reads n elements, stopping early (with a short slice) once the reader has failed.
func fill[T any](n int, read func() T) []T {
	out := make([]T, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, read())
	}
	return out
}

// ParseGGUF parses a GGUF v2 or v3 file held in data. file names the file in errors. The
// returned tensors are views into data; nothing beyond the header is read.
func ParseGGUF(data []byte, file string) (*GGUF, error) {
	g, err := parseGGUF(data)
	if err != nil {
		return nil, fmt.Errorf("gguf %s: %w", file, err)
	}
	for i := range g.Tensors {
		g.Tensors[i].File = file
	}
	return g, nil
}

func parseGGUF(data []byte) (*GGUF, error) {
	r := &ggufReader{data: data}
	if magic := r.u32(); r.err == nil && magic != ggufMagic {
		return nil, fmt.Errorf("not a GGUF file (magic %#08x)", magic)
	}
	version := r.u32()
	if r.err == nil && version != 2 && version != 3 {
		return nil, fmt.Errorf("unsupported GGUF version %d (want 2 or 3)", version)
	}
	// Every tensor info takes at least a name length, n_dims, type and offset.
	nTensors := r.count("tensor", 8+4+4+8)
	// Every key/value takes at least a key length, a type and one byte of value.
	nKV := r.count("metadata key/value", 8+4+1)
	if r.err != nil {
		return nil, r.err
	}
	g := &GGUF{Version: version, Alignment: ggufDefaultAlignment}
	g.Meta = &Metadata{kvs: make([]KV, 0, nKV), idx: make(map[string]int, nKV)}
	for i := 0; i < nKV; i++ {
		key := r.str("key length")
		t := ValueType(r.u32())
		v := r.value(t, 0)
		if r.err != nil {
			return nil, fmt.Errorf("metadata entry %d (%s): %w", i, Quote(key), r.err)
		}
		if err := g.Meta.add(KV{key, v}); err != nil {
			return nil, err
		}
	}
	if v, ok := g.Meta.Get(KeyAlignment); ok {
		a, ok := v.Uint()
		if !ok || a == 0 || a > ggufMaxAlignment || a&(a-1) != 0 {
			return nil, fmt.Errorf("%s = %v is not a power of two up to %d", KeyAlignment, v, ggufMaxAlignment)
		}
		g.Alignment = int(a)
	}

	type info struct {
		t   Tensor
		off uint64
	}
	infos := make([]info, 0, nTensors)
	names := make(map[string]struct{}, nTensors)
	for i := 0; i < nTensors; i++ {
		name := r.str("tensor name length")
		nd := r.u32()
		if r.err != nil {
			return nil, fmt.Errorf("tensor info %d: %w", i, r.err)
		}
		if nd > ggufMaxDims {
			return nil, fmt.Errorf("tensor %s: %d dimensions (at most %d)", Quote(name), nd, ggufMaxDims)
		}
		shape := make([]int, nd)
		for j := range shape {
			d := r.u64()
			if d > math.MaxInt32*uint64(math.MaxInt32) { // far beyond any file, well inside int64
				return nil, fmt.Errorf("tensor %s: dimension %d = %d is absurd", Quote(name), j, d)
			}
			shape[int(nd)-1-j] = int(d) // ggml lists the innermost dimension first
		}
		typ := r.u32()
		off := r.u64()
		if r.err != nil {
			return nil, fmt.Errorf("tensor %s: %w", Quote(name), r.err)
		}
		dt, ok := DTypeFromGGUF(typ)
		if !ok {
			return nil, fmt.Errorf("tensor %s: unknown tensor type %d", Quote(name), typ)
		}
		if _, dup := names[name]; dup {
			return nil, fmt.Errorf("tensor %s appears twice", Quote(name))
		}
		names[name] = struct{}{}
		infos = append(infos, info{Tensor{Name: name, DType: dt, Shape: shape}, off})
	}

	dataOff := alignUp(int64(r.off), int64(g.Alignment))
	g.DataOffset = dataOff
	avail := int64(len(data)) - dataOff // may be negative when a file has no tensor data
	g.Tensors = make([]Tensor, len(infos))
	g.Offsets = make([]int64, len(infos))
	for i, in := range infos {
		t := in.t
		size, err := t.DType.ByteSize(t.Shape, max(avail, 0))
		if err != nil {
			return nil, fmt.Errorf("tensor %s: %w", Quote(t.Name), err)
		}
		if in.off%uint64(g.Alignment) != 0 {
			return nil, fmt.Errorf("tensor %s: offset %d is not a multiple of the alignment %d", Quote(t.Name), in.off, g.Alignment)
		}
		if size > 0 && (in.off > uint64(max(avail, 0)) || int64(in.off) > avail-size) {
			return nil, fmt.Errorf("tensor %s: bytes [%d, %d) of the data section run past the end of the file (%d data bytes)",
				Quote(t.Name), in.off, in.off+uint64(size), max(avail, 0))
		}
		if size > 0 {
			start := dataOff + int64(in.off)
			t.Data = data[start : start+size : start+size]
		} else {
			t.Data = []byte{}
		}
		g.Tensors[i] = t
		g.Offsets[i] = int64(in.off)
	}
	if err := checkLayout(g.Tensors, g.Offsets, avail, int64(g.Alignment)); err != nil {
		return nil, err
	}
	return g, nil
}

// checkLayout checks that the tensors tile the data section of n bytes: sorted by
// offset, each starts where the previous one ends (or after fewer than align bytes of
// padding), the first at 0, and the last ends within align bytes of the end. Overlaps
// would alias weights; a gap or a tail means a tensor is missing from the header or
// every offset is shifted, and the weights would silently be read off by that much.
// Empty tensors occupy nothing.
func checkLayout(ts []Tensor, offs []int64, n int64, align int64) error {
	order := make([]int, 0, len(ts))
	for i := range ts {
		if len(ts[i].Data) > 0 {
			order = append(order, i)
		}
	}
	sort.Slice(order, func(a, b int) bool { return offs[order[a]] < offs[order[b]] })
	end, prev := int64(0), -1
	for _, c := range order {
		switch {
		case offs[c] < end:
			return fmt.Errorf("tensor %s (bytes %d..%d) overlaps tensor %s (bytes %d..%d)",
				Quote(ts[c].Name), offs[c], offs[c]+int64(len(ts[c].Data)), Quote(ts[prev].Name), offs[prev], end)
		case offs[c]-end >= align:
			return fmt.Errorf("bytes %d..%d of the data section, before tensor %s, belong to no tensor (a tensor missing from the header, or shifted offsets?)",
				end, offs[c], Quote(ts[c].Name))
		}
		end, prev = offs[c]+int64(len(ts[c].Data)), c
	}
	if n-end >= align {
		return fmt.Errorf("the last %d bytes of the data section (from byte %d) belong to no tensor (a tensor missing from the header, or shifted offsets?)", n-end, end)
	}
	return nil
}

func alignUp(n, a int64) int64 { return (n + a - 1) / a * a }
