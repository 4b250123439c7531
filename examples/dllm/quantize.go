package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/dllm-go/dllm/dllm/tools"
)

func runQuantize(args []string, std stdio) error {
	fs := newCommandFlags("quantize", "dllm quantize -m HF_DIR -o OUT.gguf [-t q8_0]", std.out)
	fs.notes = `Streams one tensor at a time into the GGUF layout llama.cpp's converter writes for the
family (LLaDA2, LLaDA, LLaDA-MoE, Dream, RND1). Norms, biases, the MoE router and the
expert bias stay f32; matrices whose rows are not whole blocks fall back to q8_0
(K-quants) or f16. Interrupting leaves no file.
`
	model := fs.StringP("model", "m", "", "Hugging Face folder `HF_DIR` (LLaDA2, LLaDA, LLaDA-MoE, Dream or RND1): config.json, safetensors, tokenizer.json (required)")
	out := fs.StringP("out", "o", "", "output `FILE`, ending in .gguf (required)")
	typ := fs.StringP("type", "t", "q8_0", "weight type: f32, f16, bf16, q8_0, q4_0, q4_k or q6_k")
	outType := fs.String("output-type", "", "type of the LM head (default: q6_k with q4_k, else the -t type)")
	arch := fs.String("arch", "", "general.architecture (default: the family's; LLaDA2 also takes bailingmoe2, what llama.cpp master loads)")
	name := fs.String("name", "", "general.name (default: the source directory's name)")
	tok := fs.String("tokenizer", "", "directory with tokenizer.json and tokenizer_config.json (default: -m)")
	threads := fs.Int("threads", 0, "conversion threads (0 = all cores)")
	if err := fs.parse(args); err != nil {
		return err
	}
	if err := fs.noArgs(); err != nil {
		return err
	}
	if *model == "" {
		return fs.required("-m HF_DIR")
	}
	if *out == "" {
		return fs.required("-o OUT.gguf")
	}
	if !strings.HasSuffix(strings.ToLower(*out), ".gguf") {
		return usagef("-o %s must end in .gguf", *out)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	tty := false
	if f, ok := std.err.(*os.File); ok {
		tty = isTerminal(f)
	}
	bar := newProgressBar(std.err, tty, "quantize "+*typ)
	sum, err := tools.Quantize(ctx, *model, *out, tools.QuantizeOptions{
		Type: *typ, OutputType: *outType, Arch: *arch, Name: *name, Tokenizer: *tok, Threads: *threads,
		Progress: bar.update,
	})
	bar.finish()
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return fmt.Errorf("interrupted; nothing written to %s", *out)
		}
		return err
	}
	fmt.Fprintf(std.err, "wrote %s: %d tensors (%s), %s → %s in %.1f s (%s/s)\n", *out, sum.Tensors,
		typeCounts(sum.Types), humanBytes(sum.InBytes), humanBytes(sum.OutBytes), sum.Elapsed.Seconds(),
		humanBytes(int64(float64(sum.InBytes)/max(sum.Elapsed.Seconds(), 1e-9))))
	if n := len(sum.Fallbacks); n > 0 {
		fmt.Fprintf(std.err, "%d matrices fell back to another type (rows not whole blocks), e.g. %s\n", n, sum.Fallbacks[0])
	}
	return nil
}

func typeCounts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d %s", m[k], k)
	}
	return strings.Join(parts, ", ")
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// isTerminal reports whether f is a character device, i.e. (almost always) a terminal:
// the progress bar redraws a line with \r, which only makes sense there.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progressBar draws "label [=====>    ]  42.0%  1.2/2.6 GiB  85.3 MiB/s  ETA 0:17" on one
// line, at most ten times a second; it draws nothing when not on a terminal.
type progressBar struct {
	w       io.Writer
	on      bool
	label   string
	start   time.Time
	mu      sync.Mutex
	last    time.Time
	drawn   bool
	lastLen int
}

func newProgressBar(w io.Writer, on bool, label string) *progressBar {
	return &progressBar{w: w, on: on, label: label, start: time.Now()}
}

func (p *progressBar) update(done, total int64) {
	if !p.on || total <= 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if now.Sub(p.last) < 100*time.Millisecond && done < total {
		return
	}
	p.last = now
	frac := float64(done) / float64(total)
	const width = 30
	fill := int(frac * width)
	bar := strings.Repeat("=", fill)
	if fill < width {
		bar += ">" + strings.Repeat(" ", width-fill-1)
	}
	el := now.Sub(p.start).Seconds()
	rate := float64(done) / max(el, 1e-9)
	eta := "--:--"
	if rate > 0 && done > 0 {
		eta = clock(time.Duration(float64(total-done) / rate * float64(time.Second)))
	}
	line := fmt.Sprintf("%s [%s] %5.1f%%  %s/%s  %s/s  ETA %s", p.label, bar, 100*frac,
		humanBytes(done), humanBytes(total), humanBytes(int64(rate)), eta)
	pad := ""
	if n := p.lastLen - len(line); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	fmt.Fprint(p.w, "\r"+line+pad)
	p.lastLen = len(line)
	p.drawn = true
}

// finish ends the bar's line so the summary starts on a fresh one.
func (p *progressBar) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}

func clock(d time.Duration) string {
	s := int(d.Seconds() + 0.5)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
