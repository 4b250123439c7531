// Package corpus derives hostile model files from a valid one, for tests: every numeric
// field of a GGUF header, a safetensors header or a JSON configuration set to values
// that break sizes and offsets (0, −1, 2^31, 2^63, one off), truncations at every
// section boundary, dropped tensor entries and shifted data. A loader must answer each
// with a clean error or a consistent model; the tests that use the corpus check which.
// It works on bytes alone, so any package's tests (the parsers' fuzz seeds included)
// can use it.
package corpus

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
)

// Case is one derived file. Build makes its bytes on demand: a corpus holds thousands of
// cases of a whole model file each.
type Case struct {
	Name  string // what was changed, e.g. "kv llada2.context_length value = 2147483648"
	Build func() []byte
}

// fixed is a Case of bytes already made.
func fixed(name string, b []byte) Case { return Case{name, func() []byte { return b }} }

// field is one fixed-width little-endian number inside a file.
type field struct {
	name  string
	off   int
	width int  // 1, 2, 4 or 8 bytes
	float bool // an IEEE float of that width
}

func (f field) get(b []byte) uint64 {
	switch f.width {
	case 1:
		return uint64(b[f.off])
	case 2:
		return uint64(binary.LittleEndian.Uint16(b[f.off:]))
	case 4:
		return uint64(binary.LittleEndian.Uint32(b[f.off:]))
	}
	return binary.LittleEndian.Uint64(b[f.off:])
}

func (f field) put(b []byte, v uint64) {
	switch f.width {
	case 1:
		b[f.off] = byte(v)
	case 2:
		binary.LittleEndian.PutUint16(b[f.off:], uint16(v))
	case 4:
		binary.LittleEndian.PutUint32(b[f.off:], uint32(v))
	default:
		binary.LittleEndian.PutUint64(b[f.off:], v)
	}
}

// values are the hostile values of a field, as bit patterns of its width: zero, one,
// all ones (−1), the sign bit alone (2^31, 2^63), the largest signed value, one off the
// original; floats get 0, −1, NaN, ±Inf and a huge value instead.
func (f field) values(orig uint64) []uint64 {
	var vs []uint64
	bits := uint(8 * f.width)
	mask := uint64(math.MaxUint64) >> (64 - bits)
	if f.float {
		for _, x := range []float64{0, -1, math.NaN(), math.Inf(1), math.Inf(-1), 1e30, 1 << 31} {
			if f.width == 4 {
				vs = append(vs, uint64(math.Float32bits(float32(x))))
			} else {
				vs = append(vs, math.Float64bits(x))
			}
		}
	} else {
		vs = append(vs, 0, 1, mask, 1<<(bits-1), mask>>1, (orig+1)&mask, (orig-1)&mask)
		if bits == 64 {
			vs = append(vs, 1<<31, 1<<32, 1<<62)
		}
	}
	seen := map[uint64]bool{orig: true}
	out := vs[:0]
	for _, v := range vs {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// mutateFields sets each field to each of its hostile values, one change per case.
func mutateFields(data []byte, fields []field) []Case {
	var cs []Case
	for _, f := range fields {
		orig := f.get(data)
		for _, v := range f.values(orig) {
			cs = append(cs, Case{fmt.Sprintf("%s = %s", f.name, f.show(v)), func() []byte {
				b := append([]byte(nil), data...)
				f.put(b, v)
				return b
			}})
		}
	}
	return cs
}

func (f field) show(v uint64) string {
	if f.float {
		if f.width == 4 {
			return strconv.FormatFloat(float64(math.Float32frombits(uint32(v))), 'g', -1, 32)
		}
		return strconv.FormatFloat(math.Float64frombits(v), 'g', -1, 64)
	}
	return strconv.FormatUint(v, 10)
}

// truncations cuts data at each boundary (and one byte before it), deduplicated.
func truncations(data []byte, at map[int]string) []Case {
	var cs []Case
	seen := map[int]bool{len(data): true}
	for _, n := range sortedKeys(at) {
		for _, m := range []int{n, n - 1} {
			if m < 0 || m > len(data) || seen[m] {
				continue
			}
			seen[m] = true
			cs = append(cs, fixed(fmt.Sprintf("truncated at byte %d (%s)", m, at[n]), data[:m:m]))
		}
	}
	return cs
}
