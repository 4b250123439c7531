package tools

import (
	"github.com/dllm-go/dllm/dllm/internal/arch"
	"github.com/dllm-go/dllm/dllm/internal/checkpoint"
)

// NonFiniteTensor is a tensor holding NaN or infinite values, found by CheckWeights.
type NonFiniteTensor struct {
	Name  string `json:"name"`  // canonical name, as in CheckpointInfo
	Count int64  `json:"count"` // NaN and infinite values
	First int64  `json:"first"` // flat (row-major) index of the first
}

// CheckWeights reads every value of every tensor of the checkpoint at path (whatever
// Inspect accepts; block formats are dequantized) and lists the tensors holding NaN or
// infinite values; an empty list means all are finite. Unlike Inspect it reads all the
// data. Such a weight makes forwards fail with dllm.ErrNonFinite, or silently changes
// routing.
func CheckWeights(path string) ([]NonFiniteTensor, error) {
	ck, err := checkpoint.Open(path)
	if err != nil {
		return nil, err
	}
	defer ck.Close()
	ts, err := arch.CanonicalTensors(ck.Checkpoint)
	if err != nil {
		return nil, err
	}
	out := []NonFiniteTensor{}
	for i := range ts {
		n, first, err := arch.ScanNonFinite(&ts[i])
		if err != nil {
			return nil, err
		}
		if n > 0 {
			out = append(out, NonFiniteTensor{Name: ts[i].Name, Count: n, First: first})
		}
	}
	return out, nil
}
