//go:build unix

package tools

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dllm-go/dllm/dllm"
	"github.com/dllm-go/dllm/dllm/internal/corpus"
	"github.com/dllm-go/dllm/dllm/internal/weights"
)

// The hostile corpus: model inputs derived from the micro fixture by an attacker's rules
// (every numeric field of every header and configuration set to 0, −1, 2^31, 2^63 and one
// off; truncations at every section boundary; dropped and shifted tensors; special files
// in place of each file; consistent files with absurd sizes; a NaN or an infinity as
// each tensor's first value). Each must load into a consistent model or fail with a
// clean error naming the path. Loading runs in a child process under a memory limit, so
// that a fatal runtime error (out of memory, SIGBUS) or a hang fails the test and names
// the case instead of killing the test binary.

const hostileChildEnv = "DLLM_HOSTILE_CORPUS"

// hostileCase replaces one file of a base model.
type hostileCase struct {
	name    string
	base    string // "gguf", "hf" or "sharded"
	file    string // the file replaced, relative to the model directory
	build   func() []byte
	special string // instead of data: "fifo", "dir" or "dev" (a symlink to /dev/zero)
	expect  outcome
}

// outcome is what a case may end in besides a clean error.
type outcome int

const (
	// sameOutput: damage to the file's structure (sizes, offsets, tensor entries,
	// truncation) or to the tokenizer. If it loads, nothing may have changed: the logits
	// of fixed token ids must equal the base model's bit for bit.
	sameOutput outcome = iota
	// otherOutput: a changed configuration value that may describe another valid
	// model; if it loads, the logits need only be finite.
	otherOutput
	// mustFail: a file known to be inconsistent; it must be refused.
	mustFail
	// nonFinite: a NaN or an infinity among the weights. If it loads, the forward must
	// fail with a NonFiniteError, or give the base model's logits exactly (these tokens
	// never read that value); finite logits that differ mean the value was lost.
	nonFinite
)

