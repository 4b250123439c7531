package kernels

import (
	"encoding/binary"
	"math"
	"testing"
)

// TestConvertExact checks every implementation's conversions against the generic bits:
// all 65536 halves and bfloat16s, and float32 bit patterns spread over the whole range
// plus the edges (zeros, subnormals, rounding ties and carries, the largest finite
// values, infinities and NaNs of every kind), with lengths that leave tails.
func TestConvertExact(t *testing.T) {
	halves := make([]byte, 2*65536+6) // 3 more values: a tail
	for i := range 65539 {
		binary.LittleEndian.PutUint16(halves[2*i:], uint16(i))
	}
	var bits []uint32
	step := uint32(65521)
	if testing.Short() || raceEnabled {
		step = 1<<20 - 3
	}
	for b := uint64(0); b < 1<<32; b += uint64(step) {
		bits = append(bits, uint32(b))
	}
	for _, e := range []uint32{0, 1, 0x007fffff, 0x00800000, 0x33000000, 0x33000001, 0x337fffff,
		0x38800000, 0x387fe000, 0x387ff000, 0x3f801000, 0x3f803000, 0x3f808000, 0x3f818000,
		0x477fe000, 0x477ff000, 0x477fefff, 0x7f7fffff, 0x7f7f8000, 0x7f7f7fff, 0x7f800000,
		0x7f800001, 0x7fbfffff, 0x7fc00000, 0x7fffffff, 0x7f802000} {
		bits = append(bits, e, e|0x80000000)
	}
	f32 := make([]float32, len(bits))
	for i, b := range bits {
		f32[i] = math.Float32frombits(b)
	}

	wantF16 := make([]float32, 65539)
	f16ToF32Generic(wantF16, halves)
	wantBF16 := make([]float32, 65539)
	bf16ToF32Generic(wantBF16, halves)
	wantToF16 := make([]byte, 2*len(f32))
	f32ToF16Generic(wantToF16, f32)
	wantToBF16 := make([]byte, 2*len(f32))
	f32ToBF16Generic(wantToBF16, f32)

	eachImpl(t, func(t *testing.T) {
		got := make([]float32, 65539)
		F16ToF32(got, halves)
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(wantF16[i]) {
				t.Fatalf("F16ToF32(%#04x) = %#08x, want %#08x", i&0xffff, math.Float32bits(got[i]), math.Float32bits(wantF16[i]))
			}
		}
		BF16ToF32(got, halves)
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(wantBF16[i]) {
				t.Fatalf("BF16ToF32(%#04x) = %#08x, want %#08x", i&0xffff, math.Float32bits(got[i]), math.Float32bits(wantBF16[i]))
			}
		}
		b := make([]byte, 2*len(f32))
		for _, c := range []struct {
			name string
			conv func([]byte, []float32)
			want []byte
		}{{"F32ToF16", F32ToF16, wantToF16}, {"F32ToBF16", F32ToBF16, wantToBF16}} {
			c.conv(b, f32)
			for i := range f32 {
				g, w := binary.LittleEndian.Uint16(b[2*i:]), binary.LittleEndian.Uint16(c.want[2*i:])
				if g != w {
					t.Fatalf("%s(%#08x) = %#04x, want %#04x", c.name, bits[i], g, w)
				}
			}
		}
	})
}
