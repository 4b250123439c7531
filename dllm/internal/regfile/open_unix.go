//go:build unix

package regfile

import (
	"os"
	"syscall"
)

// openNonblock opens without waiting (a FIFO that replaced the file after the check
// opens at once instead of blocking) and without acquiring a controlling terminal. On
// regular files O_NONBLOCK has no effect.
func openNonblock(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
}
