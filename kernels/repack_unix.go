//go:build unix

package kernels

import "github.com/edsrzf/mmap-go"

// repackProt maps repacked weights private (MAP_PRIVATE|MAP_ANONYMOUS: plain process
// memory, eligible for transparent huge pages, unlike shared anonymous memory).
const repackProt = mmap.COPY
