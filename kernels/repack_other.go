//go:build !unix

package kernels

import "github.com/edsrzf/mmap-go"

// repackProt maps repacked weights read-write (a page-file-backed section on Windows).
const repackProt = mmap.RDWR
