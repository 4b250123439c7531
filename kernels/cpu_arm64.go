//go:build gc && !purego

package kernels

// NEON (ASIMD) is part of the arm64 baseline.
var archImpls = []*impl{
	{name: "neon", available: true, enabled: true, kernels: neonTable()},
}

func neonTable() table { return table{} }
