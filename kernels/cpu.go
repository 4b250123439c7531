package kernels

import (
	"fmt"
	"slices"
	"strings"
	"sync"
)

// An Implementation is one set of kernels, such as "avx2" on amd64 or "neon" on arm64.
// The portable Go reference ("generic") is always present and always available; it is
// also the fallback for every kernel an implementation does not provide.
type Implementation struct {
	Name      string // "generic", "avx2", "avx512vnni", "neon", "neon-dotprod"
	Available bool   // the machine supports it
	Enabled   bool   // it may be selected (all available ones are, by default)
}

// table is one implementation's kernels; nil entries fall back to the generic ones.
type table struct {
	dot        func(a, b []float32) float32
	axpy       func(y []float32, alpha float32, x []float32)
	add        func(dst, a, b []float32)
	scale      func(x []float32, alpha float32)
	sumSquares func(x []float32) float64
	mulScaled  func(dst, x, w []float32, s float32) // dst[i] = x[i]*s*w[i]
	siluMul    func(dst, gate, up []float32)
	softmaxExp func(x []float32, mx float32) float64 // x[i] = exp(x[i]−mx); returns Σ
	scaleRound func(x []float32, s float64)          // x[i] = float32(float64(x[i])·s)
	maxNaN     func(x []float32) (float32, bool)     // max ignoring NaNs; any NaN?
	quantQ8    func(dst []byte, x []float32)         // x as Q8_0 activation blocks
	quantQ8K   func(dst []byte, x []float32)         // x as Q8_K activation blocks
	f16ToF32   func(dst []float32, src []byte)
	bf16ToF32  func(dst []float32, src []byte)
	f32ToF16   func(dst []byte, src []float32)
	f32ToBF16  func(dst []byte, src []float32)
	gemm       [Q6_K + 1]gemmFunc
	// prep, where set, is the layout its gemm takes the quantized activations in
	// (xPrep.alt) instead of xPrep.q's. It comes with the gemm.
	prep [Q6_K + 1]*actLayout
	// repacked lists, best first, the kernels that multiply a format's weights repacked
	// into a layout of their own (repack.go): a matrix takes the first whose layout's
	// width divides its rows, and is repacked on its first multiply. The merged table
	// lists the enabled implementations' kernels in their order.
	repacked [Q6_K + 1][]repackedGemm
}

// repackedGemm multiplies weights in layout, after prep where set; rows2to4: its
// kernel for 2–4 activation rows (quantKernels.kN) takes a tail of 2 or 3 rows in one
// pass over the weights, and its passes after the first over a tile prefetch the next
// one (gemmFunc's pf).
type repackedGemm struct {
	layout   *layout
	gemm     gemmFunc
	prep     *actLayout
	rows2to4 bool
}

type impl struct {
	name      string
	available bool
	enabled   bool
	kernels   table
}

var (
	implMu sync.Mutex
	// impls lists implementations best first; the generic one is last.
	impls []*impl
	// active is the merged table in use: for each kernel, the first enabled and available
	// implementation that provides it.
	active table
)

func init() {
	// archImpls is declared by the per-architecture files (empty under purego).
	impls = append(archImpls, &impl{name: "generic", available: true, enabled: true, kernels: genericTable()})
	selectKernels()
}

func genericTable() table {
	t := table{
		dot: dotGeneric, axpy: axpyGeneric, add: addGeneric, scale: scaleGeneric,
		sumSquares: sumSquaresGeneric, mulScaled: mulScaledGeneric, siluMul: siluMulGeneric,
		softmaxExp: softmaxExpGeneric, scaleRound: scaleRoundGeneric, maxNaN: maxNaNGeneric,
		quantQ8: quantQ8Generic, quantQ8K: quantQ8KGeneric,
		f16ToF32: f16ToF32Generic, bf16ToF32: bf16ToF32Generic,
		f32ToF16: f32ToF16Generic, f32ToBF16: f32ToBF16Generic,
	}
	for f := range t.gemm {
		t.gemm[f] = gemmGeneric
	}
	return t
}

