package main

import (
	"bytes"
	"encoding/json"
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
	if err := runBench([]string{"-m", out, "--reps", "1", "--prefill", "64", "--gen", "8", "--threads", "2", "--threads-scan", "-q"}, outTo(&buf)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"machine", "kernels", "limits", "block forward (all rows)", "block forward (1 row)",
		"first step (64-token prompt, 32 masks)", "prefill 64", "generate", "tokens/forward",
		"experts/MoE layer", "% of roofline", "per op:", "whole forward", "thread scan", "first step tok/s",
		"thread scan per op", "2 threads ms"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("bench output lacks %q:\n%s", want, buf.String())
		}
	}
	buf.Reset()
	if err := runBench([]string{"-m", out, "--reps", "1", "--prefill", "", "--gen", "0", "--cache", "", "--context", "96", "-q"}, outTo(&buf)); err != nil {
		t.Fatal(err)
	}
	if want := "block forward (all rows, after 96 tokens)"; !strings.Contains(buf.String(), want) {
		t.Errorf("bench --context 96 output lacks %q:\n%s", want, buf.String())
	}
	if err := runBench([]string{"-m", out, "--context", "-1"}, outTo(io.Discard)); err == nil {
		t.Error("bench accepted --context -1")
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

// TestBenchJSON: `dllm bench --json` prints one object with the limits, the first step,
// the work figures of every block forward and, asked for, the thread scan.
func TestBenchJSON(t *testing.T) {
	var buf bytes.Buffer
	args := []string{"-m", "../../testdata/llada2-micro/gguf/micro-q8_0.gguf", "--reps", "1", "--prefill", "", "--gen", "0",
		"--prompt-len", "48", "--threads", "2", "--threads-scan", "--json", "-q"}
	if err := runBench(args, outTo(&buf)); err != nil {
		t.Fatal(err)
	}
	var r struct {
		Limits       map[string]float64 `json:"limits"`
		BlockForward map[string]any     `json:"block_forward"`
		FirstStep    map[string]any     `json:"first_step"`
		Decode       any                `json:"decode"`
		Scan         []map[string]any   `json:"thread_scan"`
	}
	if err := json.Unmarshal(buf.Bytes(), &r); err != nil {
		t.Fatalf("%v:\n%s", err, buf.String())
	}
	if r.Limits["threads"] != 2 || r.FirstStep["prompt_tokens"] != 48.0 || r.FirstStep["mask_rows"] != 16.0 || r.Decode != nil || len(r.Scan) == 0 {
		t.Errorf("limits %v, first step %v, decode %v, scan %v", r.Limits, r.FirstStep, r.Decode, r.Scan)
	}
	for _, f := range []map[string]any{r.BlockForward, r.FirstStep} {
		for _, key := range []string{"experts_per_moe_layer", "weight_bytes", "flops", "gb_per_s", "gflop_per_s", "roofline_pct"} {
			if v, _ := f[key].(float64); v <= 0 && (key != "roofline_pct" || r.Limits["read_gb_per_s"] > 0) {
				t.Errorf("%s = %v in %v", key, f[key], f)
			}
		}
	}
}

// TestBenchWindowFamily: `dllm bench` on a bidirectional family prints the whole-window
// forward and the fast-mode table (exact, prefix, dual with speed-up and agreement), and
// --json carries them.
func TestBenchWindowFamily(t *testing.T) {
	var buf bytes.Buffer
	args := []string{"-m", "../../testdata/families/llada/hf", "--reps", "1", "--gen", "16", "--block", "8", "--threads", "2", "-q"}
	if err := runBench(args, outTo(&buf)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"window forward (", "fast mode (approximate", "agreement", "exact", "prefix", "dual", "1.00×", "100.0 %"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, buf.String())
		}
	}
	buf.Reset()
	if err := runBench(append(args, "--json"), outTo(&buf)); err != nil {
		t.Fatal(err)
	}
	var r struct {
		Window map[string]any `json:"window_forward"`
		Fast   struct {
			Modes []map[string]any `json:"modes"`
		} `json:"fast"`
	}
	if err := json.Unmarshal(buf.Bytes(), &r); err != nil {
		t.Fatalf("%v:\n%s", err, buf.String())
	}
	if r.Window["gen_tokens"] != 16.0 || len(r.Fast.Modes) != 3 {
		t.Fatalf("window %v, fast %v", r.Window, r.Fast)
	}
	for _, md := range r.Fast.Modes {
		for _, key := range []string{"mode", "median_s", "forwards", "tokens_per_forward", "speedup", "agreement"} {
			if _, ok := md[key]; !ok {
				t.Errorf("mode %v lacks %s", md, key)
			}
		}
	}
}
