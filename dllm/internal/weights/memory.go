package weights

import (
	"fmt"
	"unsafe"
)

// MemoryAlignment is the address alignment OpenMemory needs for the safetensors bytes.
// The kernels view tensors as []uint16 and []float32, which needs each element naturally
// aligned: a file mapping starts on a page; 32 bytes covers every element type and is
// what the Go linker gives large embedded data.
const MemoryAlignment = 32

// OpenMemory opens a Hugging Face checkpoint of one safetensors file whose bytes are
// already in memory (a model compiled into the binary). config is config.json. The
// tensors view safetensors in place; only when it does not start on a MemoryAlignment
// boundary is it copied once into memory that does. name stands for the checkpoint in
// Path and in errors. The caller keeps both slices unchanged while the checkpoint is used.
func OpenMemory(name string, config, safetensors []byte) (*Checkpoint, error) {
	if len(config) > maxConfigBytes {
		return nil, fmt.Errorf("%s: %s of %d bytes, more than the %d allowed", name, ConfigFile, len(config), maxConfigBytes)
	}
	data := alignedBytes(safetensors)
	st, err := ParseSafetensors(data, name+"/"+SafetensorsFile)
	if err != nil {
		return nil, err
	}
	ck := &Checkpoint{Format: FormatSafetensors, Path: name, Config: config, Tensors: st.Tensors, STMetadata: st.Metadata}
	if err := ck.buildIndex(); err != nil {
		return nil, err
	}
	return ck, nil
}

// alignedBytes returns b itself when it starts on a MemoryAlignment boundary, else a
// copy that does.
func alignedBytes(b []byte) []byte {
	if len(b) == 0 || uintptr(unsafe.Pointer(&b[0]))%MemoryAlignment == 0 {
		return b
	}
	buf := make([]byte, len(b)+MemoryAlignment-1)
	skip := (MemoryAlignment - int(uintptr(unsafe.Pointer(&buf[0]))%MemoryAlignment)) % MemoryAlignment
	out := buf[skip : skip+len(b) : skip+len(b)]
	copy(out, b)
	return out
}
