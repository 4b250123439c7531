package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"

	"github.com/dllm-go/dllm/dllm"
)

// genFlags are the decoding flags shared by generate and chat (DESIGN.md §4).
type genFlags struct {
	model         string
	threads       int
	blockLength   int
	steps         int
	threshold     float64
	editThreshold optionalFloat
	maxPostSteps  int
	maxTokens     int
	temp          float64
	topK          int
	topP          float64
	seed          uint64
	eosEarlyStop  bool
	noCache       bool
	visual        bool
	roleEndStop   bool
	preset        string
}

// optionalFloat is a float flag that remembers whether it was given.
type optionalFloat struct {
	set bool
	v   float64
}

func (o *optionalFloat) String() string {
	if !o.set {
		return "off"
	}
	return strconv.FormatFloat(o.v, 'g', -1, 64)
}

func (o *optionalFloat) Set(s string) error {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return err
	}
	o.set, o.v = true, v
	return nil
}

func (g *genFlags) register(fs *flag.FlagSet) {
	d := dllm.DefaultOptions()
	fs.StringVar(&g.model, "m", "", "model: Hugging Face directory or .gguf file (default: the built-in demo model)")
	fs.IntVar(&g.threads, "threads", 0, "worker threads (0 = all cores)")
	fs.StringVar(&g.preset, "preset", "default", "decoding preset: default (LLaDA2.0 threshold 0.95), quality or speed (LLaDA2.1 editing); other flags override it")
	fs.IntVar(&g.blockLength, "block-length", d.BlockLength, "tokens decoded together per block")
	fs.IntVar(&g.steps, "steps", d.Steps, "maximum denoising steps per block (LLaDA2.0)")
	fs.Float64Var(&g.threshold, "threshold", d.Threshold, "confidence a masked position must exceed to be filled")
	fs.Var(&g.editThreshold, "edit-threshold", "enable LLaDA2.1 token editing with this confidence (off unless given)")
	fs.IntVar(&g.maxPostSteps, "max-post-steps", d.MaxPostSteps, "LLaDA2.1 editing steps after a block is filled")
	fs.IntVar(&g.maxTokens, "n", d.MaxTokens, "maximum new tokens")
	fs.Float64Var(&g.temp, "temp", 0, "sampling temperature (0 = greedy)")
	fs.IntVar(&g.topK, "top-k", 0, "top-k filter when sampling (0 = off)")
	fs.Float64Var(&g.topP, "top-p", 1, "nucleus filter when sampling (1 = off)")
	fs.Uint64Var(&g.seed, "seed", 0, "sampling seed")
	fs.BoolVar(&g.eosEarlyStop, "eos-early-stop", false, "stop as soon as the end of text is final")
	fs.BoolVar(&g.noCache, "no-cache", false, "recompute the whole window every step (reference behaviour, slow)")
	fs.BoolVar(&g.visual, "visual", false, "show the block denoising live in the terminal")
	fs.BoolVar(&g.roleEndStop, "stop-on-role-end", d.StopOnRoleEnd, "end the output at <|role_end|> too (the reference stops at <|endoftext|> only)")
}

// options starts from the chosen preset and applies the flags given on the command line
// over it, so `--preset speed --threshold 0.6` means exactly that.
func (g *genFlags) options(fs *flag.FlagSet) (dllm.GenerateOptions, error) {
	var o dllm.GenerateOptions
	switch g.preset {
	case "default", "":
		o = dllm.DefaultOptions()
	case "quality":
		o = dllm.QualityOptions()
	case "speed":
		o = dllm.SpeedOptions()
	default:
		return o, fmt.Errorf("unknown --preset %q (want default, quality or speed)", g.preset)
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "block-length":
			o.BlockLength = g.blockLength
		case "steps":
			o.Steps = g.steps
		case "threshold":
			o.Threshold = g.threshold
		case "edit-threshold":
			o.EditThreshold = g.editThreshold.v
		case "max-post-steps":
			o.MaxPostSteps = g.maxPostSteps
		case "n":
			o.MaxTokens = g.maxTokens
		case "temp":
			o.Temperature = g.temp
		case "top-k":
			o.TopK = g.topK
		case "top-p":
			o.TopP = g.topP
		case "seed":
			o.Seed = g.seed
		case "eos-early-stop":
			o.EOSEarlyStop = g.eosEarlyStop
		case "no-cache":
			o.NoCache = g.noCache
		case "stop-on-role-end":
			o.StopOnRoleEnd = g.roleEndStop
		}
	})
	return o, nil
}

// load opens the model named by -m, or the built-in demo model, saying which on stderr.
func (g *genFlags) load() (*dllm.Model, bool, error) {
	path, demo := g.model, false
	if path == "" {
		path, demo = dllm.DemoModel, true
		fmt.Fprintln(os.Stderr, "no -m given: using the built-in demo model (a tiny trained LLaDA2; chat format on)")
	}
	m, err := dllm.Load(path, dllm.LoadOptions{Threads: g.threads})
	return m, demo, err
}

