package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"

	"github.com/dllm-go/dllm/dllm"
)

// runChat is an interactive multi-turn chat. Each turn reuses the KV cache of the
// conversation so far; /reset starts over, /quit or end of input leaves.
func runChat(args []string) error {
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	var g genFlags
	g.register(fs)
	system := fs.String("system", "", "system prompt")
	if err := fs.Parse(args); err != nil {
		return err
	}
	opts, err := g.options(fs)
	if err != nil {
		return err
	}
	m, _, err := g.load()
	if err != nil {
		return err
	}
	defer m.Close()
	s, err := m.NewSession()
	if err != nil {
		return err
	}
	defer s.Close()
	if *system != "" {
		s.SetSystem(*system)
	}
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	for {
		fmt.Fprint(os.Stderr, "> ")
		if !in.Scan() {
			fmt.Fprintln(os.Stderr)
			return in.Err()
		}
		line := strings.TrimSpace(in.Text())
		switch line {
		case "":
			continue
		case "/quit", "/exit":
			return nil
		case "/reset":
			s.Reset()
			continue
		}
		var view *liveView
		turn := opts
		if g.visual {
			view = newLiveView(m, os.Stdout)
			turn.OnStep = func(ev dllm.StepEvent) bool { view.step(ev); return true }
		} else {
			turn.OnText = func(d string) bool { fmt.Print(d); return true }
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		res, err := s.Chat(ctx, line, turn)
		stop()
		if view != nil {
			view.finish(res)
		} else {
			fmt.Println()
		}
		if err != nil && !errors.Is(err, dllm.ErrStopped) && !errors.Is(err, context.Canceled) {
			return err
		}
		fmt.Fprintln(os.Stderr, statsLine(res))
	}
}
