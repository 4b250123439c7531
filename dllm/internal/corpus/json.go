package corpus

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// jsonValues are the hostile replacements of a JSON number: the field values above in
// decimal (2^63 overflows int64, 2^53+1 is not a float64), plus a fraction, a huge float
// and values of the wrong type.
var jsonValues = []string{"0", "-1", "1", "2147483648", "4294967296", "9223372036854775808", "9007199254740993", "1e308", "0.5", `"7"`, "null", "[]"}

// numberVariants are the hostile replacements of the number n.
func numberVariants(n json.Number) []string {
	vs := jsonValues
	if i, err := n.Int64(); err == nil {
		vs = append(vs[:len(vs):len(vs)], strconv.FormatInt(i+1, 10), strconv.FormatInt(i-1, 10))
	}
	seen := map[string]bool{n.String(): true}
	var out []string
	for _, v := range vs {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// object is a JSON object that keeps its keys' order.
type object struct {
	keys []string
	vals map[string]json.RawMessage
}

func parseObject(b []byte) (*object, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errors.New("corpus: not a JSON object")
	}
	o := &object{vals: map[string]json.RawMessage{}}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		k := t.(string)
		o.keys = append(o.keys, k)
		o.vals[k] = v
	}
	return o, nil
}

// with encodes o with key set to raw (JSON text).
func (o *object) with(key, raw string) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		if k == key {
			b.WriteString(raw)
		} else {
			b.Write(o.vals[k])
		}
	}
	b.WriteByte('}')
	return b.Bytes()
}

// JSON derives hostile versions of a JSON object such as config.json: each top-level
// number, boolean or null replaced by each hostile value, each top-level key removed,
// and truncations at a few points.
func JSON(data []byte) ([]Case, error) {
	o, err := parseObject(data)
	if err != nil {
		return nil, err
	}
	var cs []Case
	for _, k := range o.keys {
		v := bytes.TrimSpace(o.vals[k])
		var n json.Number
		isNum := json.Unmarshal(v, &n) == nil && len(v) > 0 && v[0] != '"'
		if !isNum && !bytes.Equal(v, []byte("true")) && !bytes.Equal(v, []byte("false")) && !bytes.Equal(v, []byte("null")) {
			continue
		}
		vals := numberVariants(json.Number(v))
		if isNum {
			vals = numberVariants(n)
		}
		for _, x := range vals {
			cs = append(cs, Case{fmt.Sprintf("%s = %s", k, x), func() []byte { return o.with(k, x) }})
		}
		cs = append(cs, Case{k + " removed", func() []byte { return o.without(k) }})
	}
	for _, n := range []int{0, 1, len(data) / 2, len(data) - 1} {
		cs = append(cs, fixed(fmt.Sprintf("truncated at byte %d", n), data[:n:n]))
	}
	return cs, nil
}

func (o *object) without(key string) []byte {
	c := &object{vals: o.vals}
	for _, k := range o.keys {
		if k != key {
			c.keys = append(c.keys, k)
		}
	}
	return c.with("", "")
}

// stEntry is a safetensors header entry with its numbers kept as text.
type stEntry struct {
	DType       string        `json:"dtype"`
	Shape       []json.Number `json:"shape"`
	DataOffsets []json.Number `json:"data_offsets"`
}

// Safetensors derives hostile versions of a safetensors file: the header length set to
// each hostile value, each dimension and data offset of each tensor accepted by keep
// replaced by each hostile number, each such tensor's entry dropped (leaving its bytes
// to no tensor), every offset shifted, and truncations at the header and at tensors.
func Safetensors(data []byte, keep func(name string) bool) ([]Case, error) {
	if len(data) < 8 {
		return nil, errors.New("corpus: short safetensors file")
	}
	n := binary.LittleEndian.Uint64(data)
	if n > uint64(len(data)-8) {
		return nil, errors.New("corpus: bad safetensors header length")
	}
	hdr, body := data[8:8+n], data[8+n:]
	o, err := parseObject(hdr)
	if err != nil {
		return nil, err
	}
	file := func(h []byte) []byte {
		b := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
		return append(append(b, h...), body...)
	}
	cs := mutateFields(data, []field{{name: "header length", width: 8}})
	bounds := map[int]string{8: "after the header length", 8 + int(n)/2: "inside the header", 8 + int(n): "at the data"}
	shifted := &object{keys: o.keys, vals: map[string]json.RawMessage{}}
	for _, k := range o.keys {
		shifted.vals[k] = o.vals[k]
		var e stEntry
		if k == "__metadata__" || json.Unmarshal(o.vals[k], &e) != nil || len(e.DataOffsets) != 2 {
			continue
		}
		begin, _ := e.DataOffsets[0].Int64()
		bounds[8+int(n)+int(begin)] = "at the data of " + k
		shifted.vals[k] = e.encode(e.Shape, shift(e.DataOffsets, 2))
		if !keep(k) {
			continue
		}
		cs = append(cs, Case{"tensor " + k + " dropped from the header", func() []byte { return file(o.without(k)) }})
		for _, p := range []struct {
			what string
			nums []json.Number
		}{{"dim", e.Shape}, {"data_offsets", e.DataOffsets}} {
			for i := range p.nums {
				for _, x := range numberVariants(p.nums[i]) {
					orig := p.nums[i]
					p.nums[i] = json.Number(x)
					raw := e.encode(e.Shape, e.DataOffsets)
					p.nums[i] = orig
					cs = append(cs, Case{fmt.Sprintf("tensor %s %s %d = %s", k, p.what, i, x), func() []byte { return file(o.with(k, string(raw))) }})
				}
			}
		}
	}
	cs = append(cs, Case{"every data offset shifted by 2", func() []byte { return file(shifted.with("", "")) }})
	cs = append(cs, truncations(data, bounds)...)
	return cs, nil
}

// encode writes the entry with the given numbers verbatim (they may be hostile text).
func (e stEntry) encode(shape, offs []json.Number) json.RawMessage {
	join := func(ns []json.Number) string {
		var b bytes.Buffer
		for i, x := range ns {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(string(x))
		}
		return b.String()
	}
	return json.RawMessage(fmt.Sprintf(`{"dtype":%q,"shape":[%s],"data_offsets":[%s]}`, e.DType, join(shape), join(offs)))
}

func shift(ns []json.Number, d int64) []json.Number {
	out := make([]json.Number, len(ns))
	for i, x := range ns {
		v, _ := x.Int64()
		out[i] = json.Number(strconv.FormatInt(v+d, 10))
	}
	return out
}
