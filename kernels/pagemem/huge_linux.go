package pagemem

import (
	"os"

	"golang.org/x/sys/unix"
)

// adviseHuge asks for transparent huge pages over b. Where the system has them off,
// the advice fails and b stays on small pages: correct, only slower to stream.
func adviseHuge(b []byte) { _ = unix.Madvise(b, unix.MADV_HUGEPAGE) }

// HugePages is the system's transparent huge page mode, "always", "madvise" (both
// back this package's memory with huge pages) or "never"; "" where unknown.
func HugePages() string {
	b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil {
		return ""
	}
	return selectedMode(string(b))
}
