//go:build gc && !purego

package kernels

import "golang.org/x/sys/cpu"

// NEON (ASIMD) is part of the arm64 baseline, so "neon" is always available: the F32,
// BF16 and F16 matrix kernels, the vector kernels, the activation quantizers and the
// f16/bf16 conversions.
// "neon-dotprod" adds the Q8_0, Q4_0, Q4_K and Q6_K matrix kernels, which need
// FEAT_DotProd (SDOT).
var archImpls = []*impl{
	{name: "neon-dotprod", available: cpu.ARM64.HasASIMDDP, enabled: cpu.ARM64.HasASIMDDP, kernels: dotprodTable()},
	{name: "neon", available: true, enabled: true, kernels: neonTable()},
}

func dotprodTable() table {
	t := neonTable()
	t.gemm[Q8_0] = q8_0NEON.gemm
	t.gemm[Q4_0] = q4_0NEON.gemm
	t.gemm[Q4_K] = q4_KNEON.gemm
	t.gemm[Q6_K] = q6_KNEON.gemm
	return t
}

func neonTable() table {
	t := table{
		dot:        asmDot(dotNEON, 16),
		axpy:       asmAxpy(axpyNEON, 16),
		add:        asmElementwise(addNEON, addGeneric, 16),
		scale:      asmScale(scaleNEON, 16),
		mulScaled:  asmMulScaled(mulScaledNEON, 16),
		sumSquares: asmSumSquares(sumSquaresNEON, 16),
		siluMul:    asmElementwise(siluMulNEON, siluMulGeneric, 8),
		softmaxExp: asmSoftmaxExp(softmaxExpNEON, 8),
		scaleRound: asmScaleRound(scaleRoundNEON, 16),
		maxNaN:     asmMaxNaN(maxNEON, 16),
		quantQ8:    quantQ8NEONGo, quantQ8K: quantQ8KNEONGo,
		f16ToF32: f16ToF32NEONGo, bf16ToF32: bf16ToF32NEONGo,
		f32ToF16: f32ToF16NEONGo, f32ToBF16: f32ToBF16NEONGo,
	}
	t.gemm[F32] = f32NEON.gemm
	t.gemm[BF16] = bf16NEON.gemm
	t.gemm[F16] = f16NEON.gemm
	return t
}
