package weights

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
)

// ValueType is the type tag of a GGUF metadata value (the gguf_type ids of the format).
type ValueType uint32

// GGUF metadata value types, numbered as in the file format.
const (
	TypeUint8     ValueType = 0
	TypeInt8      ValueType = 1
	TypeUint16    ValueType = 2
	TypeInt16     ValueType = 3
	TypeUint32    ValueType = 4
	TypeInt32     ValueType = 5
	TypeFloat32   ValueType = 6
	TypeBool      ValueType = 7
	TypeString    ValueType = 8
	TypeArray     ValueType = 9
	TypeUint64    ValueType = 10
	TypeInt64     ValueType = 11
	TypeFloat64   ValueType = 12
	numValueTypes ValueType = 13
)

var valueTypeNames = [numValueTypes]string{
	"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "bool", "string",
	"array", "uint64", "int64", "float64",
}

func (t ValueType) String() string {
	if t < numValueTypes {
		return valueTypeNames[t]
	}
	return fmt.Sprintf("ValueType(%d)", uint32(t))
}

// fixedSize is the encoded size of a scalar of type t, 0 for strings and arrays.
func (t ValueType) fixedSize() int {
	switch t {
	case TypeUint8, TypeInt8, TypeBool:
		return 1
	case TypeUint16, TypeInt16:
		return 2
	case TypeUint32, TypeInt32, TypeFloat32:
		return 4
	case TypeUint64, TypeInt64, TypeFloat64:
		return 8
	}
	return 0
}

// minSize is the fewest bytes one encoded value of type t can occupy; the parser divides
// the remaining bytes by it to reject absurd element counts before allocating.
func (t ValueType) minSize() int {
	switch t {
	case TypeString:
		return 8 // u64 length
	case TypeArray:
		return 4 + 8 // element type + count
	}
	return t.fixedSize()
}

// Value is one GGUF metadata value. Scalars hold the Go type of their tag (uint8 … float64,
// bool, string); arrays of scalars hold a Go slice of it; arrays of arrays hold []Value.
// Values are immutable and own their memory (nothing aliases the file mapping), so they
// stay valid after the Checkpoint is closed.
type Value struct {
	typ  ValueType
	elem ValueType // element type when typ == TypeArray
	x    any
}

// MakeValue builds a Value from a Go value: uint8, int8, uint16, int16, uint32, int32,
// float32, bool, string, uint64, int64, float64, a slice of one of those, or []Value whose
// elements are all arrays (a nested array). Plain int is not accepted because GGUF has no
// platform-sized integer: the caller must choose the width.
func MakeValue(v any) (Value, error) {
	switch x := v.(type) {
	case uint8:
		return Value{typ: TypeUint8, x: x}, nil
	case int8:
		return Value{typ: TypeInt8, x: x}, nil
	case uint16:
		return Value{typ: TypeUint16, x: x}, nil
	case int16:
		return Value{typ: TypeInt16, x: x}, nil
	case uint32:
		return Value{typ: TypeUint32, x: x}, nil
	case int32:
		return Value{typ: TypeInt32, x: x}, nil
	case float32:
		return Value{typ: TypeFloat32, x: x}, nil
	case bool:
		return Value{typ: TypeBool, x: x}, nil
	case string:
		return Value{typ: TypeString, x: x}, nil
	case uint64:
		return Value{typ: TypeUint64, x: x}, nil
	case int64:
		return Value{typ: TypeInt64, x: x}, nil
	case float64:
		return Value{typ: TypeFloat64, x: x}, nil
	case []uint8:
		return Value{typ: TypeArray, elem: TypeUint8, x: x}, nil
	case []int8:
		return Value{typ: TypeArray, elem: TypeInt8, x: x}, nil
	case []uint16:
		return Value{typ: TypeArray, elem: TypeUint16, x: x}, nil
	case []int16:
		return Value{typ: TypeArray, elem: TypeInt16, x: x}, nil
	case []uint32:
		return Value{typ: TypeArray, elem: TypeUint32, x: x}, nil
	case []int32:
		return Value{typ: TypeArray, elem: TypeInt32, x: x}, nil
	case []float32:
		return Value{typ: TypeArray, elem: TypeFloat32, x: x}, nil
	case []bool:
		return Value{typ: TypeArray, elem: TypeBool, x: x}, nil
	case []string:
		return Value{typ: TypeArray, elem: TypeString, x: x}, nil
	case []uint64:
		return Value{typ: TypeArray, elem: TypeUint64, x: x}, nil
	case []int64:
		return Value{typ: TypeArray, elem: TypeInt64, x: x}, nil
	case []float64:
		return Value{typ: TypeArray, elem: TypeFloat64, x: x}, nil
	case []Value:
		for i, e := range x {
			if e.typ != TypeArray {
				return Value{}, fmt.Errorf("gguf: nested array element %d is a %s, not an array", i, e.typ)
			}
		}
		return Value{typ: TypeArray, elem: TypeArray, x: x}, nil
	}
	return Value{}, fmt.Errorf("gguf: no metadata type for Go type %T", v)
}

