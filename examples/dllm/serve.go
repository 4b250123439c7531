package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dllm-go/dllm/dllm"
	"github.com/dllm-go/dllm/dllm/serve"
)

// runServe serves the OpenAI-compatible API and the web page until SIGINT or SIGTERM,
// then stops accepting, lets running requests finish up to --shutdown-timeout and
// returns (exit status 0).
func runServe(args []string, std stdio) error {
	fs := newCommandFlags("serve", "dllm serve [-m PATH] [--host 127.0.0.1] [--port 8080] [flags]", std.out)
	fs.notes = "Routes: POST /v1/chat/completions, POST /v1/completions, GET /v1/models, GET /health,\nand the web page at /. The API key may also come from the DLLM_API_KEY environment variable.\n"
	var g genFlags
	g.registerModel(fs)
	host := fs.String("host", "127.0.0.1", "address to listen on (0.0.0.0 for every interface)")
	port := fs.IntP("port", "p", 8080, "TCP port (0 picks a free one; the address is printed)")
	parallel := fs.Int("parallel", 1, "requests generated at once, each with a KV cache of its own")
	maxQueue := fs.Int("max-queue", serve.DefaultMaxQueue, "requests that may wait for a session; beyond, 503 (0 = none)")
	ctxLen := fs.Int("ctx", 0, "tokens of prompt plus generation per request (0 = the model's context length)")
	apiKey := fs.String("api-key", "", "require Authorization: Bearer KEY on every /v1 route")
	cors := fs.String("cors", "", "allow browser pages from this `ORIGIN` (* for any) to call the API")
	alias := fs.String("alias", "", "model id in the API (default: the model's file or folder name, or demo)")
	timeout := fs.Duration("timeout", serve.DefaultRequestTimeout, "limit on one request, queueing included")
	grace := fs.Duration("shutdown-timeout", 30*time.Second, "on SIGINT/SIGTERM, how long running requests may finish")
	maxBody := fs.Int64("max-body", serve.DefaultMaxBodyBytes, "request body limit in bytes")
	fs.IntVar(&g.threads, "threads", 0, "worker threads (0 = all cores)")
	fs.BoolVar(&g.noRepack, "no-repack", false, noRepackHelp)
	quiet := fs.BoolP("quiet", "q", false, "do not log requests")
	if err := fs.parse(args); err != nil {
		return err
	}
	if err := fs.noArgs(); err != nil {
		return err
	}
	switch {
	case *port < 0 || *port > 65535:
		return usagef("--port must be in [0,65535], got %d", *port)
	case *parallel < 1:
		return usagef("--parallel must be at least 1, got %d", *parallel)
	case *maxQueue < 0:
		return usagef("--max-queue must not be negative, got %d", *maxQueue)
	case *ctxLen < 0:
		return usagef("--ctx must not be negative, got %d", *ctxLen)
	case *timeout <= 0 || *grace < 0:
		return usagef("--timeout must be positive and --shutdown-timeout not negative")
	case *maxBody <= 0:
		return usagef("--max-body must be positive, got %d", *maxBody)
	}
	if *apiKey == "" {
		*apiKey = os.Getenv("DLLM_API_KEY")
	}
	m, demo, err := g.load(std.err)
	if err != nil {
		return err
	}
	defer m.Close()
	id := *alias
	if id == "" {
		id = modelID(g.model, demo)
	}
	queue := *maxQueue
	if queue == 0 {
		queue = -1 // the flag's 0 is literal: no queue
	}
	o := serve.Options{
		ModelID: id, Parallel: *parallel, MaxQueue: queue, ContextLength: *ctxLen,
		APIKey: *apiKey, CORSOrigin: *cors, MaxBodyBytes: *maxBody, RequestTimeout: *timeout,
	}
	if !*quiet {
		o.Logger = slog.New(slog.NewTextHandler(std.err, nil))
	}
	srv, err := serve.New(m, o)
	if err != nil {
		return err
	}
	defer srv.Close()

	ln, err := net.Listen("tcp", net.JoinHostPort(*host, strconv.Itoa(*port)))
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slogError(o.Logger)}
	if ip := net.ParseIP(*host); *apiKey == "" && (ip == nil || !ip.IsLoopback()) {
		fmt.Fprintf(std.err, "warning: serving %s to the network without --api-key: anyone who reaches it can use it\n", *host)
	}
	fmt.Fprintf(std.err, "dllm serve: listening on http://%s (model %s, %d session(s), queue %d); Ctrl-C stops\n",
		ln.Addr(), id, *parallel, *maxQueue)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	stop() // a second Ctrl-C kills the process
	fmt.Fprintf(std.err, "dllm serve: shutting down; %d request(s) have up to %v to finish\n", srv.Active(), *grace)
	dl, cancel := context.WithTimeout(context.Background(), *grace)
	defer cancel()
	if err := hs.Shutdown(dl); err != nil {
		fmt.Fprintf(std.err, "dllm serve: %d request(s) still running after %v: cancelling them\n", srv.Active(), *grace)
		srv.Close()
		hs.Close()
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	fmt.Fprintln(std.err, "dllm serve: stopped")
	return nil
}

// modelID names the served model: demo, or the model's file or folder name without
// a .gguf extension.
func modelID(path string, demo bool) string {
	if demo || path == "" {
		return dllm.DemoModel
	}
	return strings.TrimSuffix(filepath.Base(filepath.Clean(path)), ".gguf")
}

// slogError routes net/http's own error lines (bad TLS handshakes, panics) to the
// request log, or discards them with it.
func slogError(l *slog.Logger) *log.Logger {
	if l == nil {
		return log.New(io.Discard, "", 0)
	}
	return slog.NewLogLogger(l.Handler(), slog.LevelWarn)
}
