//go:build !unix

package convert

// release is a no-op where madvise is unavailable.
func release([]byte) {}
