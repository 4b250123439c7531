// Package cputime reads the process's CPU time, which benchmarks and measurement tests
// report next to wall time: on a shared machine wall time measures the neighbours too.
package cputime

import "time"

// Process returns the user+system CPU time the process has used so far, or 0 where the
// operating system does not say.
func Process() time.Duration { return process() }
