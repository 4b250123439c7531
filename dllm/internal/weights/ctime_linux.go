package weights

import (
	"os"
	"syscall"
)

// changeTime is the inode's status-change time, which every write updates and no
// utime call can set back.
func changeTime(st os.FileInfo) int64 {
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		return s.Ctim.Sec*1e9 + s.Ctim.Nsec
	}
	return 0
}
