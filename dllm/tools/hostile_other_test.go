//go:build unix && !linux

package tools

import "testing"

// limitAddressSpace is Linux-only; elsewhere the Go memory limit alone applies.
func limitAddressSpace(*testing.T, uint64) {}
