package kernels

import (
	"fmt"
	"math"
)

func sameLen(op string, n int, others ...int) {
	for _, m := range others {
		if m != n {
			panic(fmt.Sprintf("kernels: %s: slice lengths %d and %d differ", op, n, m))
		}
	}
}

// Dot returns Σ a[i]·b[i], accumulated in float32 (implementations differ in summation
// order: |error| ≲ len·2⁻²⁴·Σ|a[i]·b[i]|). It panics if the lengths differ.
func Dot(a, b []float32) float32 {
	sameLen("Dot", len(a), len(b))
	return active.dot(a, b)
}

// Axpy sets y[i] += alpha·x[i]. Implementations may fuse the multiply-add (one rounding
// instead of two). It panics if the lengths differ.
func Axpy(y []float32, alpha float32, x []float32) {
	sameLen("Axpy", len(y), len(x))
	active.axpy(y, alpha, x)
}

// Add sets dst[i] = a[i] + b[i] (exact in every implementation). dst may alias a or b.
func Add(dst, a, b []float32) {
	sameLen("Add", len(dst), len(a), len(b))
	active.add(dst, a, b)
}

// Scale sets x[i] *= alpha (exact in every implementation).
func Scale(x []float32, alpha float32) { active.scale(x, alpha) }

// RMSNorm sets dst[i] = x[i]·s·weight[i] with s = 1/sqrt(Σx²/len(x) + eps), the sum of
// squares accumulated in float64 and s rounded once to float32. A nil weight means no
// multiply. dst may alias x. Results agree across implementations to a few ulp.
func RMSNorm(dst, x, weight []float32, eps float32) {
	sameLen("RMSNorm", len(dst), len(x))
	if weight != nil {
		sameLen("RMSNorm", len(weight), len(x))
	}
	if len(x) == 0 {
		return
	}
	ss := active.sumSquares(x)
	s := float32(1 / math.Sqrt(ss/float64(len(x))+float64(eps)))
	if weight == nil {
		copy(dst, x)
		active.scale(dst, s)
		return
	}
	active.mulScaled(dst, x, weight, s)
}

// SiLUMul sets dst[i] = gate[i]·σ(gate[i])·up[i], σ(g) = 1/(1+e^−g). The reference
// evaluates in float64 and rounds once; the AVX2 and NEON kernels' polynomial
// exponential keeps the relative error within 8·2⁻²⁴ for gates ≥ −87 (see the package
// documentation). dst may alias gate or up.
func SiLUMul(dst, gate, up []float32) {
	sameLen("SiLUMul", len(dst), len(gate), len(up))
	active.siluMul(dst, gate, up)
}

// Softmax replaces x by softmax(x) in place: e[i] = exp(x[i]−max), normalized by their
// float64 sum with one rounding per output. The reference evaluates the exponentials
// in float64; the AVX2 and NEON kernels use a float32 polynomial (results within
// 8·2⁻²⁴ relative, plus 2⁻¹²⁵ absolute: tiny results may flush to 0). If every element
// is −Inf the result is uniform; a NaN or +Inf anywhere makes every output NaN.
func Softmax(x []float32) {
	if len(x) == 0 {
		return
	}
	sum, every, special := softmaxExps(x)
	if special {
		for i := range x {
			x[i] = every
		}
		return
	}
	active.scaleRound(x, 1/sum)
}

// SoftmaxAt returns element i of softmax(x), the bits Softmax would write there, and
// leaves x holding scratch. It skips the pass that scales every element: a caller that
// needs one probability (a greedy sampler's confidence) saves a pass over the row.
func SoftmaxAt(x []float32, i int) float32 {
	_ = x[i]
	sum, every, special := softmaxExps(x)
	if special {
		return every
	}
	return float32(float64(x[i]) * (1 / sum))
}

// softmaxExps sets x[i] = exp(x[i] − max x) and returns their sum, the first step of
// Softmax and SoftmaxAt; or, leaving x alone, reports special with the value every
// output takes: NaN when x holds a NaN or +Inf, 1/len(x) when nothing is above −Inf.
func softmaxExps(x []float32) (sum float64, every float32, special bool) {
	mx, nan := active.maxNaN(x)
	switch {
	case nan || math.IsInf(float64(mx), 1):
		return 0, float32(math.NaN()), true
	case math.IsInf(float64(mx), -1):
		return 0, 1 / float32(len(x)), true
	}
	return active.softmaxExp(x, mx), 0, false
}

// RoPENeoX applies NeoX-style rotary embedding to the first 2·len(cos) elements of x:
// with h = len(cos), a = x[:h], b = x[h:2h], it sets a' = a·cos − b·sin and
// b' = b·cos + a·sin elementwise (each product rounded, no fused multiply-add);
// x[2h:] is untouched. It panics if len(sin) != h or len(x) < 2h.
func RoPENeoX(x, cos, sin []float32) {
	h := len(cos)
	sameLen("RoPENeoX", h, len(sin))
	if len(x) < 2*h {
		panic(fmt.Sprintf("kernels: RoPENeoX: %d elements, need at least %d", len(x), 2*h))
	}
	a, b := x[:h], x[h:2*h]
	for i := range h {
		ai, bi := a[i], b[i]
		a[i] = float32(ai*cos[i]) - float32(bi*sin[i])
		b[i] = float32(bi*cos[i]) + float32(ai*sin[i])
	}
}

// RoPEInterleaved applies rotary embedding with adjacent pairs (llama.cpp's "normal"
// RoPE) to the first 2·len(cos) elements of x: pair i is (x[2i], x[2i+1]), rotated like
// RoPENeoX's pair (x[i], x[i+h]) with the same rounding. A head whose rows a converter
// permuted for this layout gives the same scores under it as the original under NeoX.
// It panics if len(sin) != h or len(x) < 2h.
func RoPEInterleaved(x, cos, sin []float32) {
	h := len(cos)
	sameLen("RoPEInterleaved", h, len(sin))
	if len(x) < 2*h {
		panic(fmt.Sprintf("kernels: RoPEInterleaved: %d elements, need at least %d", len(x), 2*h))
	}
	for i := range h {
		ai, bi := x[2*i], x[2*i+1]
		x[2*i] = float32(ai*cos[i]) - float32(bi*sin[i])
		x[2*i+1] = float32(bi*cos[i]) + float32(ai*sin[i])
	}
}
