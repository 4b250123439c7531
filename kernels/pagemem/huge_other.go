//go:build !linux

package pagemem

// adviseHuge does nothing: only Linux backs anonymous memory with huge pages on
// request (macOS and Windows need privileges or special allocations for them).
func adviseHuge([]byte) {}

// HugePages is "": this system does not back this package's memory with huge pages.
func HugePages() string { return "" }
