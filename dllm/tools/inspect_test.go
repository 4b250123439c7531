package tools

import (
	"testing"

	"github.com/dllm-go/dllm/dllm"
)

// TestInspectDemo: Inspect finds the built-in demo model by name from a folder with no
// model in it, and reports its configuration in the documented Config.
func TestInspectDemo(t *testing.T) {
	t.Chdir(t.TempDir())
	info, err := Inspect(dllm.DemoModel)
	if err != nil {
		t.Fatal(err)
	}
	if info.Architecture != "llada2_moe" || info.SpecialTokens["<|mask|>"] == 0 || len(info.Tensors) == 0 ||
		info.Config.NumLayers != 4 || info.Config.HiddenSize != 128 {
		t.Errorf("Inspect(demo): architecture %q, special tokens %v, %d tensors, config %+v",
			info.Architecture, info.SpecialTokens, len(info.Tensors), info.Config)
	}
	if bad, err := CheckWeights(dllm.DemoModel); err != nil || len(bad) != 0 {
		t.Errorf("CheckWeights(demo): %v, %v", bad, err)
	}
}
