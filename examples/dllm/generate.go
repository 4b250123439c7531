package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"os/signal"
	"strconv"
	"strings"

	"github.com/dllm-go/dllm/dllm"
	"github.com/spf13/pflag"
)

// genFlags are the decoding flags shared by generate and chat (DESIGN.md §4).
type genFlags struct {
	model         string
	threads       int
	noRepack      bool
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
	// The bidirectional families' options (GenerateOptions.Algorithm, CFGScale, Eps,
	// AlgTemp, EBGamma).
	algorithm string
	cfgScale  float64
	eps       float64
	algTemp   float64
	ebGamma   float64
	cache     string
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
		return errors.New("not a number")
	}
	o.set, o.v = true, v
	return nil
}

func (o *optionalFloat) Type() string { return "float" }

// modelFlagHelp describes -m for every command that loads a model.
const modelFlagHelp = "the model: a Hugging Face folder, a .gguf file, a folder holding one, or demo (the built-in demo model)"

// registerModel registers -m; the command's own flags follow it, then register's.
func (g *genFlags) registerModel(fs *commandFlags) {
	fs.StringVarP(&g.model, "model", "m", "", "`PATH` of "+modelFlagHelp+"; default: demo")
}

// register registers the decoding flags.
func (g *genFlags) register(fs *commandFlags) {
	d := dllm.DefaultOptions()
	fs.StringVar(&g.preset, "preset", "default", "LLaDA2 decoding preset: default (LLaDA2.0 threshold 0.95), quality or speed (LLaDA2.1 editing); other flags override it")
	fs.IntVar(&g.blockLength, "block-length", d.BlockLength, "tokens decoded together per block (LLaDA2, LLaDA, LLaDA-MoE; llama.cpp's block schedule); not given: the model's default")
	fs.IntVar(&g.steps, "steps", d.Steps, "denoising steps: LLaDA2.0 at most per block, the other families in all; not given: the model's default")
	fs.Float64Var(&g.threshold, "threshold", d.Threshold, "confidence a masked position must exceed to be filled, in [0,1] (LLaDA, LLaDA-MoE, Dream: Fast-dLLM's threshold decoding, approximate)")
	fs.Var(&g.editThreshold, "edit-threshold", "enable LLaDA2.1 token editing with this confidence, in [0,1]")
	fs.IntVar(&g.maxPostSteps, "max-post-steps", d.MaxPostSteps, "LLaDA2.1 editing steps after a block is filled")
	fs.IntVarP(&g.maxTokens, "max-tokens", "n", d.MaxTokens, "maximum new tokens (the other families: exactly this many positions); not given: the model's default")
	fs.StringVar(&g.algorithm, "algorithm", "", "decoding algorithm of LLaDA, LLaDA-MoE, Dream and RND1 (default: the family's; dllm inspect lists them)")
	fs.Float64Var(&g.cfgScale, "cfg-scale", 0, "classifier-free guidance scale (LLaDA, LLaDA-MoE; 0 = off)")
	fs.Float64Var(&g.eps, "eps", 0, "last timestep of Dream's and llama.cpp's timestep schedule, in (0,1) (default 1e-3)")
	fs.Float64Var(&g.algTemp, "alg-temp", 0, "Dream's alg_temp: draw the positions to reveal at this temperature (0 = the most confident)")
	fs.Float64Var(&g.ebGamma, "eb-gamma", 0, "RND1's entropy-bounded sampler budget (selects --algorithm entropy_bounded)")
	fs.StringVar(&g.cache, "cache", "", "approximate cache, for speed: prefix or dual (Fast-dLLM; LLaDA, LLaDA-MoE, Dream), block, block:N, window:W or window:W:N (LLaDA2.0: in-block; N: a full step every N; W: decode the first W masked positions at a time) (default: exact)")
	fs.Float64Var(&g.temp, "temp", 0, "sampling temperature (0 = greedy)")
	fs.IntVar(&g.topK, "top-k", 0, "top-k filter when sampling (0 = off)")
	fs.Float64Var(&g.topP, "top-p", 1, "nucleus filter when sampling, in (0,1] (1 = off)")
	fs.Uint64Var(&g.seed, "seed", 0, "sampling seed")
	fs.BoolVar(&g.eosEarlyStop, "eos-early-stop", false, "stop as soon as the end of text is final")
	fs.BoolVar(&g.roleEndStop, "stop-on-role-end", !d.IgnoreRoleEnd, "end the output at <|role_end|> too (the reference stops at <|endoftext|> only)")
	fs.BoolVar(&g.noCache, "no-cache", false, "recompute the whole window every step (reference behaviour, slow)")
	fs.IntVar(&g.threads, "threads", 0, "worker threads (0 = all cores)")
	fs.BoolVar(&g.noRepack, "no-repack", false, noRepackHelp)
	fs.BoolVar(&g.visual, "visual", false, "show the block denoising live in the terminal")
}

