//go:build unix

package pagemem

import "github.com/edsrzf/mmap-go"

// prot maps private anonymous memory (MAP_PRIVATE|MAP_ANONYMOUS): plain process
// memory, which transparent huge pages may back; shared anonymous memory would count
// as shmem.
const prot = mmap.COPY
