package llada2

import (
	"encoding/json"
	"testing"

	"github.com/dllm-go/dllm/dllm/internal/weights"
)

func tmpLoad(t testing.TB, ck *weights.Checkpoint) (Config, []weights.Tensor) {
	var c Config
	if err := json.Unmarshal(ck.Config, &c); err != nil {
		t.Fatal(err)
	}
	return c, ck.Tensors
}

// goldenCheckpoints lists the exact-weight checkpoints; the GGUF ones join once
// CanonicalTensors/LoadConfig exist.
var goldenCheckpoints = []string{"hf", "hf-sharded"}
