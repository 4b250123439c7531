package kernels

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/x448/float16"
)

// Format is the storage format of a weight matrix row. The quantized formats use the
// GGUF/ggml block layouts byte for byte, so rows can be read straight out of a GGUF file.
type Format uint8

// Weight formats the matrix kernels understand.
const (
	F32  Format = iota // little-endian float32
	F16                // IEEE half precision
	BF16               // bfloat16 (upper half of a float32)
	Q8_0               // blocks of 32: f16 scale d, 32×int8; x = d·q
	Q4_0               // blocks of 32: f16 scale d, 16 bytes of nibbles; x = d·(q−8)
	Q4_K               // super-blocks of 256: f16 d, f16 dmin, 12 bytes of 6-bit scales/mins, 128 bytes of nibbles
	Q6_K               // super-blocks of 256: 128 bytes low nibbles, 64 bytes high 2-bit pairs, 16×int8 scales, f16 d
)

// Block layouts in bytes. The assembly reads them from go_asm.h (const_…), so each
// number is written once.
const (
	q8_0QuantsOff  = 2 // after the f16 d: 32 int8
	q8_0BlockBytes = q8_0QuantsOff + 32
	q4_0QuantsOff  = 2 // after the f16 d: 16 bytes of nibbles
	q4_0BlockBytes = q4_0QuantsOff + 16
	q4KDMinOff     = 2              // after the f16 d: the f16 dmin
	q4KScalesOff   = q4KDMinOff + 2 // 12 bytes of 6-bit scales and mins
	q4KQuantsOff   = q4KScalesOff + 12
	q4KBlockBytes  = q4KQuantsOff + 128
	q6KHighOff     = 128             // after 128 bytes of low nibbles: 64 bytes of 2-bit pairs
	q6KScalesOff   = q6KHighOff + 64 // 16 int8 scales
	q6KDOff        = q6KScalesOff + 16
	q6KBlockBytes  = q6KDOff + 2
)

var formatInfo = [...]struct {
	name       string
	blockElems int // elements per block
	blockBytes int // bytes per block
}{
	F32:  {"f32", 1, 4},
	F16:  {"f16", 1, 2},
	BF16: {"bf16", 1, 2},
	Q8_0: {"q8_0", 32, q8_0BlockBytes},
	Q4_0: {"q4_0", 32, q4_0BlockBytes},
	Q4_K: {"q4_k", 256, q4KBlockBytes},
	Q6_K: {"q6_k", 256, q6KBlockBytes},
}

func (f Format) valid() bool { return int(f) < len(formatInfo) }

// String returns the lower-case GGUF name of the format ("q8_0", "bf16", …).
func (f Format) String() string {
	if !f.valid() {
		return fmt.Sprintf("Format(%d)", uint8(f))
	}
	return formatInfo[f].name
}

// BlockElems is the number of elements one block encodes (1 for plain floats).
func (f Format) BlockElems() int { return formatInfo[f].blockElems }

// BlockBytes is the size in bytes of one block.
func (f Format) BlockBytes() int { return formatInfo[f].blockBytes }

// RowBytes returns the byte length of a row of n elements, or an error when n is not a
// whole number of blocks.
func (f Format) RowBytes(n int) (int, error) {
	if !f.valid() {
		return 0, fmt.Errorf("kernels: unknown format %d", uint8(f))
	}
	be := formatInfo[f].blockElems
	if n < 0 || n%be != 0 {
		return 0, fmt.Errorf("kernels: %s row of %d elements is not a multiple of the block size %d", f, n, be)
	}
	return n / be * formatInfo[f].blockBytes, nil
}