// hostileBases are the files of each base model, by name in the case directory.
func hostileBases(t testing.TB) map[string]map[string]string {
	abs := func(p string) string {
		a, err := filepath.Abs(filepath.Join(microDir, p))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	hf := map[string]string{}
	for _, f := range []string{"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"} {
		hf[f] = abs("hf/" + f)
	}
	sharded := map[string]string{"tokenizer.json": hf["tokenizer.json"], "tokenizer_config.json": hf["tokenizer_config.json"]}
	for _, f := range []string{"config.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "model.safetensors.index.json"} {
		sharded[f] = abs("hf-sharded/" + f)
	}
	bases := map[string]map[string]string{"gguf": {"model.gguf": abs("gguf/micro-q4_0.gguf")}, "hf": hf, "sharded": sharded}
	// The other families: an HF folder of each config.json dialect, a GGUF of each
	// family's key set (and of Q/K/V biases, permuted rows, a head_dim of its own).
	for _, fam := range []string{"llada", "llada-moe"} {
		b := map[string]string{}
		for _, f := range []string{"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"} {
			b[f] = abs("../families/" + fam + "/hf/" + f)
		}
		bases[fam+"-hf"] = b
	}
	for _, fam := range []string{"dream", "rnd1"} {
		bases[fam+"-gguf"] = map[string]string{"model.gguf": abs("../families/" + fam + "/gguf/" + fam + "-micro-f32.gguf")}
	}
	return bases
}

func hostileCorpus(t testing.TB) []hostileCase {
	bases := hostileBases(t)
	read := func(base, file string) []byte {
		b, err := os.ReadFile(bases[base][file])
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var cs []hostileCase
	add := func(base, file string, gen func([]byte) ([]corpus.Case, error), expect func(name string) outcome) {
		got, err := gen(read(base, file))
		if err != nil {
			t.Fatalf("%s/%s: %v", base, file, err)
		}
		for _, c := range got {
			cs = append(cs, hostileCase{name: c.Name, base: base, file: file, build: c.Build, expect: expect(c.Name)})
		}
	}
	always := func(o outcome) func(string) outcome { return func(string) outcome { return o } }
	// A metadata value or type ("kv <key> ...") may change the configuration; key
	// lengths ("kv <n> key"), counts and tensor infos are structure.
	ggufOutcome := func(name string) outcome {
		if strings.HasPrefix(name, "kv ") && !strings.ContainsAny(name[3:4], "0123456789") {
			return otherOutput
		}
		return sameOutput
	}
	for _, base := range []string{"gguf", "dream-gguf", "rnd1-gguf"} {
		add(base, "model.gguf", corpus.GGUF, ggufOutcome)
		add(base, "model.gguf", corpus.GGUFValues, always(nonFinite))
	}
	for _, base := range []string{"llada-hf", "llada-moe-hf"} {
		add(base, "config.json", corpus.JSON, always(otherOutput))
	}
	consistent, err := consistentGGUFs(read("gguf", "model.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	cs = append(cs, consistent...)
	// The global tensors, dense layer 0, and MoE layer 1 with its expert 0 cover every
	// kind of tensor; the other layers and experts would repeat the same checks.
	add("hf", "model.safetensors", func(b []byte) ([]corpus.Case, error) {
		return corpus.Safetensors(b, func(name string) bool {
			return !strings.HasPrefix(name, "model.layers.") || strings.HasPrefix(name, "model.layers.0.") ||
				strings.HasPrefix(name, "model.layers.1.") && !strings.Contains(name, "experts.") ||
				strings.HasPrefix(name, "model.layers.1.mlp.experts.0.")
		})
	}, always(sameOutput))
	add("hf", "config.json", corpus.JSON, always(otherOutput))
	for _, f := range []string{"tokenizer.json", "tokenizer_config.json"} {
		add("hf", f, corpus.JSON, always(sameOutput))
	}
	add("sharded", "model.safetensors.index.json", corpus.JSON, always(sameOutput))
	add("sharded", "model-00002-of-00002.safetensors", func(b []byte) ([]corpus.Case, error) {
		return []corpus.Case{{Name: "shard truncated to half", Build: func() []byte { return b[:len(b)/2] }}}, nil
	}, always(mustFail))
	edits := []struct{ base, file, name, old, new string }{
		{"hf", "tokenizer_config.json", "eos_token is the mask", `"eos_token": "<|endoftext|>"`, `"eos_token": "<|mask|>"`},
		{"hf", "tokenizer_config.json", "eos_token absent from the vocabulary", `"eos_token": "<|endoftext|>"`, `"eos_token": "<|no such token|>"`},
		{"hf", "config.json", "num_hidden_layers below the layers present", `"num_hidden_layers": 3`, `"num_hidden_layers": 2`},
		{"hf", "config.json", "max_position_embeddings 2^31", `"max_position_embeddings": 4096`, `"max_position_embeddings": 2147483648`},
		{"hf", "config.json", "use_qk_norm false with the norms present", `"use_qk_norm": true`, `"use_qk_norm": false`},
		{"sharded", "model.safetensors.index.json", "total_size 2^63", `"total_size": `, `"total_size": 9223372036854775808, "x": `},
		{"sharded", "model.safetensors.index.json", "a shard outside the directory", `"model-00002-of-00002.safetensors"`, `"../hf/model.safetensors"`},
	}
	for _, e := range edits {
		b := read(e.base, e.file)
		if !bytes.Contains(b, []byte(e.old)) {
			t.Fatalf("%s: %s has no %s", e.name, e.file, e.old)
		}
		edited := bytes.Replace(b, []byte(e.old), []byte(e.new), 1)
		cs = append(cs, hostileCase{name: e.name, base: e.base, file: e.file, build: func() []byte { return edited }, expect: mustFail})
	}
	for _, sp := range []struct {
		base  string
		files []string
	}{
		{"gguf", []string{"model.gguf"}},
		{"hf", []string{"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "chat_template.jinja"}},
		{"sharded", []string{"model.safetensors.index.json", "model-00001-of-00002.safetensors"}},
	} {
		for _, f := range sp.files {
			for _, kind := range []string{"fifo", "dir", "dev"} {
				cs = append(cs, hostileCase{name: kind + " as " + f, base: sp.base, file: f, special: kind, expect: mustFail})
			}
		}
	}
	return cs
}

// consistentGGUFs rewrites the GGUF with the writer, so that sizes, offsets and padding
// all agree and only the meaning is hostile: keys retyped to absurd values, special ids
// colliding or outside the vocabulary, a block count below the layers present, a
// stacked expert tensor of 2^40 empty experts, each tensor missing.
func consistentGGUFs(data []byte) ([]hostileCase, error) {
	g, err := weights.ParseGGUF(data, "base.gguf")
	if err != nil {
		return nil, err
	}
	infos := make([]weights.TensorInfo, len(g.Tensors))
	for i, t := range g.Tensors {
		infos[i] = weights.TensorInfo{Name: t.Name, DType: t.DType, Shape: t.Shape}
	}
	var cs []hostileCase
	// write adds a case written lazily (the corpus would not fit in memory at once);
	// the writer cannot refuse these headers, so a failure is a bug in the test.
	write := func(name string, expect outcome, kvs []weights.KV, infos []weights.TensorInfo) {
		cs = append(cs, hostileCase{name: name, base: "gguf", file: "model.gguf", expect: expect, build: func() []byte {
			var buf bytes.Buffer
			w, err := weights.NewGGUFWriter(&buf, kvs, infos)
			for _, in := range infos {
				n, _ := in.DType.ByteSize(in.Shape, math.MaxInt64)
				d := make([]byte, n)
				if t, ok := tensorNamed(g, in.Name); ok && len(t.Data) == int(n) {
					d = t.Data
				}
				if err == nil {
					err = w.WriteTensor(in.Name, d)
				}
			}
			if err == nil {
				err = w.Finish()
			}
			if err != nil {
				panic(fmt.Sprintf("%s: %v", name, err))
			}
			return buf.Bytes()
		}})
	}
	keyed := func(name string, expect outcome, key string, v weights.Value) {
		kvs := append([]weights.KV(nil), g.Meta.KVs()...)
		found := false
		for i := range kvs {
			if kvs[i].Key == key {
				kvs[i].Value, found = v, true
			}
		}
		if !found {
			kvs = append(kvs, weights.KV{Key: key, Value: v})
		}
		write(name, expect, kvs, infos)
	}
	for _, kv := range g.Meta.KVs() {
		if _, isInt := kv.Value.Int(); !isInt || kv.Value.Type() == weights.TypeArray {
			continue
		}
		for _, v := range []any{uint64(1) << 63, int32(-1), uint64(1) << 31, "1", []uint32{1, 2}} {
			keyed(fmt.Sprintf("%s retyped as %T %v", kv.Key, v, v), otherOutput, kv.Key, weights.MustValue(v))
		}
	}
	mask, _ := g.Meta.Uint("tokenizer.ggml.mask_token_id")
	vocab := uint32(0)
	if toks, ok := g.Meta.Get("tokenizer.ggml.tokens"); ok {
		vocab = uint32(toks.Len())
	}
	for _, k := range []string{"eos", "bos", "padding"} {
		key := "tokenizer.ggml." + k + "_token_id"
		keyed(k+" id is the mask id", mustFail, key, weights.MustValue(uint32(mask)))
		keyed(k+" id is the vocabulary size", mustFail, key, weights.MustValue(vocab))
	}
	keyed("block_count below the layers present", mustFail, "llada2.block_count", weights.MustValue(uint32(2)))
	keyed("context_length 2^31", mustFail, "llada2.context_length", weights.MustValue(uint32(1)<<31))
	for i, in := range infos {
		if strings.HasSuffix(in.Name, "_exps.weight") {
			huge := append([]weights.TensorInfo(nil), infos...)
			huge[i].Shape = []int{1 << 40, 0, in.Shape[2]}
			write(in.Name+" as 2^40 empty experts", mustFail, g.Meta.KVs(), huge)
		}
		less := append(append([]weights.TensorInfo(nil), infos[:i]...), infos[i+1:]...)
		// Without output.weight the head is tied to the embedding, and the expert
		// bias is optional: both describe other valid models.
		missing := mustFail
		if in.Name == "output.weight" || strings.HasSuffix(in.Name, "exp_probs_b.bias") {
			missing = otherOutput
		}
		write(in.Name+" missing", missing, g.Meta.KVs(), less)
	}
	return cs, nil
}

func tensorNamed(g *weights.GGUF, name string) (weights.Tensor, bool) {
	for _, t := range g.Tensors {
		if t.Name == name {
			return t, true
		}
	}
	return weights.Tensor{}, false
}

// TestHostileCorpus runs the corpus in a child process and reports every case that
// crashed, hung or ended other than in a clean error or a consistent model.
func TestHostileCorpus(t *testing.T) {
	if os.Getenv(hostileChildEnv) != "" {
		runHostileChild(t)
		return
	}
	if testing.Short() {
		t.Skip("the hostile corpus takes a minute")
	}
	if raceEnabled {
		// The race runtime maps terabytes of shadow memory, so no address-space limit
		// can catch a runaway allocation; the corpus tests loading, not concurrency.
		t.Skip("not under the race detector")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHostileCorpus$", "-test.v")
	cmd.Env = append(os.Environ(), hostileChildEnv+"=1")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("child ran %v", time.Since(start).Round(time.Millisecond))
	last := ""
	for _, line := range strings.Split(string(out), "\n") {
		if s, ok := strings.CutPrefix(line, "CASE "); ok {
			last = s
		}
		if strings.HasPrefix(line, "CORPUS ") || strings.HasPrefix(strings.TrimSpace(line), "hostile_test.go") {
			t.Log(line)
		}
	}
	if err != nil {
		// Show where it died: the fatal error or panic and the first frames after it.
		report := string(out)
		if i := strings.Index(report, "\nfatal error"); i >= 0 {
			report = report[max(0, strings.LastIndex(report[:i], "\n")):]
		} else if i := strings.Index(report, "\npanic:"); i >= 0 {
			report = report[i:]
		} else if i := strings.LastIndex(report, "\nCASE "); i >= 0 {
			report = report[i+1:] // a hang or an exit: what followed the last case
		}
		t.Fatalf("child process failed (%v) in case %q:\n%.4000s", err, last, report)
	}
}

// runHostileChild loads every case, under a memory limit and a time limit per case.
func runHostileChild(t *testing.T) {
	debug.SetMemoryLimit(1 << 30)
	limitAddressSpace(t, 4<<30)
	cases := hostileCorpus(t)
	bases := hostileBases(t)
	scratch := t.TempDir()
	// The logits of each base model, for the cases that must not change them: each
	// base loaded through a case that replaces one file with itself.
	want := map[string][]float32{}
	for base, files := range bases {
		for file, src := range files {
			orig, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			path, _ := materialize(t, filepath.Join(scratch, base), files, hostileCase{base: base, file: file, build: func() []byte { return orig }})
			m, err := dllm.Load(path, dllm.LoadOptions{Threads: 1})
			if err != nil {
				t.Fatal(err)
			}
			want[base], err = Logits(m, hostileTokens[:], BlockMask(4))
			m.Close()
			if err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	counts := map[string]int{}
	for i, c := range cases {
		fmt.Fprintf(os.Stderr, "CASE %d %s/%s: %s\n", i, c.base, c.file, c.name)
		dir := filepath.Join(scratch, fmt.Sprint(i))
		path, _ := materialize(t, dir, bases[c.base], c)
		done := make(chan error, 1)
		go func() { done <- checkHostile(path, c.expect, want[c.base]) }()
		select {
		case err := <-done:
			var res hostileResult
			if errors.As(err, &res) {
				counts[string(res)]++
			} else {
				t.Errorf("%s/%s: %s: %v", c.base, c.file, c.name, err)
			}
		case <-time.After(20 * time.Second):
			fmt.Fprintf(os.Stderr, "HUNG on case %d\n", i)
			os.Exit(3)
		}
		os.RemoveAll(dir)
	}
	fmt.Printf("CORPUS %d cases: %d refused with a clean error, %d loaded unchanged, %d loaded as another valid model, %d reported a non-finite value\n",
		len(cases), counts[string(refused)], counts[string(unchanged)], counts[string(other)], counts[string(reported)])
}

// hostileTokens are the ids whose logits are compared: no special token, so a change
// to the tokenizer's special ids cannot change them.
var hostileTokens = [4]int32{1, 2, 3, 4}

// hostileResult is how a case ended when it ended well.
type hostileResult string

func (r hostileResult) Error() string { return string(r) }

const (
	refused   hostileResult = "refused"
	unchanged hostileResult = "loaded unchanged"
	other     hostileResult = "loaded as another model"
	reported  hostileResult = "non-finite value reported"
)

// materialize writes the case's model directory: base files as symlinks, the replaced
// one as given. It returns the path to load and the replaced file's path.
func materialize(t *testing.T, dir string, base map[string]string, c hostileCase) (string, string) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, src := range base {
		if name != c.file {
			if err := os.Symlink(src, filepath.Join(dir, name)); err != nil {
				t.Fatal(err)
			}
		}
	}
	target := filepath.Join(dir, c.file)
	var err error
	switch c.special {
	case "":
		err = os.WriteFile(target, c.build(), 0o644)
	case "fifo":
		err = syscall.Mkfifo(target, 0o644)
	case "dir":
		err = os.Mkdir(target, 0o755)
	case "dev":
		err = os.Symlink("/dev/zero", target)
	}
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(c.base, "gguf") {
		return target, target
	}
	return dir, target
}

// maxErrorLen bounds a load error's message: lists of problems are capped.
const maxErrorLen = 4096

// checkHostile loads path (and inspects it). A failure must be an error naming the path
// (the model directory, or the file for a GGUF), of bounded length. A success must be a
// consistent model: special tokens distinct and inside the vocabulary, Inspect agreeing,
// finite logits, and for expect == sameOutput or nonFinite the base model's logits (want)
// exactly; a nonFinite case may instead end in the forward's NonFiniteError.
// It returns the hostileResult of a case that ended well, any other error otherwise.
func checkHostile(path string, expect outcome, want []float32) error {
	_, ierr := Inspect(path)
	m, err := dllm.Load(path, dllm.LoadOptions{Threads: 1})
	if err != nil {
		msg := err.Error()
		switch {
		case !strings.Contains(msg, path):
			return fmt.Errorf("the error does not name %s: %s", path, msg)
		case len(msg) > maxErrorLen:
			return fmt.Errorf("an error of %d bytes: %.300s…", len(msg), msg)
		}
		return refused
	}
	defer m.Close()
	info := m.Info()
	switch {
	case expect == mustFail:
		return errors.New("loads, but the file is inconsistent")
	case ierr != nil:
		return fmt.Errorf("loads, but Inspect fails: %v", ierr)
	case info.MaskID < 0 || info.EOSID < 0 || int(info.MaskID) >= info.VocabSize || int(info.EOSID) >= info.VocabSize || info.MaskID == info.EOSID:
		return fmt.Errorf("loads with special tokens mask %d, eos %d in a vocabulary of %d", info.MaskID, info.EOSID, info.VocabSize)
	}
	logits, err := Logits(m, hostileTokens[:min(len(hostileTokens), info.ContextLength)], BlockMask(4))
	if expect == nonFinite && errors.Is(err, dllm.ErrNonFinite) {
		return reported
	}
	if err != nil {
		return fmt.Errorf("loads, but the forward pass fails: %v", err)
	}
	for i, x := range logits {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return fmt.Errorf("loads, but logit %d is %v", i, x)
		}
	}
	if expect == otherOutput {
		return other
	}
	if len(logits) != len(want) {
		return fmt.Errorf("loads, but gives %d logits where the intact model gives %d", len(logits), len(want))
	}
	for i := range want {
		if logits[i] != want[i] {
			return fmt.Errorf("loads, but logit %d is %g where the intact model gives %g", i, logits[i], want[i])
		}
	}
	return unchanged
}

// A weights file truncated or rewritten in place after loading is an error at the next
// generation, naming the file, instead of a SIGBUS or silently different output.
func TestModelChangedOnDisk(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(path string) error
		want   string
	}{
		{"truncated", func(p string) error { return os.Truncate(p, 4096) }, "4096 bytes"},
		{"rewritten", func(p string) error {
			// Timestamps tick coarsely; a rewrite in the same tick as the copy that
			// created the file would look unchanged.
			time.Sleep(20 * time.Millisecond)
			f, err := os.OpenFile(p, os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = f.WriteAt(make([]byte, 4096), 1<<16)
			return err
		}, "rewritten"},
	} {
		t.Run(c.name, func(t *testing.T) {
			// The weights are a copy (to be changed), the other files links.
			base := hostileBases(t)["hf"]
			orig, err := os.ReadFile(base["model.safetensors"])
			if err != nil {
				t.Fatal(err)
			}
			dir, weights := materialize(t, filepath.Join(t.TempDir(), "m"), base,
				hostileCase{file: "model.safetensors", build: func() []byte { return orig }})
			m := loadModel(t, dir)
			s := newSession(t, m)
			opts := dllm.DefaultOptions()
			opts.MaxTokens, opts.BlockLength, opts.Steps = 8, 8, 8
			if _, err := s.Generate(context.Background(), "hello", opts); err != nil {
				t.Fatal(err)
			}
			if err := c.change(weights); err != nil {
				t.Fatal(err)
			}
			_, err = s.Generate(context.Background(), "hello", opts)
			if !errors.Is(err, dllm.ErrModelChanged) || !strings.Contains(err.Error(), weights) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("generate after the change: %v, want ErrModelChanged naming %s (%s)", err, weights, c.want)
			}
			if _, err := Logits(m, []int32{1, 2}, CausalMask()); !errors.Is(err, dllm.ErrModelChanged) {
				t.Fatalf("logits after the change: %v", err)
			}
			if _, err := m.NewSession(); !errors.Is(err, dllm.ErrModelChanged) {
				t.Fatalf("new session after the change: %v", err)
			}
		})
	}
}
