package weights

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/dllm-go/dllm/dllm/internal/outfile"
)

// TensorInfo declares one tensor of a GGUF file before its data is written.
type TensorInfo struct {
	Name  string
	DType DType
	Shape []int // row-major; written to the file reversed (ggml order)
}

// GGUFWriter streams a GGUF v3 file: the header (metadata and tensor infos, which fix
// every offset) is written at creation, then each tensor's data in declaration order,
// each padded to the alignment. Only one tensor is ever held in memory, by the caller,
// which is what lets a quantizer write a file larger than RAM.
type GGUFWriter struct {
	w     *bufio.Writer
	infos []TensorInfo
	sizes []int64
	align int64
	next  int   // index of the next tensor to write
	pos   int64 // bytes written since the start of the data section
	err   error // sticky: once set, every call returns it

	headerLen int64 // bytes of header written so far, to pad it to the alignment
}

// NewGGUFWriter writes the header of a GGUF file to w. meta is written in order; if it
// holds general.alignment (a uint32 power of two) that alignment is used, else 32. Tensor
// names must be unique and every shape valid for its dtype.
func NewGGUFWriter(w io.Writer, meta []KV, tensors []TensorInfo) (*GGUFWriter, error) {
	g := &GGUFWriter{w: bufio.NewWriterSize(w, 1<<20), infos: tensors, align: ggufDefaultAlignment}
	md, err := NewMetadata(meta)
	if err != nil {
		return nil, fmt.Errorf("gguf write: %w", err)
	}
	if v, ok := md.Get(KeyAlignment); ok {
		a, ok := v.x.(uint32)
		if !ok || a == 0 || a > ggufMaxAlignment || a&(a-1) != 0 {
			return nil, fmt.Errorf("gguf write: %s = %v must be a uint32 power of two", KeyAlignment, v)
		}
		g.align = int64(a)
	}
	seen := make(map[string]bool, len(tensors))
	g.sizes = make([]int64, len(tensors))
	for i, t := range tensors {
		if seen[t.Name] {
			return nil, fmt.Errorf("gguf write: tensor %q declared twice", t.Name)
		}
		seen[t.Name] = true
		if _, ok := t.DType.GGUFType(); !ok {
			return nil, fmt.Errorf("gguf write: tensor %q: GGUF cannot store dtype %s", t.Name, t.DType)
		}
		if len(t.Shape) > ggufMaxDims {
			return nil, fmt.Errorf("gguf write: tensor %q: %d dimensions (at most %d)", t.Name, len(t.Shape), ggufMaxDims)
		}
		size, err := t.DType.ByteSize(t.Shape, math.MaxInt64/2)
		if err != nil {
			return nil, fmt.Errorf("gguf write: tensor %q: %w", t.Name, err)
		}
		g.sizes[i] = size
	}

	g.u32(ggufMagic)
	g.u32(3)
	g.u64(uint64(len(tensors)))
	g.u64(uint64(len(meta)))
	for _, kv := range meta {
		g.str(kv.Key)
		g.u32(uint32(kv.Value.typ))
		if err := g.value(kv.Value); err != nil {
			return nil, fmt.Errorf("gguf write: key %q: %w", kv.Key, err)
		}
	}
	var off int64
	for i, t := range tensors {
		g.str(t.Name)
		g.u32(uint32(len(t.Shape)))
		for j := len(t.Shape) - 1; j >= 0; j-- {
			g.u64(uint64(t.Shape[j]))
		}
		id, _ := t.DType.GGUFType()
		g.u32(id)
		g.u64(uint64(off))
		off = alignUp(off+g.sizes[i], g.align)
	}
	g.pad(g.headerLen)
	if g.err != nil {
		return nil, fmt.Errorf("gguf write: %w", g.err)
	}
	return g, nil
}

// pad writes zeros up to the next multiple of the alignment, n bytes having been written.
func (g *GGUFWriter) pad(n int64) {
	if r := n % g.align; r != 0 {
		g.put(make([]byte, g.align-r))
	}
}

func (g *GGUFWriter) put(b []byte) {
	if g.err != nil {
		return
	}
	_, g.err = g.w.Write(b)
	g.headerLen += int64(len(b))
}

func (g *GGUFWriter) u32(v uint32) { g.put(binary.LittleEndian.AppendUint32(nil, v)) }
func (g *GGUFWriter) u64(v uint64) { g.put(binary.LittleEndian.AppendUint64(nil, v)) }
func (g *GGUFWriter) str(s string) { g.u64(uint64(len(s))); g.put([]byte(s)) }

