package arch

import (
	"errors"
	"fmt"
	"math"

	"github.com/dllm-go/dllm/dllm/internal/weights"
	"github.com/dllm-go/dllm/kernels"
)

// ErrNonFinite is matched (errors.Is) by every NonFiniteError.
var ErrNonFinite = errors.New("non-finite value in a forward pass")

// errNonFiniteRouting stops a forward whose router produced a non-finite score; Forward
// then locates the value like one found in the logits.
var errNonFiniteRouting = errors.New("llada2: non-finite router score")

// NonFiniteError says where a forward pass first produced a NaN or an infinity: a
// corrupt weight, or activations overflowing. Decoding cannot go on from such logits
// (every confidence compares false), so it is an error rather than garbage output.
type NonFiniteError struct {
	// Tensor names the step that first produced the value by its weight's Hugging Face
	// name ("model.layers.3.attention.dense.weight"); a step without one weight is
	// described instead.
	Tensor   string
	Layer    int     // its layer; -1 for the embeddings, final norm and LM head
	Position int     // absolute position of the first affected token
	Value    float32 // the value: NaN, +Inf or -Inf
}

func (e *NonFiniteError) Error() string {
	return fmt.Sprintf("llada2: non-finite value %v in the forward pass, first produced at position %d by %s", e.Value, e.Position, e.Tensor)
}

// Is makes errors.Is(err, ErrNonFinite) true.
func (e *NonFiniteError) Is(target error) bool { return target == ErrNonFinite }

// firstNonFinite returns the index of the first NaN or infinity in v, or -1. It adds
// x·0 over chunks, which stays 0 unless some x is not finite, so the common case is one
// branch-free pass; four independent sums keep the adds from waiting on each other.
func firstNonFinite(v []float32) int {
	const chunk = 256
	for c := 0; c < len(v); c += chunk {
		var a0, a1, a2, a3 float32
		part := v[c:min(c+chunk, len(v))]
		i := 0
		for ; i+4 <= len(part); i += 4 {
			q := part[i : i+4 : i+4]
			a0 += q[0] * 0
			a1 += q[1] * 0
			a2 += q[2] * 0
			a3 += q[3] * 0
		}
		for _, x := range part[i:] {
			a0 += x * 0
		}
		if a0+a1+a2+a3 == 0 {
			continue
		}
		for i, x := range part {
			if !isFinite(x) {
				return c + i
			}
		}
	}
	return -1
}

// allFinite reports whether the n rows of buf hold no NaN and no infinity. The rows are
// checked in parallel on the pool: each is a pass over the vocabulary, and all of them
// one after another took 1–2 ms of a forward with the other threads idle.
func (s *State) allFinite(buf []float32, n int) bool {
	if n == 0 {
		return true
	}
	s.scan, s.scanW = buf, len(buf)/n
	s.scanBad.Store(false)
	s.m.pool.Run(n, s.scanTask)
	s.scan = nil
	return !s.scanBad.Load()
}

// scanRow checks row r of allFinite's rows.
func (s *State) scanRow(r int) {
	if firstNonFinite(s.scan[r*s.scanW:(r+1)*s.scanW]) >= 0 {
		s.scanBad.Store(true)
	}
}

func isFinite(x float32) bool { return !math.IsNaN(float64(x)) && !math.IsInf(float64(x), 0) }

// probe is set on a State while a forward whose logits were not finite runs again to
// find the first step that produced a non-finite value.
type probe struct {
	layer int // layer of the steps being run; -1 outside the layers
	err   *NonFiniteError
}

// probeAt tells the probe, if any, which layer the following steps belong to.
func (s *State) probeAt(layer int) {
	if s.probe != nil {
		s.probe.layer = layer
	}
}

// watch checks buf, rows of width w, after the step named by tensor (relative to the
// current layer) when a probe is set, and keeps the first non-finite value found. Row r
// is at absolute position base+r, or base+rowPos[r] when rowPos is given (in a partial
// forward, ForwardPartial, the positions it lists take the place of base+…).
func (s *State) watch(buf []float32, w int, base int, rowPos []int, tensor string) {
	p := s.probe
	if p == nil || p.err != nil {
		return
	}
	i := firstNonFinite(buf)
	if i < 0 {
		return
	}
	r := i / w
	if rowPos != nil {
		r = rowPos[i/w]
	}
	pos := base + r
	if s.runPos != nil { // a partial forward: rows are its listed positions
		pos = s.runPos[r]
	}
	if p.layer >= 0 {
		tensor = fmt.Sprintf("model.layers.%d.%s", p.layer, tensor)
	}
	p.err = &NonFiniteError{Tensor: tensor, Layer: p.layer, Position: pos, Value: buf[i]}
}

// ScanNonFinite reads every value of t, dequantizing row by row, and returns how many
// are NaN or infinite and the flat index of the first (-1 if none).
func ScanNonFinite(t *weights.Tensor) (count, first int64, err error) {
	f, ok := t.DType.Format()
	if !ok {
		return 0, -1, fmt.Errorf("llada2: tensor %s: no reader for %s", t.Name, t.DType)
	}
	if len(t.Shape) == 0 {
		return 0, -1, nil
	}
	cols := t.Shape[len(t.Shape)-1]
	rows := t.Elems() / max(cols, 1)
	rb, err := f.RowBytes(cols)
	if err != nil {
		return 0, -1, fmt.Errorf("llada2: tensor %s: %w", t.Name, err)
	}
	if len(t.Data) < rows*rb {
		return 0, -1, fmt.Errorf("llada2: tensor %s holds %d bytes, want %d", t.Name, len(t.Data), rows*rb)
	}
	row := make([]float32, cols)
	first = -1
	for r := range rows {
		if err := kernels.Dequantize(f, row, t.Data[r*rb:(r+1)*rb]); err != nil {
			return 0, -1, fmt.Errorf("llada2: tensor %s: %w", t.Name, err)
		}
		i := firstNonFinite(row)
		if i < 0 {
			continue
		}
		if first < 0 {
			first = int64(r*cols + i)
		}
		for _, x := range row[i:] {
			if !isFinite(x) {
				count++
			}
		}
	}
	return count, first, nil
}