// MustValue is MakeValue for values known to be valid (constants in generators and tests).
func MustValue(v any) Value {
	val, err := MakeValue(v)
	if err != nil {
		panic(err)
	}
	return val
}

// Equal reports whether v and w have the same type and contents. Use it rather than
// reflect.DeepEqual, which sees a lazily decoded vocabulary and its decoded form as
// different (and NaN as unequal to itself; Equal compares floats by bits).
func (v Value) Equal(w Value) bool {
	if v.typ != w.typ || (v.typ == TypeArray && v.elem != w.elem) || v.Len() != w.Len() {
		return false
	}
	if v.typ != TypeArray {
		switch x := v.x.(type) {
		case float32:
			y, ok := w.x.(float32)
			return ok && math.Float32bits(x) == math.Float32bits(y)
		case float64:
			y, ok := w.x.(float64)
			return ok && math.Float64bits(x) == math.Float64bits(y)
		}
		return v.x == w.x
	}
	for i := 0; i < v.Len(); i++ {
		if !v.Index(i).Equal(w.Index(i)) {
			return false
		}
	}
	return true
}

// Type is the value's type tag.
func (v Value) Type() ValueType { return v.typ }

// ElemType is the element type of an array (meaningless for scalars).
func (v Value) ElemType() ValueType { return v.elem }

// Interface returns the underlying Go value (see Value).
func (v Value) Interface() any { return v.resolved().x }

// lazyStrings is a large string array kept as its encoded bytes (copied out of the file,
// so it outlives the mapping) and split into strings on first use. A tokenizer vocabulary
// holds hundreds of thousands of strings; decoding them when a program that only wants
// the tensors opens the file would dominate the open time.
type lazyStrings struct {
	raw  string // n × (u64 length, bytes), already validated
	n    int
	once sync.Once
	s    []string
}

// lazyStringsMin is the array length from which string arrays are decoded lazily.
const lazyStringsMin = 4096

func (l *lazyStrings) strings() []string {
	l.once.Do(func() {
		l.s = make([]string, l.n)
		off := 0
		for i := range l.s {
			n := int(binary.LittleEndian.Uint64([]byte(l.raw[off : off+8])))
			l.s[i] = l.raw[off+8 : off+8+n]
			off += 8 + n
		}
	})
	return l.s
}

// resolved replaces a lazy string array by its decoded form.
func (v Value) resolved() Value {
	if l, ok := v.x.(*lazyStrings); ok {
		v.x = l.strings()
	}
	return v
}

// Uint returns an integer value as uint64; ok is false for non-integers and negatives.
func (v Value) Uint() (uint64, bool) {
	switch x := v.x.(type) {
	case uint8:
		return uint64(x), true
	case uint16:
		return uint64(x), true
	case uint32:
		return uint64(x), true
	case uint64:
		return x, true
	}
	if i, ok := v.signed(); ok && i >= 0 {
		return uint64(i), true
	}
	return 0, false
}