func runGenerate(args []string) error {
	fs := flag.NewFlagSet("generate", flag.ContinueOnError)
	var g genFlags
	g.register(fs)
	prompt := fs.String("p", "", "prompt text (special tokens such as <|role_end|> are recognised)")
	promptIDs := fs.String("prompt-ids", "", "prompt as comma-separated token ids")
	chat := fs.Bool("chat", false, "wrap the prompt in the model's chat template as a user turn")
	system := fs.String("system", "", "system prompt (implies --chat)")
	asJSON := fs.Bool("json", false, "print one JSON object with tokens, text, trace and stats")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 && *prompt == "" {
		*prompt = strings.Join(fs.Args(), " ")
	}
	if (*prompt == "") == (*promptIDs == "") {
		return errors.New("generate: give exactly one of -p TEXT or --prompt-ids 1,2,3")
	}
	opts, err := g.options(fs)
	if err != nil {
		return err
	}
	m, demo, err := g.load()
	if err != nil {
		return err
	}
	defer m.Close()
	if demo && *promptIDs == "" {
		*chat = true
	}
	s, err := m.NewSession()
	if err != nil {
		return err
	}
	defer s.Close()

	var trace []traceEntry
	var view *liveView
	if g.visual && !*asJSON {
		view = newLiveView(m, os.Stdout)
	}
	opts.OnStep = func(ev dllm.StepEvent) bool {
		if *asJSON {
			trace = append(trace, newTraceEntry(ev))
		}
		if view != nil {
			view.step(ev)
		}
		return true
	}
	if !*asJSON && view == nil {
		opts.OnText = func(delta string) bool {
			fmt.Print(delta)
			return true
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var res dllm.Result
	switch {
	case *promptIDs != "":
		ids, perr := parseIDs(*promptIDs)
		if perr != nil {
			return perr
		}
		res, err = s.GenerateIDs(ctx, ids, opts)
	case *chat || *system != "":
		var msgs []dllm.Message
		if *system != "" {
			msgs = append(msgs, dllm.Message{Role: "system", Content: *system})
		}
		msgs = append(msgs, dllm.Message{Role: "user", Content: *prompt})
		res, err = s.GenerateChat(ctx, msgs, opts)
	default:
		res, err = s.Generate(ctx, *prompt, opts)
	}
	if err != nil && !errors.Is(err, dllm.ErrStopped) && !errors.Is(err, context.Canceled) {
		return err
	}
	if *asJSON {
		return printJSON(res, trace)
	}
	if view != nil {
		view.finish(res)
	} else {
		fmt.Println()
	}
	fmt.Fprintln(os.Stderr, statsLine(res))
	return err
}

func parseIDs(s string) ([]int32, error) {
	var ids []int32
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		v, err := strconv.ParseInt(f, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("bad token id %q: %v", f, err)
		}
		ids = append(ids, int32(v))
	}
	if len(ids) == 0 {
		return nil, errors.New("no token ids given")
	}
	return ids, nil
}

// traceEntry is one forward in --json output, with the fields of the fixture goldens.
type traceEntry struct {
	Block     int      `json:"block"`
	Step      int      `json:"step"`
	PostStep  int      `json:"post_step"`
	Window    int      `json:"window"`
	Masked    int      `json:"masked"`
	Above     int      `json:"above"`
	Scheduled int      `json:"scheduled,omitempty"`
	Fallback  bool     `json:"fallback"`
	Committed [][3]any `json:"committed"`
	Edited    [][4]any `json:"edited"`
}

func newTraceEntry(ev dllm.StepEvent) traceEntry {
	t := traceEntry{Block: ev.Block, Step: ev.Step, PostStep: ev.PostStep, Window: ev.Window,
		Masked: ev.Masked, Above: ev.Above, Scheduled: ev.Scheduled, Fallback: ev.Fallback,
		Committed: [][3]any{}, Edited: [][4]any{}}
	for _, c := range ev.Committed {
		t.Committed = append(t.Committed, [3]any{c.Pos, c.Token, c.Confidence})
	}
	for _, e := range ev.Edited {
		t.Edited = append(t.Edited, [4]any{e.Pos, e.Old, e.New, e.Confidence})
	}
	return t
}

func printJSON(res dllm.Result, trace []traceEntry) error {
	out := map[string]any{
		"tokens":      res.Tokens,
		"text":        res.Text,
		"stop_reason": res.StopReason,
		"trace":       trace,
		"stats": map[string]any{
			"prompt_tokens":       res.Stats.PromptTokens,
			"tokens":              res.Stats.Tokens,
			"forwards":            res.Stats.Forwards,
			"tokens_per_forward":  res.Stats.TokensPerForward,
			"seconds":             res.Stats.Duration.Seconds(),
			"time_to_first_token": res.Stats.TimeToFirstToken.Seconds(),
			"tokens_per_second":   res.Stats.TokensPerSecond,
		},
	}
	if out["tokens"] == nil || len(res.Tokens) == 0 {
		out["tokens"] = []int32{}
	}
	enc := json.NewEncoder(os.Stdout)
	return enc.Encode(out)
}

func statsLine(res dllm.Result) string {
	st := res.Stats
	return fmt.Sprintf("[%d tokens, %d forwards filling %.2f positions each, %.1f tokens/s, first token after %s, stop: %s]",
		st.Tokens, st.Forwards, st.TokensPerForward, st.TokensPerSecond, st.TimeToFirstToken.Round(1e5), res.StopReason)
}
