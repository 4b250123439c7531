// Package invalid marks errors caused by the caller's input, so that package dllm and
// the tools built on it report them alike: each reads as its cause and matches ErrInvalid
// (dllm.ErrInvalid) under errors.Is.
package invalid

import (
	"errors"
	"fmt"
)

// ErrInvalid is dllm.ErrInvalid.
var ErrInvalid = errors.New("dllm: invalid argument")

type argError struct{ err error }

func (e argError) Error() string   { return e.err.Error() }
func (e argError) Unwrap() []error { return []error{ErrInvalid, e.err} }

// Wrap marks err as an input error.
func Wrap(err error) error { return argError{err} }

// Errorf is fmt.Errorf marked as an input error.
func Errorf(format string, args ...any) error { return argError{fmt.Errorf(format, args...)} }

// CheckIDs reports the first id outside the vocabulary [0, vocab).
func CheckIDs(ids []int32, vocab int) error {
	for i, id := range ids {
		if id < 0 || int(id) >= vocab {
			return Errorf("dllm: token id %d at index %d is outside the vocabulary [0,%d)", id, i, vocab)
		}
	}
	return nil
}
