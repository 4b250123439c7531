package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/dllm-go/dllm/dllm"
)

// liveView draws the denoising of the current block as it happens: positions still masked
// show as ░, filled ones as their text. On a terminal it redraws in place (the cursor is
// saved once and every step clears from there); otherwise it prints one line per step.
type liveView struct {
	m        *dllm.Model
	w        io.Writer
	tty      bool
	mask     int32
	done     []int32 // tokens of finished blocks after the prompt
	block    int
	blockTok []int32
	start    int
	started  bool
}

func newLiveView(m *dllm.Model, w io.Writer) *liveView {
	f, isFile := w.(*os.File)
	return &liveView{m: m, w: w, tty: isFile && isTerminal(f), mask: m.Info().MaskID, block: -1}
}

func (v *liveView) step(ev dllm.StepEvent) {
	if ev.Block != v.block {
		v.flushBlock()
		v.block, v.start = ev.Block, ev.Start
	}
	// Only output positions: the first block may begin with the prompt's tail.
	skip := max(0, min(len(ev.Canvas), ev.Prompt-ev.Start))
	v.blockTok = append(v.blockTok[:0], ev.Canvas[skip:]...)
	body := v.render()
	if v.tty {
		if !v.started {
			fmt.Fprint(v.w, "\0337") // save the cursor: every redraw starts here
			v.started = true
		}
		fmt.Fprintf(v.w, "\0338\033[J%s\n\033[2m[block %d step %d: %d filled, %d edited, %d masked]\033[0m", body, ev.Block, ev.Step, len(ev.Committed), len(ev.Edited), countMask(ev.Canvas, v.mask))
		return
	}
	fmt.Fprintf(v.w, "[block %d step %d] %s\n", ev.Block, ev.Step, strings.ReplaceAll(v.renderBlock(), "\n", "⏎"))
}

// flushBlock moves the finished block into the done text.
func (v *liveView) flushBlock() {
	for _, t := range v.blockTok {
		if t != v.mask {
			v.done = append(v.done, t)
		}
	}
	v.blockTok = v.blockTok[:0]
}

func (v *liveView) render() string {
	return v.text(v.done) + v.renderBlock()
}

// text decodes ids without special tokens (the end-of-text padding of a block).
func (v *liveView) text(ids []int32) string {
	return v.m.Tokenizer().DecodeSkipSpecial(ids)
}

func (v *liveView) renderBlock() string {
	var b strings.Builder
	for _, t := range v.blockTok {
		if t == v.mask {
			b.WriteString("░")
			continue
		}
		b.WriteString(v.text([]int32{t}))
	}
	return b.String()
}

func (v *liveView) finish(res dllm.Result) {
	if v.tty && v.started {
		fmt.Fprintf(v.w, "\0338\033[J%s\n", res.Text)
		return
	}
	fmt.Fprintln(v.w, res.Text)
}

func countMask(toks []int32, mask int32) int {
	n := 0
	for _, t := range toks {
		if t == mask {
			n++
		}
	}
	return n
}
