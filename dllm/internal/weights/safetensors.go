package weights

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
)

// Safetensors is a parsed safetensors file: its free-form metadata and tensor views into
// the data it was parsed from.
type Safetensors struct {
	Metadata map[string]string // the "__metadata__" object, nil if absent
	Tensors  []Tensor          // sorted by data offset
}

// stEntry is one tensor of the JSON header. Pointers tell a missing field from a zero one.
type stEntry struct {
	DType       *string  `json:"dtype"`
	Shape       *[]int64 `json:"shape"`
	DataOffsets *[]int64 `json:"data_offsets"`
}

// ParseSafetensors parses a safetensors file held in data: an 8-byte little-endian header
// length, a JSON header mapping tensor names to {dtype, shape, data_offsets}, then the data
// those offsets index. file names the file in errors.
func ParseSafetensors(data []byte, file string) (*Safetensors, error) {
	st, err := parseSafetensors(data, file)
	if err != nil {
		return nil, fmt.Errorf("safetensors %s: %w", file, err)
	}
	return st, nil
}

func parseSafetensors(data []byte, file string) (*Safetensors, error) {
	if len(data) < 8 {
		return nil, fmt.Errorf("file of %d bytes is too short for the 8-byte header length", len(data))
	}
	n := binary.LittleEndian.Uint64(data)
	if n > uint64(len(data)-8) {
		return nil, fmt.Errorf("header of %d bytes is longer than the file (%d bytes)", n, len(data))
	}
	hdr := data[8 : 8+n]
	body := data[8+n:]
	if len(bytes.TrimLeft(hdr, " \t\r\n")) == 0 || bytes.TrimLeft(hdr, " \t\r\n")[0] != '{' {
		return nil, errors.New("header is not a JSON object")
	}

	// Walk the top-level object token by token: decoding into a map would silently keep
	// the last of two entries with the same name.
	dec := json.NewDecoder(bytes.NewReader(hdr))
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	st := &Safetensors{}
	seen := map[string]bool{}
	var offs []int64
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("header: %w", err)
		}
		name, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("header: unexpected %v", tok)
		}
		if seen[name] {
			return nil, fmt.Errorf("tensor %s appears twice in the header", Quote(name))
		}
		seen[name] = true
		if name == "__metadata__" {
			if err := dec.Decode(&st.Metadata); err != nil {
				return nil, fmt.Errorf("header __metadata__: %w", err)
			}
			continue
		}
		var e stEntry
		if err := dec.Decode(&e); err != nil {
			return nil, fmt.Errorf("tensor %s: header entry: %w", Quote(name), err)
		}
		t, begin, err := stTensor(name, e, body)
		if err != nil {
			return nil, fmt.Errorf("tensor %s: %w", Quote(name), err)
		}
		t.File = file
		st.Tensors = append(st.Tensors, t)
		offs = append(offs, begin)
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, fmt.Errorf("header: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("header: trailing data after the JSON object")
	}

	idx := make([]int, len(st.Tensors))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return offs[idx[a]] < offs[idx[b]] })
	sorted := make([]Tensor, len(idx))
	sortedOffs := make([]int64, len(idx))
	for k, i := range idx {
		sorted[k], sortedOffs[k] = st.Tensors[i], offs[i]
	}
	st.Tensors = sorted
	if err := checkLayout(sorted, sortedOffs, int64(len(body)), 1); err != nil {
		return nil, err
	}
	return st, nil
}

// stTensor validates one header entry against the data section and cuts its view.
func stTensor(name string, e stEntry, body []byte) (Tensor, int64, error) {
	if e.DType == nil || e.Shape == nil || e.DataOffsets == nil {
		return Tensor{}, 0, errors.New("entry lacks dtype, shape or data_offsets")
	}
	dt, ok := DTypeFromSafetensors(*e.DType)
	if !ok {
		return Tensor{}, 0, fmt.Errorf("unknown dtype %s", Quote(*e.DType))
	}
	shape := make([]int, len(*e.Shape))
	for i, d := range *e.Shape {
		if d < 0 || d > 1<<53 {
			return Tensor{}, 0, fmt.Errorf("dimension %d = %d is out of range", i, d)
		}
		shape[i] = int(d)
	}
	if len(*e.DataOffsets) != 2 {
		return Tensor{}, 0, fmt.Errorf("data_offsets has %d elements, want 2", len(*e.DataOffsets))
	}
	begin, end := (*e.DataOffsets)[0], (*e.DataOffsets)[1]
	if begin < 0 || end < begin || end > int64(len(body)) {
		return Tensor{}, 0, fmt.Errorf("data_offsets [%d, %d] outside the %d data bytes", begin, end, len(body))
	}
	size, err := dt.ByteSize(shape, int64(len(body)))
	if err != nil {
		return Tensor{}, 0, err
	}
	if size != end-begin {
		return Tensor{}, 0, fmt.Errorf("%s %v needs %d bytes but data_offsets [%d, %d] span %d", dt, shape, size, begin, end, end-begin)
	}
	return Tensor{Name: name, DType: dt, Shape: shape, Data: body[begin:end:end]}, begin, nil
}