func (g *GGUFWriter) value(v Value) error {
	switch x := v.x.(type) {
	case uint8:
		g.put([]byte{x})
	case int8:
		g.put([]byte{byte(x)})
	case uint16:
		g.put(binary.LittleEndian.AppendUint16(nil, x))
	case int16:
		g.put(binary.LittleEndian.AppendUint16(nil, uint16(x)))
	case uint32:
		g.u32(x)
	case int32:
		g.u32(uint32(x))
	case float32:
		g.u32(math.Float32bits(x))
	case uint64:
		g.u64(x)
	case int64:
		g.u64(uint64(x))
	case float64:
		g.u64(math.Float64bits(x))
	case bool:
		if x {
			g.put([]byte{1})
		} else {
			g.put([]byte{0})
		}
	case string:
		g.str(x)
	default:
		if v.typ != TypeArray {
			return fmt.Errorf("invalid value of type %s", v.typ)
		}
		g.u32(uint32(v.elem))
		n := v.Len()
		g.u64(uint64(n))
		for i := 0; i < n; i++ {
			if err := g.value(v.Index(i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// WriteTensor writes the data of the next declared tensor, which must be name and hold
// exactly its declared byte size.
func (g *GGUFWriter) WriteTensor(name string, data []byte) error {
	return g.WriteTensorFunc(name, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteTensorFunc writes the next declared tensor by letting fill stream its bytes into w
// (for tensors produced piecewise, such as quantized rows). fill must write exactly the
// declared byte size.
func (g *GGUFWriter) WriteTensorFunc(name string, fill func(w io.Writer) error) error {
	if g.err != nil {
		return g.err
	}
	if g.next >= len(g.infos) {
		g.err = fmt.Errorf("gguf write: tensor %q: all %d declared tensors already written", name, len(g.infos))
		return g.err
	}
	if want := g.infos[g.next].Name; want != name {
		g.err = fmt.Errorf("gguf write: tensor %q written where %q was declared", name, want)
		return g.err
	}
	cw := &countWriter{w: g.w}
	if err := fill(cw); err != nil {
		g.err = fmt.Errorf("gguf write: tensor %q: %w", name, err)
		return g.err
	}
	if cw.n != g.sizes[g.next] {
		g.err = fmt.Errorf("gguf write: tensor %q: %d bytes written, %d declared", name, cw.n, g.sizes[g.next])
		return g.err
	}
	g.pos += cw.n
	if r := g.pos % g.align; r != 0 {
		if _, err := g.w.Write(make([]byte, g.align-r)); err != nil {
			g.err = fmt.Errorf("gguf write: %w", err)
			return g.err
		}
		g.pos += g.align - r
	}
	g.next++
	return nil
}

// Finish checks that every declared tensor was written and flushes buffered data.
func (g *GGUFWriter) Finish() error {
	if g.err != nil {
		return g.err
	}
	if g.next != len(g.infos) {
		g.err = fmt.Errorf("gguf write: only %d of %d tensors written (next: %q)", g.next, len(g.infos), g.infos[g.next].Name)
		return g.err
	}
	if err := g.w.Flush(); err != nil {
		g.err = fmt.Errorf("gguf write: %w", err)
	}
	return g.err
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// GGUFFile is a GGUFWriter onto a file that only appears under its final name once Close
// succeeds, so an interrupted quantization never leaves a truncated model behind (see
// package outfile for pipes and devices).
type GGUFFile struct {
	*GGUFWriter
	f    *outfile.File
	path string
	done bool
}

// CreateGGUF starts writing a GGUF file at path (via a temporary file in the same
// directory). Write every tensor, then Close; on any error call Abort.
func CreateGGUF(path string, meta []KV, tensors []TensorInfo) (*GGUFFile, error) {
	f, err := outfile.Create(path)
	if err != nil {
		return nil, err
	}
	w, err := NewGGUFWriter(f, meta, tensors)
	if err != nil {
		f.Abort()
		return nil, err
	}
	return &GGUFFile{GGUFWriter: w, f: f, path: path}, nil
}

// Close finishes the file, syncs it and renames it into place. On failure the temporary
// file is removed and nothing appears at path.
func (g *GGUFFile) Close() error {
	if g.done {
		return errors.New("gguf write: file already closed")
	}
	g.done = true
	err := g.Finish()
	if err == nil {
		err = g.f.Commit()
	} else {
		g.f.Abort()
	}
	if err != nil {
		return fmt.Errorf("gguf write %s: %w", g.path, err)
	}
	return nil
}

// Abort discards the partial file. It is safe to call after Close (then it does nothing).
func (g *GGUFFile) Abort() {
	if g.done {
		return
	}
	g.done = true
	g.f.Abort()
}
