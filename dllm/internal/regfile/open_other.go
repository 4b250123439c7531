//go:build !unix

package regfile

import "os"

// openNonblock is a plain open where there are no FIFOs to block on.
func openNonblock(path string) (*os.File, error) { return os.Open(path) }
