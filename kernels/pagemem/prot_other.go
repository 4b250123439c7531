//go:build !unix

package pagemem

import "github.com/edsrzf/mmap-go"

// prot maps the memory read-write (a page-file-backed section on Windows).
const prot = mmap.RDWR
