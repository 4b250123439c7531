// Package kernelstest holds test support for packages whose tests exercise the kernels.
package kernelstest

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/dllm-go/dllm/kernels"
)

// Main is a TestMain that refuses to run the tests when an implementation named in the
// comma-separated KERNELS_REQUIRE (for example "avx2", or "neon,neon-dotprod") is not
// active: without it, a build or machine whose CPU detection fails would compare the
// generic kernels with themselves, or run a model on them, and pass.
func Main(m *testing.M) {
	if err := kernels.Require(strings.Split(os.Getenv("KERNELS_REQUIRE"), ",")...); err != nil {
		fmt.Fprintln(os.Stderr, "KERNELS_REQUIRE:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}
