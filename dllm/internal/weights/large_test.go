package weights

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dllm-go/dllm/dllm/internal/cputime"
)

// TestOpenLarge measures what opening costs on a checkpoint of real size: it writes a
// GGUF of about 1.3 GB shaped like LLaDA2.0-mini (the mini's vocabulary, embedding, head
// and expert stacks, three layers, q4_0) with a mini-sized tokenizer in the metadata,
// then opens it in a fresh process and reports resident memory and open time. Opening
// must touch no tensor data, so RSS stays near the Go runtime plus the metadata.
//
//	DLLM_LARGE_DIR=/tmp go test -run TestOpenLarge -v ./dllm/internal/weights/
//
// DLLM_LARGE_KEEP=1 keeps the file (a valid LLaDA2 GGUF header over meaningless weights,
// e.g. for timing `dllm inspect`).
func TestOpenLarge(t *testing.T) {
	dir := os.Getenv("DLLM_LARGE_DIR")
	if dir == "" {
		t.Skip("set DLLM_LARGE_DIR to a directory with 2 GB free to run")
	}
	path := filepath.Join(dir, "dllm-large-test.gguf")
	if os.Getenv("DLLM_LARGE_KEEP") == "" {
		defer os.Remove(path)
	}
	start := time.Now()
	size := writeLargeGGUF(t, path)
	t.Logf("wrote %s: %d bytes (%.2f GB) in %v", path, size, float64(size)/1e9, time.Since(start).Round(time.Millisecond))
	if size < 1<<30 {
		t.Fatalf("file of %d bytes is under 1 GiB", size)
	}

	for run := 0; run < 3; run++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestOpenLargeChild$", "-test.v")
		cmd.Env = append(os.Environ(), "DLLM_LARGE_CHILD="+path)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		var rssBefore, rssAfter, tensors int
		var openDur, openCPU time.Duration
		for _, line := range strings.Split(string(out), "\n") {
			if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "RESULT "); ok {
				var ns, cpuNs int64
				fmt.Sscanf(rest, "rss_before_kb=%d rss_after_kb=%d open_ns=%d tensors=%d cpu_ns=%d", &rssBefore, &rssAfter, &ns, &tensors, &cpuNs)
				openDur, openCPU = time.Duration(ns), time.Duration(cpuNs)
			}
		}
		if rssAfter == 0 {
			t.Fatalf("child printed no result:\n%s", out)
		}
		t.Logf("run %d: open %v (CPU %v), %d tensors, RSS %.1f MB before, %.1f MB after opening",
			run, openDur.Round(10*time.Microsecond), openCPU.Round(10*time.Microsecond), tensors, float64(rssBefore)/1024, float64(rssAfter)/1024)
		if rssAfter > 100*1024 {
			t.Errorf("RSS after opening %.1f MB, want < 100 MB", float64(rssAfter)/1024)
		}
	}
}

// TestOpenLargeChild is the measuring process of TestOpenLarge.
func TestOpenLargeChild(t *testing.T) {
	path := os.Getenv("DLLM_LARGE_CHILD")
	if path == "" {
		t.Skip("run by TestOpenLarge")
	}
	before := rssKB(t)
	start, cpu0 := time.Now(), cputime.Process()
	ck, err := Open(path)
	d, cpu := time.Since(start), cputime.Process()-cpu0
	if err != nil {
		t.Fatal(err)
	}
	after := rssKB(t)
	fmt.Printf("RESULT rss_before_kb=%d rss_after_kb=%d open_ns=%d tensors=%d cpu_ns=%d\n", before, after, d.Nanoseconds(), len(ck.Tensors), cpu.Nanoseconds())
	ck.Close()
}

