//go:build unix

package convert

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// release tells the kernel we are done with the source pages of a converted chunk (the
// whole pages inside b). They belong to a read-only file mapping, so dropping them loses
// nothing; it keeps the process's resident size at the chunk in flight instead of
// growing to the largest tensor (an embedding is 0.6 GiB) or the whole checkpoint. The
// page cache still keeps them if memory allows.
func release(b []byte) {
	page := uintptr(os.Getpagesize())
	if len(b) < int(page) {
		return
	}
	start := uintptr(unsafe.Pointer(&b[0]))
	lo := (start + page - 1) &^ (page - 1)
	hi := (start + uintptr(len(b))) &^ (page - 1)
	if hi <= lo {
		return
	}
	unix.Madvise(b[lo-start:hi-start], unix.MADV_DONTNEED)
}
