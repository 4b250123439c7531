package kernels

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
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

// TestConvertLengths checks every implementation's conversions at every length up to 80
// (no, one and several blocks of 16, and every tail) against the generic bits, each
// output inside guard bands that must stay untouched, so an assembly loop that stops a
// block early or runs one block past its end fails.
func TestConvertLengths(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	const maxN = 80
	halves := make([]byte, 2*maxN)
	f32 := make([]float32, maxN)
	for i := range maxN {
		binary.LittleEndian.PutUint16(halves[2*i:], uint16(r.Uint32()))
		f32[i] = math.Float32frombits(r.Uint32())
	}
	eachImpl(t, func(t *testing.T) {
		for n := 0; n <= maxN; n++ {
			for _, c := range []struct {
				name      string
				conv, gen func([]float32, []byte)
			}{{"F16ToF32", F16ToF32, f16ToF32Generic}, {"BF16ToF32", BF16ToF32, bf16ToF32Generic}} {
				want := make([]float32, n)
				c.gen(want, halves[:2*n])
				got, check := guarded(t, n, 5)
				c.conv(got, halves[:2*n])
				check()
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%s, %d values: [%d] = %#08x, want %#08x", c.name, n, i, math.Float32bits(got[i]), math.Float32bits(want[i]))
					}
				}
			}
			for _, c := range []struct {
				name      string
				conv, gen func([]byte, []float32)
			}{{"F32ToF16", F32ToF16, f32ToF16Generic}, {"F32ToBF16", F32ToBF16, f32ToBF16Generic}} {
				want := make([]byte, 2*n)
				c.gen(want, f32[:n])
				const guard = 32
				buf := make([]byte, 2*n+2*guard)
				for i := range buf {
					buf[i] = 0xa5
				}
				c.conv(buf[guard:guard+2*n:guard+2*n], f32[:n])
				for i, b := range buf {
					if (i < guard || i >= guard+2*n) && b != 0xa5 {
						t.Fatalf("%s, %d values: guard byte %d overwritten", c.name, n, i-guard)
					}
				}
				for i := range n {
					g, w := binary.LittleEndian.Uint16(buf[guard+2*i:]), binary.LittleEndian.Uint16(want[2*i:])
					if g != w {
						t.Fatalf("%s, %d values: [%d] = %#04x, want %#04x", c.name, n, i, g, w)
					}
				}
			}
		}
	})
}
