package arch

import (
	"testing"

	"github.com/dllm-go/dllm/kernels/kernelstest"
)

// The model tests run on the active kernels; KERNELS_REQUIRE names those that must be.
func TestMain(m *testing.M) { kernelstest.Main(m) }
