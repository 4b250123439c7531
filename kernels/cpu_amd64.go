//go:build gc && !purego

package kernels

import "golang.org/x/sys/cpu"

// useAVX2 reports AVX2, FMA and F16C, the baseline of every amd64 kernel here.
var useAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasF16C

var archImpls = []*impl{
	{name: "avx2", available: useAVX2, enabled: useAVX2, kernels: avx2Table()},
}

func avx2Table() table { return table{} }