// noRepackHelp describes --no-repack (dllm.LoadOptions.NoRepack).
const noRepackHelp = "keep every weight in the mapped file (by default x86-64 with AVX2 copies Q4_K, Q6_K and Q8_0 matrices into a faster layout at load: as much memory again)"

// zeroMistakes says what a count flag must be, for those that cannot be 0.
var zeroMistakes = map[string]string{
	"max-tokens":   "be positive",
	"block-length": fmt.Sprintf("be in [1,%d]", dllm.MaxBlockLength),
	"steps":        fmt.Sprintf("be in [1,%d]", dllm.MaxSteps),
	"top-p":        "be in (0,1]",
}

// flagOfOption names the flag that sets each GenerateOptions field, so that the
// library's range checks (GenerateOptions.Validate) read as command-line errors.
var flagOfOption = map[string]string{
	"MaxTokens": "--max-tokens", "BlockLength": "--block-length", "Steps": "--steps",
	"Threshold": "--threshold", "EditThreshold": "--edit-threshold", "MaxPostSteps": "--max-post-steps",
	"Temperature": "--temp", "TopK": "--top-k", "TopP": "--top-p",
	"Algorithm": "--algorithm", "CFGScale": "--cfg-scale", "Eps": "--eps", "AlgTemp": "--alg-temp", "EBGamma": "--eb-gamma", "Cache": "--cache",
}

// options starts from the chosen preset, applies the flags given on the command line
// over it (so `--preset speed --threshold 0.6` means exactly that) and checks the result
// before any model is loaded. Without --preset it starts from the zero options, which
// mean the loaded model's defaults (for LLaDA2 the default preset).
func (g *genFlags) options(fs *commandFlags) (dllm.GenerateOptions, error) {
	var o dllm.GenerateOptions
	if fs.Changed("preset") {
		var err error
		if o, err = dllm.PresetOptions(g.preset); err != nil {
			return o, usagef("--%s", strings.TrimPrefix(err.Error(), "dllm: "))
		}
	} else if fs.Changed("edit-threshold") {
		o.MaxPostSteps = dllm.DefaultOptions().MaxPostSteps // the recommended 16, as the presets
	}
	var zero error
	fs.Visit(func(f *pflag.Flag) {
		// A flag's zero is literal, as in C; the library would take it for its default
		// (-n 0 would generate 2048 tokens), so a zero count is a mistake here.
		if msg, ok := zeroMistakes[f.Name]; ok && f.Value.String() == "0" && zero == nil {
			zero = usagef("--%s must %s, got 0", f.Name, msg)
		}
		switch f.Name {
		case "block-length":
			o.BlockLength = g.blockLength
		case "steps":
			o.Steps = g.steps
		case "threshold":
			// The flag's 0 is literal (fill every position at once); the library's 0
			// means its default, and this is exactly "any confidence" there.
			o.Threshold = g.threshold
			if o.Threshold == 0 {
				o.Threshold = math.SmallestNonzeroFloat64
			}
		case "edit-threshold":
			o.Edit, o.EditThreshold = true, g.editThreshold.v
		case "max-post-steps":
			o.MaxPostSteps = g.maxPostSteps
		case "max-tokens":
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
			o.IgnoreRoleEnd = !g.roleEndStop
		case "algorithm":
			o.Algorithm = g.algorithm
		case "cfg-scale":
			o.CFGScale = g.cfgScale
		case "eps":
			o.Eps = g.eps
		case "alg-temp":
			o.AlgTemp = g.algTemp
		case "eb-gamma":
			o.EBGamma = g.ebGamma
		case "cache":
			o.Cache = g.cache
		}
	})
	if zero != nil {
		return o, zero
	}
	if g.threads < 0 {
		return o, usagef("--threads must not be negative, got %d", g.threads)
	}
	if err := o.Validate(); err != nil {
		return o, usagef("%s", flagMessage(err))
	}
	return o, nil
}

