package main

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
)

// outTo sends a command's output to w and its messages nowhere.
func outTo(w io.Writer) stdio { return stdio{in: strings.NewReader(""), out: w, err: io.Discard} }

// dllmCmd runs one command line as main does and returns the exit status, stdout and
// stderr.
func dllmCmd(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, stdio{in: strings.NewReader(stdin), out: &out, err: &errOut})
	return code, out.String(), errOut.String()
}

// TestCommandLineMistakes: a mistake on the command line exits 2 with one line naming
// the flag, before any model is loaded (the model named does not exist).
func TestCommandLineMistakes(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"generate", "-p", "What is 3+4?", "--threshhold", "0.5"},
			"dllm generate: unknown flag --threshhold; did you mean --threshold? (see dllm generate -h)"},
		{[]string{"generate", "-m", "nosuch", "-p", "x", "--threshold", "1.5"}, "dllm generate: --threshold must be in [0,1], got 1.5"},
		{[]string{"generate", "-m", "nosuch", "-p", "x", "--top-p", "0"}, "dllm generate: --top-p must be in (0,1], got 0"},
		{[]string{"generate", "-m", "nosuch", "-p", "x", "-n", "0"}, "dllm generate: --max-tokens must be positive, got 0"},
		{[]string{"generate", "-m", "nosuch", "-p", "x", "--preset", "fast"}, `dllm generate: --preset must be default, quality or speed, got "fast"`},
		{[]string{"generate", "-m", "nosuch", "-p", "x", "--temp", "warm"}, `dllm generate: --temp takes a number, got "warm" (see dllm generate -h)`},
		{[]string{"generate", "-json", "-p", "x"}, "dllm generate: unknown flag -json; did you mean --json? (see dllm generate -h)"},
		{[]string{"generate", "-x"}, "dllm generate: unknown flag -x (see dllm generate -h)"},
		{[]string{"generate", "--frobnicate"}, "dllm generate: unknown flag --frobnicate (see dllm generate -h)"},
		{[]string{"generate", "-m", "nosuch"}, "dllm generate: give exactly one of -p TEXT (or the text as arguments) or --prompt-ids 1,2,3 (see dllm generate -h)"},
		{[]string{"generate", "-m", "nosuch", "-p", "x", "y"}, `dllm generate: the prompt is given twice: as -p/--prompt-ids and as arguments "y"`},
		{[]string{"generate", "-m", "nosuch", "--prompt-ids", "1,x"}, `dllm generate: --prompt-ids: bad token id "x"`},
		{[]string{"chat", "-m", "nosuch", "--steps", "0"}, "dllm chat: --steps must be in [1,65536], got 0"},
		{[]string{"chat", "-m", "nosuch", "hello"}, `dllm chat: unexpected argument "hello" (see dllm chat -h)`},
		{[]string{"inspect"}, "dllm inspect: -m PATH is required (see dllm inspect -h)"},
		{[]string{"inspect", "-m", "x", "--jsn"}, "dllm inspect: unknown flag --jsn; did you mean --json? (see dllm inspect -h)"},
		{[]string{"quantize", "-m", "x", "-o", "out.bin"}, "dllm quantize: -o out.bin must end in .gguf"},
		{[]string{"bench", "-m", "x", "--prefill", "0"}, `dllm bench: --prefill: "0" is not a positive length`},
		{[]string{"bench", "-m", "x", "--prompt-len", "-1"}, "dllm bench: --prompt-len: -1 is negative"},
		{[]string{"generate", "-m", "nosuch", "-p", "x", "--cache", "full"}, `dllm generate: --cache must be "" (exact), "prefix", "dual", "block", "block:N", "window:W" or "window:W:N", got "full"`},
		{[]string{"serve", "--port", "70000"}, "dllm serve: --port must be in [0,65535], got 70000"},
		{[]string{"serve", "--parallel", "0"}, "dllm serve: --parallel must be at least 1, got 0"},
		{[]string{"serve", "--max-queue", "-1"}, "dllm serve: --max-queue must not be negative, got -1"},
		{[]string{"serve", "--timeout", "0s"}, "dllm serve: --timeout must be positive and --shutdown-timeout not negative"},
		{[]string{"serve", "--prt", "8080"}, "dllm serve: unknown flag --prt; did you mean --port? (see dllm serve -h)"},
		{[]string{"serve", "extra"}, `dllm serve: unexpected argument "extra" (see dllm serve -h)`},
		{[]string{"frob"}, `dllm: unknown command "frob" (dllm -h lists them)`},
	} {
		code, out, errOut := dllmCmd(t, "", c.args...)
		if code != 2 || errOut != c.want+"\n" || out != "" {
			t.Errorf("dllm %s: exit %d, stderr %q, stdout %q; want exit 2 and %q", strings.Join(c.args, " "), code, errOut, out, c.want)
		}
	}
}