func rssKB(t *testing.T) int {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status")
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			return n
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// writeLargeGGUF writes the mini-shaped file and returns its size.
func writeLargeGGUF(t *testing.T, path string) int64 {
	const (
		vocab, hidden, heads, kv, headDim = 157184, 2048, 16, 4, 128
		inter, moeInter, experts, layers  = 5120, 512, 256, 3
	)
	tokens := make([]string, vocab)
	merges := make([]string, 150000)
	for i := range tokens {
		tokens[i] = fmt.Sprintf("tok%06d", i)
	}
	for i := range merges {
		merges[i] = fmt.Sprintf("t%d m%d", i, i)
	}
	meta := []KV{
		{"general.architecture", MustValue("llada2")},
		{"llada2.block_count", MustValue(uint32(layers))},
		{"llada2.context_length", MustValue(uint32(32768))},
		{"llada2.embedding_length", MustValue(uint32(hidden))},
		{"llada2.feed_forward_length", MustValue(uint32(inter))},
		{"llada2.attention.head_count", MustValue(uint32(heads))},
		{"llada2.attention.head_count_kv", MustValue(uint32(kv))},
		{"llada2.attention.key_length", MustValue(uint32(headDim))},
		{"llada2.attention.value_length", MustValue(uint32(headDim))},
		{"llada2.rope.freq_base", MustValue(float32(600000))},
		{"llada2.rope.dimension_count", MustValue(uint32(headDim / 2))},
		{"llada2.attention.layer_norm_rms_epsilon", MustValue(float32(1e-6))},
		{"llada2.vocab_size", MustValue(uint32(vocab))},
		{"llada2.leading_dense_block_count", MustValue(uint32(1))},
		{"llada2.expert_count", MustValue(uint32(experts))},
		{"llada2.expert_used_count", MustValue(uint32(8))},
		{"llada2.expert_shared_count", MustValue(uint32(1))},
		{"llada2.expert_group_count", MustValue(uint32(8))},
		{"llada2.expert_group_used_count", MustValue(uint32(4))},
		{"llada2.expert_feed_forward_length", MustValue(uint32(moeInter))},
		{"llada2.expert_shared_feed_forward_length", MustValue(uint32(moeInter))},
		{"llada2.expert_weights_scale", MustValue(float32(2.5))},
		{"llada2.expert_weights_norm", MustValue(true)},
		{"llada2.expert_gating_func", MustValue(uint32(2))},
		{"tokenizer.ggml.model", MustValue("gpt2")},
		{"tokenizer.ggml.tokens", MustValue(tokens)},
		{"tokenizer.ggml.token_type", MustValue(make([]int32, vocab))},
		{"tokenizer.ggml.merges", MustValue(merges)},
	}
	q := Q4_0
	infos := []TensorInfo{
		{"token_embd.weight", q, []int{vocab, hidden}},
		{"output_norm.weight", F32, []int{hidden}},
		{"output.weight", q, []int{vocab, hidden}},
	}
	for l := 0; l < layers; l++ {
		p := fmt.Sprintf("blk.%d.", l)
		infos = append(infos,
			TensorInfo{p + "attn_norm.weight", F32, []int{hidden}},
			TensorInfo{p + "attn_qkv.weight", q, []int{(heads + 2*kv) * headDim, hidden}},
			TensorInfo{p + "attn_q_norm.weight", F32, []int{headDim}},
			TensorInfo{p + "attn_k_norm.weight", F32, []int{headDim}},
			TensorInfo{p + "attn_output.weight", q, []int{hidden, heads * headDim}},
			TensorInfo{p + "ffn_norm.weight", F32, []int{hidden}},
		)
		if l == 0 {
			infos = append(infos,
				TensorInfo{p + "ffn_gate.weight", q, []int{inter, hidden}},
				TensorInfo{p + "ffn_up.weight", q, []int{inter, hidden}},
				TensorInfo{p + "ffn_down.weight", q, []int{hidden, inter}},
			)
			continue
		}
		infos = append(infos,
			TensorInfo{p + "ffn_gate_inp.weight", F32, []int{experts, hidden}},
			TensorInfo{p + "exp_probs_b.bias", F32, []int{experts}},
			TensorInfo{p + "ffn_gate_exps.weight", q, []int{experts, moeInter, hidden}},
			TensorInfo{p + "ffn_up_exps.weight", q, []int{experts, moeInter, hidden}},
			TensorInfo{p + "ffn_down_exps.weight", q, []int{experts, hidden, moeInter}},
			TensorInfo{p + "ffn_gate_shexp.weight", q, []int{moeInter, hidden}},
			TensorInfo{p + "ffn_up_shexp.weight", q, []int{moeInter, hidden}},
			TensorInfo{p + "ffn_down_shexp.weight", q, []int{hidden, moeInter}},
		)
	}
	f, err := CreateGGUF(path, meta, infos)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	for i := range chunk {
		chunk[i] = byte(i * 13)
	}
	for _, in := range infos {
		n, _ := in.DType.ByteSize(in.Shape, 1<<40)
		err := f.WriteTensorFunc(in.Name, func(w io.Writer) error {
			for n > 0 {
				k := min(n, int64(len(chunk)))
				if _, err := w.Write(chunk[:k]); err != nil {
					return err
				}
				n -= k
			}
			return nil
		})
		if err != nil {
			f.Abort()
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}