// Dequantize decodes len(dst) elements from src, which holds whole blocks of format f,
// into float32. It is the bit-exact reference for every format: each element equals
// what ggml's dequantize_row_* produces. src must hold exactly the row's bytes.
func Dequantize(f Format, dst []float32, src []byte) error {
	want, err := f.RowBytes(len(dst))
	if err != nil {
		return err
	}
	if len(src) != want {
		return fmt.Errorf("kernels: %s row of %d elements needs %d bytes, got %d", f, len(dst), want, len(src))
	}
	switch f {
	case F32:
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
		}
	case F16:
		for i := range dst {
			dst[i] = float16.Frombits(binary.LittleEndian.Uint16(src[2*i:])).Float32()
		}
	case BF16:
		for i := range dst {
			dst[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(src[2*i:])) << 16)
		}
	case Q8_0:
		for b := 0; b < len(dst)/32; b++ {
			blk := src[b*34 : b*34+34]
			d := halfAt(blk, 0)
			for j := 0; j < 32; j++ {
				dst[b*32+j] = d * float32(int8(blk[2+j]))
			}
		}
	case Q4_0:
		for b := 0; b < len(dst)/32; b++ {
			blk := src[b*18 : b*18+18]
			d := halfAt(blk, 0)
			out := dst[b*32 : b*32+32]
			for j := 0; j < 16; j++ {
				out[j] = d * float32(int(blk[2+j]&0x0F)-8)
				out[j+16] = d * float32(int(blk[2+j]>>4)-8)
			}
		}
	case Q4_K:
		for b := 0; b < len(dst)/256; b++ {
			dequantizeQ4K(dst[b*256:b*256+256], src[b*144:b*144+144])
		}
	case Q6_K:
		for b := 0; b < len(dst)/256; b++ {
			dequantizeQ6K(dst[b*256:b*256+256], src[b*210:b*210+210])
		}
	}
	return nil
}

func halfAt(b []byte, off int) float32 {
	return float16.Frombits(binary.LittleEndian.Uint16(b[off:])).Float32()
}

// Q4KScaleMin unpacks the j-th (0…7) 6-bit scale and min of a Q4_K super-block from its
// 12 packed bytes (ggml's get_scale_min_k4).
func Q4KScaleMin(j int, scales []byte) (sc, m uint8) {
	if j < 4 {
		return scales[j] & 63, scales[j+4] & 63
	}
	sc = scales[j+4]&0x0F | (scales[j-4]>>6)<<4
	m = scales[j+4]>>4 | (scales[j]>>6)<<4
	return sc, m
}

// dequantizeQ4K decodes one 144-byte Q4_K super-block into 256 floats.
// Layout: d f16 | dmin f16 | scales [12]byte | qs [128]byte. Each 64-element group g uses
// sub-block scales 2g (low nibbles of 32 bytes) and 2g+1 (high nibbles of the same bytes).
func dequantizeQ4K(dst []float32, blk []byte) {
	d, dmin := halfAt(blk, 0), halfAt(blk, 2)
	scales, qs := blk[4:16], blk[16:144]
	for g := 0; g < 4; g++ {
		sc1, m1 := Q4KScaleMin(2*g, scales)
		sc2, m2 := Q4KScaleMin(2*g+1, scales)
		d1, min1 := d*float32(sc1), dmin*float32(m1)
		d2, min2 := d*float32(sc2), dmin*float32(m2)
		q := qs[32*g : 32*g+32]
		out := dst[64*g : 64*g+64]
		for l := 0; l < 32; l++ {
			out[l] = float32(d1*float32(q[l]&0x0F)) - min1 // explicit rounding: no FMA fusion
			out[l+32] = float32(d2*float32(q[l]>>4)) - min2
		}
	}
}

// dequantizeQ6K decodes one 210-byte Q6_K super-block into 256 floats.
// Layout: ql [128]byte | qh [64]byte | scales [16]int8 | d f16. Each half of 128 elements
// takes 64 ql bytes, 32 qh bytes and 8 scales; element l+32i (i<4) of a half combines a
// nibble of ql with bit pair i of qh[l], minus 32.
func dequantizeQ6K(dst []float32, blk []byte) {
	d := halfAt(blk, 208)
	for h := 0; h < 2; h++ {
		ql := blk[64*h : 64*h+64]
		qh := blk[128+32*h : 128+32*h+32]
		sc := blk[192+8*h : 192+8*h+8]
		out := dst[128*h : 128*h+128]
		for l := 0; l < 32; l++ {
			is := l / 16
			q1 := int(ql[l]&0x0F|(qh[l]>>0&3)<<4) - 32
			q2 := int(ql[l+32]&0x0F|(qh[l]>>2&3)<<4) - 32
			q3 := int(ql[l]>>4|(qh[l]>>4&3)<<4) - 32
			q4 := int(ql[l+32]>>4|(qh[l]>>6&3)<<4) - 32
			out[l] = d * float32(int8(sc[is])) * float32(q1)
			out[l+32] = d * float32(int8(sc[is+2])) * float32(q2)
			out[l+64] = d * float32(int8(sc[is+4])) * float32(q3)
			out[l+96] = d * float32(int8(sc[is+6])) * float32(q4)
		}
	}
}