// selectKernels recomputes active from impls.
func selectKernels() {
	var t table
	for i := len(impls) - 1; i >= 0; i-- {
		im := impls[i]
		if !im.available || !im.enabled {
			continue
		}
		k := &im.kernels
		if k.dot != nil {
			t.dot = k.dot
		}
		if k.axpy != nil {
			t.axpy = k.axpy
		}
		if k.add != nil {
			t.add = k.add
		}
		if k.scale != nil {
			t.scale = k.scale
		}
		if k.sumSquares != nil {
			t.sumSquares = k.sumSquares
		}
		if k.mulScaled != nil {
			t.mulScaled = k.mulScaled
		}
		if k.siluMul != nil {
			t.siluMul = k.siluMul
		}
		if k.softmaxExp != nil {
			t.softmaxExp = k.softmaxExp
		}
		if k.scaleRound != nil {
			t.scaleRound = k.scaleRound
		}
		if k.maxNaN != nil {
			t.maxNaN = k.maxNaN
		}
		if k.quantQ8 != nil {
			t.quantQ8 = k.quantQ8
		}
		if k.quantQ8K != nil {
			t.quantQ8K = k.quantQ8K
		}
		if k.f16ToF32 != nil {
			t.f16ToF32 = k.f16ToF32
		}
		if k.bf16ToF32 != nil {
			t.bf16ToF32 = k.bf16ToF32
		}
		if k.f32ToF16 != nil {
			t.f32ToF16 = k.f32ToF16
		}
		if k.f32ToBF16 != nil {
			t.f32ToBF16 = k.f32ToBF16
		}
		for f, ks := range k.repacked {
			t.repacked[f] = slices.Concat(ks, t.repacked[f]) // impls run worst first
		}
		for f, g := range k.gemm {
			if g != nil {
				t.gemm[f], t.prep[f] = g, k.prep[f]
			}
		}
	}
	active = t
}

// Implementations lists the kernel implementations compiled into this binary, best
// first, ending with "generic".
func Implementations() []Implementation {
	implMu.Lock()
	defer implMu.Unlock()
	out := make([]Implementation, len(impls))
	for i, im := range impls {
		out[i] = Implementation{Name: im.name, Available: im.available, Enabled: im.enabled}
	}
	return out
}

// SetImplementation enables or disables the named implementation and returns a function
// restoring the previous setting. Disabling "generic" is not allowed; enabling an
// implementation the machine lacks is an error. It is meant for tests and benchmarks
// and must not run concurrently with kernels.
func SetImplementation(name string, enabled bool) (restore func(), err error) {
	implMu.Lock()
	defer implMu.Unlock()
	for _, im := range impls {
		if im.name != name {
			continue
		}
		if name == "generic" && !enabled {
			return nil, fmt.Errorf("kernels: the generic implementation cannot be disabled")
		}
		if enabled && !im.available {
			return nil, fmt.Errorf("kernels: implementation %q is not available on this machine", name)
		}
		prev := im.enabled
		im.enabled = enabled
		selectKernels()
		return func() {
			implMu.Lock()
			defer implMu.Unlock()
			im.enabled = prev
			selectKernels()
		}, nil
	}
	return nil, fmt.Errorf("kernels: no implementation named %q", name)
}

// Use makes name the only enabled implementation besides "generic" (which fills in
// kernels name lacks) and returns a function restoring the previous settings.
func Use(name string) (restore func(), err error) {
	implMu.Lock()
	defer implMu.Unlock()
	var found *impl
	for _, im := range impls {
		if im.name == name {
			found = im
		}
	}
	if found == nil {
		return nil, fmt.Errorf("kernels: no implementation named %q", name)
	}
	if !found.available {
		return nil, fmt.Errorf("kernels: implementation %q is not available on this machine", name)
	}
	prev := make([]bool, len(impls))
	for i, im := range impls {
		prev[i] = im.enabled
		im.enabled = im == found || im.name == "generic"
	}
	selectKernels()
	return func() {
		implMu.Lock()
		defer implMu.Unlock()
		for i, im := range impls {
			im.enabled = prev[i]
		}
		selectKernels()
	}, nil
}

// Require returns an error unless every named implementation is compiled into this
// binary, available on this machine and enabled, so that a test run meant to exercise
// assembly cannot silently fall back to the generic kernels. Empty names are ignored.
func Require(names ...string) error {
	implMu.Lock()
	defer implMu.Unlock()
	var missing []string
	for _, name := range names {
		if name == "" {
			continue
		}
		state := "not compiled in"
		for _, im := range impls {
			if im.name == name {
				switch {
				case !im.available:
					state = "not available on this machine"
				case !im.enabled:
					state = "disabled"
				default:
					state = ""
				}
			}
		}
		if state != "" {
			missing = append(missing, fmt.Sprintf("%s (%s)", name, state))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("kernels: required implementations not active: %s", strings.Join(missing, ", "))
	}
	return nil
}
