package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/dllm-go/dllm/dllm"
)

// chatCommands are the slash commands of `dllm chat`, shown at start and in -h.
var chatCommands = []struct{ names, what string }{
	{"/reset", "start a new conversation"},
	{"/quit, /exit", "leave (so does end of input, Ctrl-D)"},
	{"/help", "list these commands"},
}

func printChatCommands(w io.Writer) {
	fmt.Fprintln(w, "chat commands:")
	for _, c := range chatCommands {
		fmt.Fprintf(w, "  %-14s %s\n", c.names, c.what)
	}
}

// runChat is an interactive multi-turn chat. Each turn reuses the KV cache of the
// conversation so far.
func runChat(args []string, std stdio) error {
	stdin, stdout, stderr := std.in, std.out, std.err
	fs := newCommandFlags("chat", "dllm chat [-m PATH] [flags]", stdout)
	var notes strings.Builder
	printChatCommands(&notes)
	fs.notes = notes.String()
	var g genFlags
	g.registerModel(fs)
	system := fs.String("system", "", "system prompt")
	g.register(fs)
	if err := fs.parse(args); err != nil {
		return err
	}
	if err := fs.noArgs(); err != nil {
		return err
	}
	opts, err := g.options(fs)
	if err != nil {
		return err
	}
	m, _, err := g.load(stderr)
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
	printChatCommands(stderr)
	in := bufio.NewScanner(stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	for {
		fmt.Fprint(stderr, "> ")
		if !in.Scan() {
			fmt.Fprintln(stderr)
			return in.Err()
		}
		line := strings.TrimSpace(in.Text())
		switch {
		case line == "":
			continue
		case line == "/quit" || line == "/exit":
			return nil
		case line == "/reset":
			s.Reset()
			fmt.Fprintln(stderr, "(new conversation)")
			continue
		case line == "/help":
			printChatCommands(stderr)
			continue
		case strings.HasPrefix(line, "/") && !strings.ContainsAny(line, " \t"):
			fmt.Fprintf(stderr, "unknown command %s (/help lists them)\n", line)
			continue
		}
		var view *liveView
		turn := opts
		if g.visual {
			view = newLiveView(m, stdout)
			turn.OnStep = func(ev dllm.StepEvent) bool { view.step(ev); return true }
		} else {
			turn.OnText = func(d string) bool { fmt.Fprint(stdout, d); return true }
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		res, err := s.Chat(ctx, line, turn)
		stop()
		if view != nil {
			view.finish(res)
		} else {
			fmt.Fprintln(stdout)
		}
		if errors.Is(err, dllm.ErrInvalid) {
			return errors.New(flagMessage(err)) // an option the model's family does not take
		}
		if err != nil && !errors.Is(err, dllm.ErrStopped) && !errors.Is(err, context.Canceled) {
			return err
		}
		fmt.Fprintln(stderr, statsLine(res))
	}
}
