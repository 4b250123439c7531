package main

import (
	"errors"
	"os"
	"path/filepath"
)

// demoModelDir is where the built-in demo model (a tiny trained LLaDA2) lives in the
// repository.
const demoModelDir = "testdata/llada2-tiny-chat/hf"

// demoModelPath finds the demo model from the working directory or the executable's
// directory, walking up to the repository root.
func demoModelPath() (string, error) {
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if exe, err := os.Executable(); err == nil {
		starts = append(starts, filepath.Dir(exe))
	}
	for _, dir := range starts {
		for {
			p := filepath.Join(dir, demoModelDir)
			if st, err := os.Stat(filepath.Join(p, "config.json")); err == nil && !st.IsDir() {
				return p, nil
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return "", errors.New("no -m given and the built-in demo model (" + demoModelDir + ") was not found from here; pass -m PATH")
}
