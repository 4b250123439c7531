package dllm

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDemoFromAnyFolder loads the built-in demo model by name from a folder that has no
// model in it and checks that it answers.
func TestDemoFromAnyFolder(t *testing.T) {
	t.Chdir(t.TempDir())
	m := loadModel(t, DemoModel)
	if info := m.Info(); info.Path != DemoModel || info.Format != "safetensors" || info.Layers != 4 || info.HiddenSize != 128 {
		t.Errorf("info %+v, want the demo model (4 layers of 128)", info)
	}
	s := newSession(t, m)
	res, err := s.GenerateChat(context.Background(), []Message{{Role: "user", Content: "What is 3+4?"}}, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if res.Text != "7" {
		t.Errorf("answer %q, want 7", res.Text)
	}
}

// TestDemoNameLosesToRealPath: a file or folder called "demo" is loaded as what it is.
func TestDemoNameLosesToRealPath(t *testing.T) {
	micro, err := filepath.Abs(filepath.Join(microDir, "hf"))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("folder", func(t *testing.T) {
		t.Chdir(t.TempDir())
		copyFiles(t, micro, DemoModel)
		m := loadModel(t, DemoModel)
		if info := m.Info(); info.Layers != 3 || info.HiddenSize != 64 {
			t.Errorf("loaded %d layers of %d, want the micro model in ./demo (3 of 64)", info.Layers, info.HiddenSize)
		}
	})
	t.Run("file", func(t *testing.T) {
		t.Chdir(t.TempDir())
		if err := os.WriteFile(DemoModel, []byte("not a model"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(DemoModel, LoadOptions{})
		if err == nil || !strings.Contains(err.Error(), "not a checkpoint") {
			t.Errorf("Load of a file called demo: %v, want it opened as a (bad) checkpoint", err)
		}
	})
}

// TestFolderHoldingOneModel: a folder with one model inside loads it; with several or
// none, the error names what to pass.
func TestFolderHoldingOneModel(t *testing.T) {
	micro := filepath.Join(microDir, "hf")
	withHF := t.TempDir()
	copyFiles(t, micro, filepath.Join(withHF, "hf"))
	if m := loadModel(t, withHF); m.Info().Path != filepath.Join(withHF, "hf") {
		t.Errorf("loaded %s, want %s", m.Info().Path, filepath.Join(withHF, "hf"))
	}

	withGGUF := t.TempDir()
	gguf := filepath.Join(withGGUF, "micro-q8_0.gguf")
	copyFile(t, filepath.Join(microDir, "gguf", "micro-q8_0.gguf"), gguf)
	if m := loadModel(t, withGGUF); m.Info().Path != gguf || m.Info().Format != "gguf" {
		t.Errorf("loaded %s (%s), want %s", m.Info().Path, m.Info().Format, gguf)
	}

	_, err := Load(microDir, LoadOptions{})
	want := "holds 2 models; pass one of: " + filepath.Join(microDir, "hf") + ", " + filepath.Join(microDir, "hf-sharded")
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Load(%s): %v, want %q", microDir, err, want)
	}
	_, err = Load(t.TempDir(), LoadOptions{})
	if err == nil || !strings.Contains(err.Error(), "neither config.json nor a model inside") {
		t.Errorf("Load of an empty folder: %v", err)
	}
}

func copyFiles(t *testing.T, from, to string) {
	t.Helper()
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(to, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		copyFile(t, filepath.Join(from, e.Name()), filepath.Join(to, e.Name()))
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