// Int returns an integer value as int64; ok is false for non-integers and uint64 values
// above MaxInt64.
func (v Value) Int() (int64, bool) {
	if i, ok := v.signed(); ok {
		return i, true
	}
	switch x := v.x.(type) {
	case uint8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x), true
		}
	}
	return 0, false
}

func (v Value) signed() (int64, bool) {
	switch x := v.x.(type) {
	case int8:
		return int64(x), true
	case int16:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	}
	return 0, false
}

// Float returns a float32 or float64 value as float64 (float32 widened exactly).
func (v Value) Float() (float64, bool) {
	switch x := v.x.(type) {
	case float32:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

// Bool returns a bool value.
func (v Value) Bool() (bool, bool) {
	b, ok := v.x.(bool)
	return b, ok
}

// Str returns a string value. (String formats any value for display.)
func (v Value) Str() (string, bool) {
	s, ok := v.x.(string)
	return s, ok
}

// Len is the number of elements of an array, 0 for scalars.
func (v Value) Len() int {
	if v.typ != TypeArray {
		return 0
	}
	switch x := v.x.(type) {
	case *lazyStrings:
		return x.n
	case []uint8:
		return len(x)
	case []int8:
		return len(x)
	case []uint16:
		return len(x)
	case []int16:
		return len(x)
	case []uint32:
		return len(x)
	case []int32:
		return len(x)
	case []float32:
		return len(x)
	case []bool:
		return len(x)
	case []string:
		return len(x)
	case []uint64:
		return len(x)
	case []int64:
		return len(x)
	case []float64:
		return len(x)
	case []Value:
		return len(x)
	}
	return 0
}

// Index returns element i of an array as a Value.
func (v Value) Index(i int) Value {
	switch x := v.resolved().x.(type) {
	case []uint8:
		return Value{typ: TypeUint8, x: x[i]}
	case []int8:
		return Value{typ: TypeInt8, x: x[i]}
	case []uint16:
		return Value{typ: TypeUint16, x: x[i]}
	case []int16:
		return Value{typ: TypeInt16, x: x[i]}
	case []uint32:
		return Value{typ: TypeUint32, x: x[i]}
	case []int32:
		return Value{typ: TypeInt32, x: x[i]}
	case []float32:
		return Value{typ: TypeFloat32, x: x[i]}
	case []bool:
		return Value{typ: TypeBool, x: x[i]}
	case []string:
		return Value{typ: TypeString, x: x[i]}
	case []uint64:
		return Value{typ: TypeUint64, x: x[i]}
	case []int64:
		return Value{typ: TypeInt64, x: x[i]}
	case []float64:
		return Value{typ: TypeFloat64, x: x[i]}
	case []Value:
		return x[i]
	}
	panic(fmt.Sprintf("gguf: Index on a %s value", v.typ))
}

// Strings returns an array of strings.
func (v Value) Strings() ([]string, bool) {
	s, ok := v.resolved().x.([]string)
	return s, ok
}

// Ints returns an array of any integer type as int64s; ok is false for other arrays or
// when a uint64 element exceeds MaxInt64.
func (v Value) Ints() ([]int64, bool) {
	if v.typ != TypeArray || v.elem == TypeArray || v.elem.fixedSize() == 0 {
		return nil, false
	}
	out := make([]int64, v.Len())
	for i := range out {
		n, ok := v.Index(i).Int()
		if !ok {
			return nil, false
		}
		out[i] = n
	}
	return out, true
}

// Floats returns an array of float32 or float64 as float64s.
func (v Value) Floats() ([]float64, bool) {
	switch x := v.x.(type) {
	case []float32:
		out := make([]float64, len(x))
		for i, f := range x {
			out[i] = float64(f)
		}
		return out, true
	case []float64:
		return x, true
	}
	return nil, false
}

// Array returns the elements of a nested array (an array of arrays).
func (v Value) Array() ([]Value, bool) {
	a, ok := v.x.([]Value)
	return a, ok
}

// String formats the value for people: scalars as Go literals, long arrays abbreviated.
func (v Value) String() string {
	if v.typ != TypeArray {
		if s, ok := v.x.(string); ok {
			if len(s) > 80 {
				s = s[:77] + "..."
			}
			return strconv.Quote(s)
		}
		return fmt.Sprint(v.x)
	}
	var b strings.Builder
	n := v.Len()
	fmt.Fprintf(&b, "[%s×%d:", v.elem, n)
	for i := 0; i < n && i < 8; i++ {
		b.WriteByte(' ')
		b.WriteString(v.Index(i).String())
	}
	if n > 8 {
		b.WriteString(" …")
	}
	b.WriteByte(']')
	return b.String()
}

// KV is one metadata entry.
type KV struct {
	Key   string
	Value Value
}

// Metadata is the ordered key/value section of a GGUF file. Keys are unique.
type Metadata struct {
	kvs []KV
	idx map[string]int
}

// NewMetadata builds Metadata from entries, rejecting duplicate keys.
func NewMetadata(kvs []KV) (*Metadata, error) {
	m := &Metadata{kvs: make([]KV, 0, len(kvs)), idx: make(map[string]int, len(kvs))}
	for _, kv := range kvs {
		if err := m.add(kv); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *Metadata) add(kv KV) error {
	if _, dup := m.idx[kv.Key]; dup {
		return fmt.Errorf("duplicate metadata key %s", Quote(kv.Key))
	}
	m.idx[kv.Key] = len(m.kvs)
	m.kvs = append(m.kvs, kv)
	return nil
}

// Len is the number of entries.
func (m *Metadata) Len() int { return len(m.kvs) }

// KVs returns the entries in file order. The slice must not be modified.
func (m *Metadata) KVs() []KV { return m.kvs }

// Keys returns the keys in file order.
func (m *Metadata) Keys() []string {
	out := make([]string, len(m.kvs))
	for i, kv := range m.kvs {
		out[i] = kv.Key
	}
	return out
}

// Get returns the value of key.
func (m *Metadata) Get(key string) (Value, bool) {
	if m == nil {
		return Value{}, false
	}
	i, ok := m.idx[key]
	if !ok {
		return Value{}, false
	}
	return m.kvs[i].Value, true
}

// Has reports whether key is present, whatever its type.
func (m *Metadata) Has(key string) bool {
	_, ok := m.Get(key)
	return ok
}

// String returns a string-typed value; ok is false if key is missing or of another type.
func (m *Metadata) String(key string) (string, bool) {
	v, ok := m.Get(key)
	if !ok {
		return "", false
	}
	return v.Str()
}

// Uint returns a non-negative integer value of any width.
func (m *Metadata) Uint(key string) (uint64, bool) {
	v, ok := m.Get(key)
	if !ok {
		return 0, false
	}
	return v.Uint()
}

// Int returns an integer value of any width.
func (m *Metadata) Int(key string) (int64, bool) {
	v, ok := m.Get(key)
	if !ok {
		return 0, false
	}
	return v.Int()
}

// Float returns a float32 or float64 value.
func (m *Metadata) Float(key string) (float64, bool) {
	v, ok := m.Get(key)
	if !ok {
		return 0, false
	}
	return v.Float()
}

// Bool returns a bool value.
func (m *Metadata) Bool(key string) (bool, bool) {
	v, ok := m.Get(key)
	if !ok {
		return false, false
	}
	return v.Bool()
}

// Strings returns an array of strings.
func (m *Metadata) Strings(key string) ([]string, bool) {
	v, ok := m.Get(key)
	if !ok {
		return nil, false
	}
	return v.Strings()
}

// Ints returns an integer array as int64s.
func (m *Metadata) Ints(key string) ([]int64, bool) {
	v, ok := m.Get(key)
	if !ok {
		return nil, false
	}
	return v.Ints()
}

// Floats returns a float array as float64s.
func (m *Metadata) Floats(key string) ([]float64, bool) {
	v, ok := m.Get(key)
	if !ok {
		return nil, false
	}
	return v.Floats()
}
