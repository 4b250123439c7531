package kernels

import (
	"encoding/binary"
	"math"
	"testing"
)

// Fuzz targets compare every implementation with the float64 references on arbitrary
// inputs. Run one with, e.g., go test -fuzz FuzzMatMul -fuzztime 30s ./kernels.

func floatsFrom(data []byte) []float32 {
	x := make([]float32, len(data)/4)
	for i := range x {
		x[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
	}
	return x
}

func FuzzDot(f *testing.F) {
	f.Add([]byte{0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64})
	f.Add(make([]byte, 4*37))
	f.Fuzz(func(t *testing.T, data []byte) {
		v := floatsFrom(data)
		a, b := v[:len(v)/2], v[len(v)/2:2*(len(v)/2)]
		var want, mag float64
		for i := range a {
			want += float64(a[i]) * float64(b[i])
			mag += math.Abs(float64(a[i]) * float64(b[i]))
		}
		if math.IsInf(mag, 0) || math.IsNaN(mag) || mag > math.MaxFloat32/2 {
			return
		}
		eachImpl(t, func(t *testing.T) {
			got := Dot(a, b)
			if e := math.Abs(float64(got) - want); e > float64(len(a)+2)*0x1p-24*mag+1e-45*float64(len(a)) {
				t.Fatalf("Dot(%v, %v) = %g, want %g", a, b, got, want)
			}
			y := append([]float32(nil), b...)
			Axpy(y, 0.5, a)
			for i := range y {
				w := float64(b[i]) + 0.5*float64(a[i])
				if e := math.Abs(float64(y[i]) - w); e > 0x1p-23*(math.Abs(float64(b[i]))+math.Abs(0.5*float64(a[i])))+0x1p-149 {
					t.Fatalf("Axpy[%d] = %g, want %g", i, y[i], w)
				}
			}
		})
	})
}

// FuzzMatMul interprets the input as weight blocks of a quantized or float format
// (scales forced finite and modest) and an activation vector, and checks every
// implementation against the float64 reference.
func FuzzMatMul(f *testing.F) {
	f.Add(uint8(3), uint8(5), make([]byte, 400))
	f.Add(uint8(5), uint8(1), make([]byte, 700))
	f.Fuzz(func(t *testing.T, fsel, mrows uint8, data []byte) {
		fm := allFormats[int(fsel)%len(allFormats)]
		M := 1 + int(mrows)%6
		K := 256
		if fm.BlockElems() == 1 {
			K = 8 + int(mrows)%17
		}
		rb, _ := fm.RowBytes(K)
		N := min(len(data)/rb, 9)
		if N == 0 {
			return
		}
		wb := append([]byte(nil), data[:N*rb]...)
		// Force finite, modest scales and float weights; keep the quant bytes as fuzzed.
		fix := func(off int, v uint16) { binary.LittleEndian.PutUint16(wb[off:], v) }
		switch fm {
		case F32:
			for i := 0; i < len(wb); i += 4 {
				v := math.Float32frombits(binary.LittleEndian.Uint32(wb[i:]))
				if v != v || math.Abs(float64(v)) > 1e6 {
					binary.LittleEndian.PutUint32(wb[i:], math.Float32bits(1))
				}
			}
		case F16, BF16:
			for i := 0; i < len(wb); i += 2 {
				wb[i+1] &= 0x3f // exponent well below Inf for both formats
			}
		default:
			bb := fm.BlockBytes()
			for o := 0; o < len(wb); o += bb {
				switch fm {
				case Q8_0, Q4_0:
					fix(o, 0x2000|binary.LittleEndian.Uint16(wb[o:])&0x0fff)
				case Q4_K:
					fix(o, 0x2000|binary.LittleEndian.Uint16(wb[o:])&0x0fff)
					fix(o+2, 0x2000|binary.LittleEndian.Uint16(wb[o+2:])&0x0fff)
				case Q6_K:
					fix(o+208, 0x2000|binary.LittleEndian.Uint16(wb[o+208:])&0x0fff)
				}
			}
		}
		w, err := NewMatrix(fm, N, K, wb)
		if err != nil {
			t.Fatal(err)
		}
		x := make([]float32, M*K)
		for i := range x {
			x[i] = float32(int8(data[(i*7)%len(data)])) / 16
		}
		want, mag := refMatMul(x, w)
		eachImpl(t, func(t *testing.T) {
			y := make([]float32, M*N)
			NewPool(2).MatMul(y, x, w)
			for i := range y {
				if d := math.Abs(float64(y[i]) - want[i]); !(d <= matMulTol(fm, K)*mag[i]+1e-30) {
					t.Fatalf("%s M=%d N=%d: y[%d] = %g, want %g", fm, M, N, i, y[i], want[i])
				}
			}
		})
	})
}

func FuzzConvert(f *testing.F) {
	f.Add([]byte{0, 0, 128, 63, 1, 0, 128, 127})
	f.Fuzz(func(t *testing.T, data []byte) {
		x := floatsFrom(data)
		b := make([]byte, 2*len(x))
		back := make([]float32, len(x))
		F32ToBF16(b, x)
		BF16ToF32(back, b)
		for i, v := range x {
			// Round to nearest: within half a bf16 step (8 significant bits), or the
			// nearest representable (Inf beyond the largest).
			if v != v {
				if back[i] == back[i] {
					t.Fatalf("bf16 NaN → %g", back[i])
				}
				continue
			}
			if math.IsInf(float64(back[i]), 0) && math.Abs(float64(v)) >= 3.3e38 {
				continue
			}
			if e := math.Abs(float64(back[i]) - float64(v)); e > math.Abs(float64(v))*0x1p-8+0x1p-134 {
				t.Fatalf("bf16 %g → %g", v, back[i])
			}
		}
	})
}

// FuzzArgmaxSoftmaxAt checks Argmax against the element-by-element argmaxGeneric, and
// SoftmaxAt against Softmax, on arbitrary rows (NaNs and infinities included), the row
// also repeated past several of Argmax's chunks.
func FuzzArgmaxSoftmaxAt(f *testing.F) {
	f.Add([]byte{0, 0, 128, 63, 0, 0, 192, 127, 0, 0, 128, 255})
	f.Add(make([]byte, 4*37))
	f.Fuzz(func(t *testing.T, data []byte) {
		x := floatsFrom(data)
		if len(x) == 0 {
			return
		}
		long := make([]float32, 2*argmaxChunk+len(x))
		for i := range long {
			long[i] = x[i%len(x)]
		}
		eachImpl(t, func(t *testing.T) {
			for _, row := range [][]float32{x, long} {
				a := Argmax(row)
				if want := argmaxGeneric(row); a != want {
					t.Fatalf("Argmax of %d elements = %d, want %d", len(row), a, want)
				}
				sm := append([]float32(nil), row...)
				Softmax(sm)
				for _, i := range []int{0, a, len(row) - 1} {
					scratch := append([]float32(nil), row...)
					if got := SoftmaxAt(scratch, i); math.Float32bits(got) != math.Float32bits(sm[i]) && !(got != got && sm[i] != sm[i]) {
						t.Fatalf("SoftmaxAt(row of %d, %d) = %g, Softmax gives %g", len(row), i, got, sm[i])
					}
				}
			}
		})
	})
}
