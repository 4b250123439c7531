package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestQuantizeCommand converts the micro fixture with the command and benches the result.
func TestQuantizeCommand(t *testing.T) {
	out := filepath.Join(t.TempDir(), "m.gguf")
	if err := runQuantize([]string{"-m", "../../testdata/llada2-micro/hf", "-o", out, "-t", "q4_0", "--name", "LLaDA2 synthetic micro"}, outTo(io.Discard)); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := os.ReadFile("../../testdata/llada2-micro/gguf/micro-q4_0.gguf"); !bytes.Equal(got, want) {
		t.Fatalf("output (%d bytes) is not the fixture's micro-q4_0.gguf (%d bytes)", len(got), len(want))
	}
	if err := runQuantize([]string{"-m", "../../testdata/llada2-micro/hf", "-o", out + ".bin"}, outTo(io.Discard)); err == nil {
		t.Error("accepted an output not ending in .gguf")
	}
	var buf bytes.Buffer
	if err := runBench([]string{"-m", out, "--reps", "1", "--prefill", "64", "--gen", "8", "-q"}, outTo(&buf)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"machine", "kernels", "block forward (all rows)", "block forward (1 row)", "prefill 64", "generate", "tokens/forward"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("bench output lacks %q:\n%s", want, buf.String())
		}
	}
}

// TestProgressBar: the bar draws rate and ETA on a terminal and nothing otherwise.
func TestProgressBar(t *testing.T) {
	var buf bytes.Buffer
	p := newProgressBar(&buf, true, "quantize q8_0")
	p.update(1<<20, 4<<20)
	p.update(4<<20, 4<<20)
	p.finish()
	s := buf.String()
	for _, want := range []string{"\rquantize q8_0 [", "100.0%", "4.0 MiB/4.0 MiB", "/s", "ETA 0:00"} {
		if !strings.Contains(s, want) {
			t.Errorf("bar %q lacks %q", s, want)
		}
	}
	buf.Reset()
	p = newProgressBar(&buf, false, "x")
	p.update(1, 2)
	p.finish()
	if buf.Len() != 0 {
		t.Errorf("drew %q when not on a terminal", buf.String())
	}
}
