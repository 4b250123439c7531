//go:build gc && !purego

package kernels

// NEON (ASIMD) is part of the arm64 baseline, so it is always available. The float
// matrix kernels and vector kernels are NEON; quantized formats and F16 weights use
// the generic kernels on arm64 (the Go assembler lacks the integer widening multiplies
// and FCVTL they need).
var archImpls = []*impl{
	{name: "neon", available: true, enabled: true, kernels: neonTable()},
}

func neonTable() table {
	t := table{
		dot: dotNEONGo, axpy: axpyNEONGo, add: addNEONGo, scale: scaleNEONGo,
		mulScaled: mulScaledNEONGo,
	}
	t.gemm[F32] = f32NEON.gemm
	t.gemm[BF16] = bf16NEON.gemm
	return t
}