// flagMessage is a library option error with the GenerateOptions field it starts with
// named as the flag that sets it.
func flagMessage(err error) string {
	msg := strings.TrimPrefix(err.Error(), "dllm: ")
	field, rest, _ := strings.Cut(msg, " ")
	if flag, ok := flagOfOption[field]; ok {
		msg = flag + " " + rest
	}
	return msg
}

// load opens the model named by -m, or the built-in demo model, saying so on stderr.
// demo reports the demo model, whose prompts are chat turns.
func (g *genFlags) load(stderr io.Writer) (m *dllm.Model, demo bool, err error) {
	path := g.model
	if path == "" {
		path = dllm.DemoModel
		fmt.Fprintln(stderr, "no -m given: using the built-in demo model (a tiny trained LLaDA2; chat format on)")
	}
	demo = path == dllm.DemoModel
	m, err = loadModel(path, dllm.LoadOptions{Threads: g.threads, NoRepack: g.noRepack})
	return m, demo, err
}

// loadModel opens the model at path; a path that does not exist is reported as such,
// with what -m accepts.
func loadModel(path string, o dllm.LoadOptions) (*dllm.Model, error) {
	m, err := dllm.Load(path, o)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, noSuchModel(path)
	}
	return m, err
}

func noSuchModel(path string) error {
	return fmt.Errorf("-m %s: no such file or folder (-m takes a Hugging Face folder, a .gguf file or demo)", path)
}

