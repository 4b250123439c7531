//go:build gc && !purego

package kernels

import "golang.org/x/sys/cpu"

// useAVX2 reports AVX2, FMA and F16C, the baseline of every amd64 kernel here.
var useAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasF16C

// useVNNI adds AVX-512 VNNI (AVX512F and VL: EVEX encodings, embedded broadcasts, 256-
// and 512-bit vectors; BW: byte and word steps on 512 bits, which every CPU with
// VNNI has) to the AVX2 baseline.
var useVNNI = useAVX2 && cpu.X86.HasAVX512F && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VNNI

// cpuid returns the registers of the CPUID instruction for leaf and sub-leaf
// (cpuid_amd64.s).
func cpuid(leaf, sub uint32) (a, b, c, d uint32)

// cpuVendor returns the processor's vendor string ("GenuineIntel", "AuthenticAMD", …).
func cpuVendor() string {
	_, b, c, d := cpuid(0, 0)
	var v [12]byte
	for i, r := range [3]uint32{b, d, c} {
		v[4*i], v[4*i+1], v[4*i+2], v[4*i+3] = byte(r), byte(r>>8), byte(r>>16), byte(r>>24)
	}
	return string(v[:])
}

// isAMD reports an AMD processor, whose prefetch distances differ (gemvX16Prefetch,
// gemmX16L2Prefetch).
var isAMD = cpuVendor() == "AuthenticAMD"

var archImpls = []*impl{
	{name: "avx512vnni", available: useVNNI, enabled: useVNNI, kernels: vnniTable()},
	{name: "avx2", available: useAVX2, enabled: useAVX2, kernels: avx2Table()},
}

func avx2Table() table {
	t := table{
		dot:        asmDot(dotAVX2, 8),
		axpy:       asmAxpy(axpyAVX2, 8),
		add:        asmElementwise(addAVX2, addGeneric, 8),
		scale:      asmScale(scaleAVX2, 8),
		sumSquares: asmSumSquares(sumSquaresAVX2, 8),
		mulScaled:  asmMulScaled(mulScaledAVX2, 8),
		siluMul:    asmElementwise(siluMulAVX2, siluMulGeneric, 8),
		softmaxExp: asmSoftmaxExp(softmaxExpAVX2, 8),
		scaleRound: asmScaleRound(scaleRoundAVX2, 8),
		maxNaN:     asmMaxNaN(maxAVX2, 8),
		quantQ8:    quantQ8AVX2Go, quantQ8K: quantQ8KAVX2Go,
		f16ToF32: f16ToF32AVX2Go, bf16ToF32: bf16ToF32AVX2Go,
		f32ToF16: f32ToF16AVX2Go, f32ToBF16: f32ToBF16AVX2Go,
	}
	t.gemm[F32] = f32AVX2.gemm
	t.gemm[BF16] = bf16AVX2.gemm
	t.gemm[F16] = f16AVX2.gemm
	t.gemm[Q8_0] = q8_0AVX2.gemm
	t.gemm[Q4_0] = q4_0AVX2.gemm
	t.gemm[Q4_K] = q4_KAVX2.gemm
	t.gemm[Q6_K] = q6_KAVX2.gemm
	t.repacked[Q8_0] = q8_0X8AVX2.repacked(q8X8, nil)
	t.repacked[Q4_K] = q4_KX8AVX2.repacked(q4KX8, nil)
	t.repacked[Q6_K] = q6_KX8AVX2.repacked(q6KX8, nil)
	return t
}

// vnniTable holds the kernels that VNNI speeds up; the others come from avx2Table.
func vnniTable() table {
	var t table
	t.gemm[Q8_0], t.prep[Q8_0] = q8_0VNNI.gemm, prepQ8VNNI
	t.repacked[Q8_0] = q8_0X16VNNI.repacked(q8X16, prepQ8X8)
	// Matrices of 8 rows more than a multiple of 16 take avx2's 8-row Q4_K and Q6_K
	// kernels.
	t.repacked[Q4_K] = q4_KX16VNNI.repacked(q4KX16, nil)
	t.repacked[Q6_K] = q6_KX16VNNI.repacked(q6KX16, nil)
	return t
}
