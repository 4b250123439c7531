package kernels_test

import (
	"testing"

	"github.com/dllm-go/dllm/kernels/kernelstest"
)

// KERNELS_REQUIRE names the implementations these tests must exercise.
func TestMain(m *testing.M) { kernelstest.Main(m) }
