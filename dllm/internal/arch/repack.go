package arch

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/dllm-go/dllm/dllm/internal/weights"
	"github.com/dllm-go/dllm/kernels"
)

// repack makes, on every CPU, the repacked layout of each weight matrix the kernels
// have one for (kernels.Matrix.Repack), so that no forward pays for it: Load does it,
// unless LoadOptions.NoRepack. A memory fault reading the file (it shrank after the
// checks) is an error naming file, on whichever goroutine it happens.
func (m *Model) repack(file string) error {
	ms := m.matrices()
	var next atomic.Int64
	errs := make([]error, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = weights.CatchFaults(file, func() error {
				for j := next.Add(1) - 1; j < int64(len(ms)); j = next.Add(1) - 1 {
					ms[j].Repack()
				}
				return nil
			})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// matrices lists the matrices the forward multiplies by weights of the file: the
// projections, the MLPs and experts, and the LM head (the router is widened at load).
func (m *Model) matrices() []kernels.Matrix {
	ms := []kernels.Matrix{m.LMHead}
	mlp := func(w *MLP) { ms = append(ms, w.Gate, w.Up, w.Down) }
	for i := range m.Layers {
		l := &m.Layers[i]
		ms = append(ms, l.QKV, l.Q, l.K, l.V, l.Out)
		if l.Dense != nil {
			mlp(l.Dense)
		}
		if l.MoE != nil {
			for e := range l.MoE.Experts {
				mlp(&l.MoE.Experts[e])
			}
			mlp(&l.MoE.Shared)
		}
	}
	return ms
}
