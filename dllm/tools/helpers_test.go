package tools

import (
	"testing"

	"github.com/dllm-go/dllm/dllm"
	"github.com/dllm-go/dllm/kernels/kernelstest"
)

// The model tests run on the active kernels; KERNELS_REQUIRE names those that must be.
func TestMain(m *testing.M) { kernelstest.Main(m) }

const microDir = "../../testdata/llada2-micro"

// loadModel loads path on two threads and closes it when the test ends.
func loadModel(t testing.TB, path string) *dllm.Model {
	t.Helper()
	m, err := dllm.Load(path, dllm.LoadOptions{Threads: 2})
	if err != nil {
		t.Fatalf("Load(%s): %v", path, err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// newSession opens a session on m and closes it when the test ends.
func newSession(t testing.TB, m *dllm.Model) *dllm.Session {
	t.Helper()
	s, err := m.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