// TestOptionErrorsNameFlags: every option the library range-checks reads back as the
// flag that sets it (the library's messages are mapped, not copied).
func TestOptionErrorsNameFlags(t *testing.T) {
	bad := map[string]string{
		"--max-tokens": "-1", "--block-length": "0", "--steps": "-3", "--threshold": "2",
		"--edit-threshold": "1.5", "--max-post-steps": "-1", "--temp": "-1", "--top-k": "-1", "--top-p": "1.5",
		"--algorithm": "frob", "--cfg-scale": "-1", "--eps": "1", "--alg-temp": "-1", "--eb-gamma": "-1", "--cache": "block:0",
	}
	for _, flag := range flagOfOption {
		if _, ok := bad[flag]; !ok {
			t.Errorf("no bad value to try for %s", flag)
		}
	}
	for flag, value := range bad {
		code, _, errOut := dllmCmd(t, "", "generate", "-m", "nosuch", "-p", "x", flag+"="+value)
		if want := "dllm generate: " + flag + " must "; code != 2 || !strings.HasPrefix(errOut, want) {
			t.Errorf("%s=%s: exit %d, %q; want exit 2 and %q…", flag, value, code, errOut, want)
		}
	}
}

// TestRuntimeErrorExitsOne: a failure after the command line was accepted exits 1 with
// one prefix.
func TestRuntimeErrorExitsOne(t *testing.T) {
	code, _, errOut := dllmCmd(t, "", "generate", "-m", "nosuch", "-p", "x")
	want := "dllm generate: -m nosuch: no such file or folder (-m takes a Hugging Face folder, a .gguf file or demo)\n"
	if code != 1 || errOut != want {
		t.Errorf("exit %d, %q; want 1 and %q", code, errOut, want)
	}
}

// TestFlagsAnywhere: flags after the prompt, long and short forms, and -- ending flags.
func TestFlagsAnywhere(t *testing.T) {
	answer := func(args ...string) generateJSON {
		t.Helper()
		code, out, errOut := dllmCmd(t, "", args...)
		if code != 0 {
			t.Fatalf("dllm %s: exit %d: %s", strings.Join(args, " "), code, errOut)
		}
		var g generateJSON
		if err := json.Unmarshal([]byte(out), &g); err != nil {
			t.Fatalf("dllm %s: %v in %q", strings.Join(args, " "), err, out)
		}
		return g
	}
	for _, args := range [][]string{
		{"generate", "-p", "What is 3+4?", "--json"},
		{"generate", "What", "is", "3+4?", "--json", "-n", "64"},
		{"generate", "--json", "--max-tokens=64", "--prompt", "What is 3+4?"},
		{"generate", "-m", "demo", "--json", "--", "What is 3+4?"},
	} {
		if g := answer(args...); g.Text != "7" || g.StopReason != "eos_block" {
			t.Errorf("dllm %s: %q (%s), want 7", strings.Join(args, " "), g.Text, g.StopReason)
		}
	}
	// After --, "-n" is the prompt, not a flag missing its value.
	if g := answer("generate", "--json", "-n", "32", "--", "-n"); g.Stats.PromptTokens == 0 || len(g.Trace) == 0 {
		t.Errorf("-- -n: %+v", g)
	}
}

// TestHelp: each command's -h starts with one line saying what it does, exits 0 and
// prints to stdout; chat's lists its slash commands.
func TestHelp(t *testing.T) {
	for _, c := range commands {
		for _, h := range []string{"-h", "--help"} {
			code, out, errOut := dllmCmd(t, "", c.name, h)
			first, _, _ := strings.Cut(out, "\n")
			if code != 0 || errOut != "" || first != "dllm "+c.name+": "+c.summary || !strings.Contains(out, "\nusage: dllm "+c.name) {
				t.Errorf("dllm %s %s: exit %d, stderr %q, output:\n%s", c.name, h, code, errOut, out)
			}
		}
	}
	_, out, _ := dllmCmd(t, "", "chat", "-h")
	for _, cmd := range []string{"/reset", "/quit", "/exit", "/help"} {
		if !strings.Contains(out, cmd) {
			t.Errorf("chat -h does not list %s", cmd)
		}
	}
}

// TestChatSession: chat lists its commands at start, answers, resets and quits.
func TestChatSession(t *testing.T) {
	code, out, errOut := dllmCmd(t, "What is 3+4?\n/reset\n/bogus\nWhat is 12+9?\n/quit\nnever asked\n", "chat")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if out != "7\n21\n" {
		t.Errorf("answers %q, want 7 and 21", out)
	}
	for _, want := range []string{"chat commands:", "/reset", "(new conversation)", "unknown command /bogus"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
}

func TestEditDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"threshhold", "threshold", 1}, {"json", "jsn", 1}, {"temp", "top-p", 3}, {"", "abc", 3}, {"kitten", "sitting", 3}} {
		if got := editDistance(c.a, c.b); got != c.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.d)
		}
	}
}

// TestServeModelID: the API names the model by its file or folder, or demo.
func TestServeModelID(t *testing.T) {
	for path, want := range map[string]string{"": "demo", "models/mini-q8_0.gguf": "mini-q8_0", "/data/LLaDA2.0-mini/": "LLaDA2.0-mini"} {
		if got := modelID(path, path == ""); got != want {
			t.Errorf("modelID(%q) = %q, want %q", path, got, want)
		}
	}
}
