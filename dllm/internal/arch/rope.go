package arch

import "math"

// ropeTable holds cos/sin of the partial NeoX rotary embedding for every absolute position
// the model can see. Angles are computed in float64 and rounded once to float32, because
// the reference computes its tables in higher precision than the activations and a long
// context multiplies any error in the angle by the position.
type ropeTable struct {
	half     int       // rotary_dim/2: number of frequency pairs
	cos, sin []float32 // [positions][half]
}

// newRopeTable builds the tables for positions 0…positions-1 with
// inv_freq[j] = theta^(−2j/rotaryDim) (llada2-spec.md §2.3).
func newRopeTable(positions, rotaryDim int, theta float64) ropeTable {
	half := rotaryDim / 2
	t := ropeTable{half: half, cos: make([]float32, positions*half), sin: make([]float32, positions*half)}
	inv := make([]float64, half)
	for j := range inv {
		inv[j] = math.Pow(theta, -float64(2*j)/float64(rotaryDim))
	}
	for p := 0; p < positions; p++ {
		for j, f := range inv {
			s, c := math.Sincos(float64(p) * f)
			t.cos[p*half+j] = float32(c)
			t.sin[p*half+j] = float32(s)
		}
	}
	return t
}

// at returns the cos and sin rows of absolute position p.
func (t *ropeTable) at(p int) (cos, sin []float32) {
	return t.cos[p*t.half : (p+1)*t.half], t.sin[p*t.half : (p+1)*t.half]
}
