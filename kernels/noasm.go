//go:build purego || !gc || !(amd64 || arm64)

package kernels

// archImpls is empty: only the generic kernels are built.
var archImpls []*impl