func runGenerate(args []string, std stdio) error {
	stdout, stderr := std.out, std.err
	fs := newCommandFlags("generate", "dllm generate [-m PATH] [flags] (-p TEXT | TEXT... | --prompt-ids 1,2,3)", stdout)
	var g genFlags
	g.registerModel(fs)
	prompt := fs.StringP("prompt", "p", "", "prompt `TEXT` (special tokens such as <|role_end|> are recognised); or give it as arguments")
	promptIDs := fs.String("prompt-ids", "", "prompt as comma-separated token `IDS`")
	chat := fs.Bool("chat", false, "wrap the prompt in the model's chat template as a user turn (on for the demo model, unless --prompt-ids)")
	system := fs.String("system", "", "system prompt (implies --chat)")
	asJSON := fs.Bool("json", false, `print one JSON object: {"tokens","text","stop_reason","trace","stats"}`)
	g.register(fs)
	if err := fs.parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		if *prompt != "" || *promptIDs != "" {
			return usagef("the prompt is given twice: as -p/--prompt-ids and as arguments %q", strings.Join(fs.Args(), " "))
		}
		*prompt = strings.Join(fs.Args(), " ")
	}
	if (*prompt == "") == (*promptIDs == "") {
		return usagef("give exactly one of -p TEXT (or the text as arguments) or --prompt-ids 1,2,3 (see dllm generate -h)")
	}
	var ids []int32
	if *promptIDs != "" {
		var err error
		if ids, err = parseIDs(*promptIDs); err != nil {
			return usagef("--prompt-ids: %v", err)
		}
	}
	opts, err := g.options(fs)
	if err != nil {
		return err
	}
	m, demo, err := g.load(stderr)
	if err != nil {
		return err
	}
	defer m.Close()
	if demo && ids == nil {
		*chat = true
	}
	s, err := m.NewSession()
	if err != nil {
		return err
	}
	defer s.Close()

	trace := []json.RawMessage{}
	var traceErr error
	var view *liveView
	if g.visual && !*asJSON {
		view = newLiveView(m, stdout)
	}
	opts.OnStep = func(ev dllm.StepEvent) bool {
		if *asJSON {
			entry, err := ev.TraceJSON()
			if err != nil {
				traceErr = err
				return false
			}
			trace = append(trace, entry)
		}
		if view != nil {
			view.step(ev)
		}
		return true
	}
	if !*asJSON && view == nil {
		opts.OnText = func(delta string) bool {
			fmt.Fprint(stdout, delta)
			return true
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var res dllm.Result
	switch {
	case ids != nil:
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
	if traceErr != nil {
		return traceErr
	}
	if errors.Is(err, dllm.ErrInvalid) {
		return errors.New(flagMessage(err)) // an option the model's family does not take
	}
	if err != nil && !errors.Is(err, dllm.ErrStopped) && !errors.Is(err, context.Canceled) {
		return err
	}
	if *asJSON {
		return printJSON(stdout, res, trace)
	}
	if view != nil {
		view.finish(res)
	} else {
		fmt.Fprintln(stdout)
	}
	fmt.Fprintln(stderr, statsLine(res))
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
			return nil, fmt.Errorf("bad token id %q", f)
		}
		ids = append(ids, int32(v))
	}
	if len(ids) == 0 {
		return nil, errors.New("no token ids given")
	}
	return ids, nil
}

// generateJSON is the `generate --json` object (DESIGN.md §4: an interface). Each trace
// entry is the decoder's record in the form of the reference goldens' traces.
type generateJSON struct {
	Tokens     []int32           `json:"tokens"`
	Text       string            `json:"text"`
	StopReason dllm.StopReason   `json:"stop_reason"`
	Trace      []json.RawMessage `json:"trace"`
	Stats      struct {
		PromptTokens     int     `json:"prompt_tokens"`
		Tokens           int     `json:"tokens"`
		Forwards         int     `json:"forwards"`
		TokensPerForward float64 `json:"tokens_per_forward"`
		Seconds          float64 `json:"seconds"`
		TimeToFirstToken float64 `json:"time_to_first_token"`
		TokensPerSecond  float64 `json:"tokens_per_second"`
	} `json:"stats"`
}

func printJSON(w io.Writer, res dllm.Result, trace []json.RawMessage) error {
	out := generateJSON{Tokens: res.Tokens, Text: res.Text, StopReason: res.StopReason, Trace: trace}
	if out.Tokens == nil {
		out.Tokens = []int32{}
	}
	st := &out.Stats
	st.PromptTokens, st.Tokens, st.Forwards = res.Stats.PromptTokens, res.Stats.Tokens, res.Stats.Forwards
	st.TokensPerForward, st.TokensPerSecond = res.Stats.TokensPerForward, res.Stats.TokensPerSecond
	st.Seconds, st.TimeToFirstToken = res.Stats.Duration.Seconds(), res.Stats.TimeToFirstToken.Seconds()
	return json.NewEncoder(w).Encode(out)
}

func statsLine(res dllm.Result) string {
	st := res.Stats
	return fmt.Sprintf("[%d tokens, %d forwards filling %.2f positions each, %.1f tokens/s, first token after %s, stop: %s]",
		st.Tokens, st.Forwards, st.TokensPerForward, st.TokensPerSecond, st.TimeToFirstToken.Round(1e5), res.StopReason)
}
