package kernels

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBuildMatrix builds the package for other platforms, with and without assembly, so
// the build-tag matrix (asm files gc && !purego, fallbacks the negation) stays complete.
// It takes minutes on a cold build cache, so it runs only with KERNELS_BUILD_MATRIX=1.
func TestBuildMatrix(t *testing.T) {
	if testing.Short() || os.Getenv("KERNELS_BUILD_MATRIX") != "1" {
		t.Skip("set KERNELS_BUILD_MATRIX=1 to cross-vet every platform")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	for _, target := range [][2]string{
		{"linux", "amd64"}, {"linux", "arm64"}, {"darwin", "arm64"}, {"windows", "amd64"},
		{"linux", "386"}, {"linux", "riscv64"}, {"linux", "ppc64le"}, {"js", "wasm"},
	} {
		for _, tags := range []string{"", "purego"} {
			cmd := exec.Command(gobin, "vet", "-tags="+tags, ".")
			cmd.Env = append(os.Environ(), "GOOS="+target[0], "GOARCH="+target[1], "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("GOOS=%s GOARCH=%s tags=%q: %v\n%s", target[0], target[1], tags, err, out)
			}
		}
	}
}

// TestAsmArgsInTextBodies keeps every argument load (name+off(FP)) in a TEXT body:
// go vet's asmdecl checks offsets line by line against the enclosing function, so a
// load inside a #define is checked against the wrong function or, before the first
// TEXT, not at all.
func TestAsmArgsInTextBodies(t *testing.T) {
	files, err := filepath.Glob("*.s")
	if err != nil || len(files) == 0 {
		t.Fatalf("no assembly files found: %v", err)
	}
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		inMacro := false
		for i, line := range strings.Split(string(src), "\n") {
			code, _, _ := strings.Cut(line, "//")
			if strings.HasPrefix(code, "#define") {
				inMacro = true
			}
			if inMacro && strings.Contains(code, "(FP)") {
				t.Errorf("%s:%d: argument load inside a macro: %s", name, i+1, strings.TrimSpace(line))
			}
			inMacro = inMacro && strings.HasSuffix(strings.TrimSpace(code), `\`)
		}
	}
}
