//go:build unix

package kernels

import "github.com/edsrzf/mmap-go"

// repackProt maps repacked weights private (MAP_PRIVATE|MAP_ANONYMOUS: plain process
// memory, which transparent huge pages may back where enabled; shared anonymous memory
// would count as shmem).
const repackProt = mmap.COPY
