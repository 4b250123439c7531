// Package outfile is how every writer of the library creates its output: a file never
// appears half written, and nothing the writer did not create is ever removed.
//
// A new path, or an existing regular file (through symbolic links), is written to a
// temporary file beside the target and renamed over it once complete and synced; on
// error only that temporary file is removed and the target is as it was. An existing
// file that is not regular (a FIFO, a device such as /dev/null, a socket) is written
// in place, since renaming over it would replace the node itself; on error it is left
// alone. A directory or a dangling symbolic link is refused.
package outfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// File is an output being written. Write to it, then Commit, or Abort on error.
type File struct {
	f      *os.File
	target string // the path the content goes to, symbolic links resolved
	temp   bool   // f is a temporary file that Commit renames onto target
	done   bool
}

// Create starts writing path.
func Create(path string) (*File, error) {
	target := path
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if _, lerr := os.Lstat(path); lerr == nil {
			return nil, fmt.Errorf("%s: dangling symbolic link; not replacing it", path)
		}
	case err != nil:
		return nil, err
	case fi.IsDir():
		return nil, fmt.Errorf("%s: is a directory", path)
	case !fi.Mode().IsRegular():
		// Written in place: the node (a pipe, a device) is what the caller named.
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return nil, err
		}
		return &File{f: f, target: path}, nil
	default:
		if target, err = filepath.EvalSymlinks(path); err != nil {
			return nil, err
		}
	}
	f, err := os.CreateTemp(filepath.Dir(target), "."+filepath.Base(target)+".tmp*")
	if err != nil {
		return nil, err
	}
	mode := fs.FileMode(0o644)
	if fi != nil {
		mode = fi.Mode().Perm() // a replaced file keeps its permissions
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return &File{f: f, target: target, temp: true}, nil
}

// Write writes to the output.
func (o *File) Write(p []byte) (int, error) { return o.f.Write(p) }

// Commit finishes the output: a temporary file is synced and renamed onto the target.
// On failure nothing changed at the target (for a file written in place, what was
// written stays written).
func (o *File) Commit() error {
	if o.done {
		return errors.New("outfile: already committed or aborted")
	}
	o.done = true
	if !o.temp {
		return o.f.Close()
	}
	err := o.f.Sync()
	if cerr := o.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(o.f.Name(), o.target)
	}
	if err != nil {
		os.Remove(o.f.Name())
	}
	return err
}

// Abort discards the output: the temporary file is removed; a file written in place is
// only closed. It does nothing after Commit.
func (o *File) Abort() {
	if o.done {
		return
	}
	o.done = true
	o.f.Close()
	if o.temp {
		os.Remove(o.f.Name())
	}
}

// Write creates path with what write writes, committing on success and aborting on
// any error.
func Write(path string, write func(w io.Writer) error) error {
	o, err := Create(path)
	if err != nil {
		return err
	}
	if err := write(o); err != nil {
		o.Abort()
		return err
	}
	return o.Commit()
}
