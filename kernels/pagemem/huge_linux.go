package pagemem

import "golang.org/x/sys/unix"

// adviseHuge asks for transparent huge pages over b. Where the system has them off,
// the advice fails and b stays on small pages: correct, only slower to stream.
func adviseHuge(b []byte) { _ = unix.Madvise(b, unix.MADV_HUGEPAGE) }
