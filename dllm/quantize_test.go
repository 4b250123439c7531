package dllm

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/dllm-go/dllm/dllm/internal/convert"
)

// quantizeMicro converts the micro fixture's HF directory to typ in a temp dir.
func quantizeMicro(t *testing.T, typ string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "micro-"+typ+".gguf")
	sum, err := convert.Convert(context.Background(), filepath.Join(microDir, "hf"), dst, convert.Options{Type: typ, Threads: 2})
	if err != nil {
		t.Fatalf("Quantize %s: %v", typ, err)
	}
	if sum.Tensors != 40 {
		t.Fatalf("%d tensors", sum.Tensors)
	}
	return dst
}

// TestQuantizedLoads: every type converts (as tools.Quantize does) and loads through the public API with the
// tokenizer, specials and chat template the GGUF carries.
func TestQuantizedLoads(t *testing.T) {
	ref := loadModel(t, filepath.Join(microDir, "hf"))
	for _, typ := range []string{"f16", "bf16", "q8_0", "q4_0", "q4_k", "q6_k"} {
		m := loadModel(t, quantizeMicro(t, typ))
		if m.Info().Format != "gguf" || m.Info().MaskID != ref.Info().MaskID || m.Info().EOSID != ref.Info().EOSID || m.Info().RoleEndID != ref.Info().RoleEndID {
			t.Errorf("%s: info %+v, want specials of %+v", typ, m.Info(), ref.Info())
		}
		msgs := []Message{{Role: "user", Content: "Hello, world! 你好"}}
		a, err := m.encodeChat(msgs)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := ref.encodeChat(msgs)
		if !slices.Equal(a, b) {
			t.Errorf("%s: chat prompt ids %v, want %v", typ, a, b)
		}
	}
}

// TestQuantizedGoldens runs the f32 generation goldens on the q8_0 conversion through
// the public API (with the KV cache, IgnoreRoleEnd as in the reference).
//
// Result on the micro fixture: none of the 10 is reproduced token for token, and that is
// what the weights dictate, not the converter (our q8_0 file is byte-identical to the
// fixture's gguf-py one): the micro head is sharp (logit std ≈ 9) and its routers have
// small gaps, so 8-bit weights move logits by 0.7 on 10 tokens and by up to ~20 where a
// router choice flips, and the golden tokens' probabilities by 0.002…0.98 at the first
// differing forward (8 of 10 diverge in forward 0), while the goldens' decisions are
// only guaranteed 1.6e-4…2e-2 away from flipping (their recorded margins). For every golden the test replays the golden canvas up to the first
// forward whose commits differ, recomputes that forward on the q8_0 weights, logs the
// flipped decisions (position, golden and q8_0 confidence and token, threshold), and
// checks that the confidence shift it measures there exceeds the golden's margin.
//
// Those shifts are measured with the q8_0 model itself, so it is first held to the
// fixture's float64 logits of the q8_0 weights (checkQuantizedLogits). The bf16
// conversion (which holds the fixture's weights exactly) is the control: it must
// reproduce all of them.
func TestQuantizedGoldens(t *testing.T) {
	for _, typ := range []string{"bf16", "q8_0"} {
		t.Run(typ, func(t *testing.T) { checkGoldens(t, typ) })
	}
}

func checkGoldens(t *testing.T, typ string) {
	m := loadModel(t, quantizeMicro(t, typ))
	if typ == "q8_0" {
		checkQuantizedLogits(t, m, typ)
	}
	goldens := readGoldens(t, microDir)
	names := make([]string, 0, len(goldens))
	for n := range goldens {
		names = append(names, n)
	}
	sort.Strings(names)
	reproduced := 0
	for _, name := range names {
		g := goldens[name]
		s := newSession(t, m)
		o := g.options()
		var steps []StepEvent
		o.OnStep = func(ev StepEvent) bool { steps = append(steps, ev); return true }
		res, err := s.GenerateChat(context.Background(), g.PromptMessages, o)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Equal(res.Tokens, g.OutputIDs) && string(res.StopReason) == g.StopReason {
			reproduced++
			t.Logf("%s: reproduced (%d tokens, %d forwards)", name, len(res.Tokens), res.Stats.Forwards)
			continue
		}
		if typ == "bf16" {
			t.Errorf("%s: the bf16 conversion does not reproduce the golden", name)
			continue
		}
		tg := readTraceGolden(t, name)
		i := firstDivergence(g, steps)
		report, shift := explainFlip(t, m, tg, i, steps)
		t.Logf("%s: first differing forward %d (golden min decision margin %.2g, probability shift of the golden tokens up to %.3f):\n%s", name, i, tg.Margins.MinDecision, shift, report)
		if shift <= tg.Margins.MinDecision {
			t.Errorf("%s: output differs but the confidence shift %.3g is within the golden's margin %.3g", name, shift, tg.Margins.MinDecision)
		}
	}
	t.Logf("%s: %d of %d generation goldens reproduced token for token", typ, reproduced, len(names))
}

// checkQuantizedLogits holds m to the fixture's float64 logits of the same quantized
// weights under the README's tolerance for kernels that quantize activations (max |diff|
// ≤ 0.5, top-1 agreement ≥ 90 %), so that the probability shifts measured with m, which
// excuse its divergences from the generation goldens, come from a forward an outside
// reference vouches for.
func checkQuantizedLogits(t *testing.T, m *Model, typ string) {
	t.Helper()
	name := filepath.Join(microDir, "golden", "logits_short_block32_"+typ)
	var g struct {
		Tokens []int32 `json:"tokens"`
		Mask   string  `json:"mask"`
		Shape  [2]int  `json:"shape"`
	}
	side, err := os.ReadFile(name + ".json")
	if err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile(name + ".bin")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(side, &g); err != nil {
		t.Fatal(err)
	}
	T, V := g.Shape[0], g.Shape[1]
	if g.Mask != "block:32" || len(g.Tokens) != T || len(bin) != 4*T*V || V != m.info.VocabSize {
		t.Fatalf("%s: unexpected golden (mask %s, shape %v, %d bytes)", name, g.Mask, g.Shape, len(bin))
	}
	got, err := m.net.Logits(g.Tokens, 32)
	if err != nil {
		t.Fatal(err)
	}
	var maxDiff float64
	agree := 0
	for r := 0; r < T; r++ {
		best, bestRef := 0, 0
		for j := 0; j < V; j++ {
			ref := math.Float32frombits(binary.LittleEndian.Uint32(bin[4*(r*V+j):]))
			maxDiff = math.Max(maxDiff, math.Abs(float64(got[r*V+j]-ref)))
			if got[r*V+j] > got[r*V+best] {
				best = j
			}
			if ref > math.Float32frombits(binary.LittleEndian.Uint32(bin[4*(r*V+bestRef):])) {
				bestRef = j
			}
		}
		if best == bestRef {
			agree++
		}
	}
	t.Logf("%s vs the float64 reference on its weights: max |diff| %.3g, top-1 %d/%d", typ, maxDiff, agree, T)
	if !(maxDiff <= 0.5) || float64(agree) < 0.9*float64(T) {
		t.Fatalf("%s: logits off the float64 reference on the same weights: max |diff| %.3g (≤ 0.5), top-1 %d/%d (≥ 90 %%)", typ, maxDiff, agree, T)
	}
}

// traceGolden is what explainFlip needs from a generation golden.
type traceGolden struct {
	Params struct {
		BlockLength int      `json:"block_length"`
		Threshold   float64  `json:"threshold"`
		EditThr     *float64 `json:"editing_threshold"`
	} `json:"params"`
	PromptIDs []int32 `json:"prompt_ids"`
	Trace     []struct {
		Window    int          `json:"window"`
		Committed [][3]float64 `json:"committed"`
		Edited    [][4]float64 `json:"edited"`
	} `json:"trace"`
	Margins struct {
		MinDecision float64 `json:"min_decision_margin"`
	} `json:"margins"`
}

func readTraceGolden(t *testing.T, name string) *traceGolden {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(microDir, "golden", name))
	if err != nil {
		t.Fatal(err)
	}
	var g traceGolden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	return &g
}

// firstDivergence returns the index of the first forward whose commits differ from the
// golden's.
func firstDivergence(g *golden, steps []StepEvent) int {
	for i := 0; i < len(steps) && i < len(g.Trace); i++ {
		want, got := g.Trace[i].Committed, steps[i].Committed
		if len(got) != len(want) {
			return i
		}
		for j := range got {
			if got[j].Pos != int(want[j][0]) || got[j].Token != int32(want[j][1]) {
				return i
			}
		}
	}
	return min(len(steps), len(g.Trace))
}

// explainFlip rebuilds the golden canvas before forward i (prompt, masks, the golden's
// commits and edits of forwards 0…i−1), runs that forward on m's weights, and describes
// every position whose decision differs from the golden's. shift is the largest change
// of the probability of the golden's token over the positions the golden committed there.
func explainFlip(t *testing.T, m *Model, g *traceGolden, i int, steps []StepEvent) (report string, shift float64) {
	t.Helper()
	if i >= len(g.Trace) {
		return "(the run took more forwards than the golden)", 1
	}
	W, B := g.Trace[i].Window, g.Params.BlockLength
	x := make([]int32, W)
	for p := range x {
		x[p] = m.info.MaskID
	}
	copy(x, g.PromptIDs)
	for _, tr := range g.Trace[:i] {
		for _, c := range tr.Committed {
			if int(c[0]) < W {
				x[int(c[0])] = int32(c[1])
			}
		}
		for _, e := range tr.Edited {
			if int(e[0]) < W {
				x[int(e[0])] = int32(e[2])
			}
		}
	}
	logits, err := m.net.Logits(x, B)
	if err != nil {
		t.Fatal(err)
	}
	V := m.info.VocabSize
	// conf returns the argmax at p, its probability, and the probability of token want.
	conf := func(p int, want int32) (int32, float64, float64) {
		row := logits[p*V : (p+1)*V]
		best := 0
		for j := range row {
			if row[j] > row[best] {
				best = j
			}
		}
		var z float64
		for _, v := range row {
			z += math.Exp(float64(v - row[best]))
		}
		return int32(best), 1 / z, math.Exp(float64(row[want]-row[best])) / z
	}
	golden := map[int][3]float64{}
	for _, c := range g.Trace[i].Committed {
		golden[int(c[0])] = c
	}
	ours := map[int]Commit{}
	if i < len(steps) {
		for _, c := range steps[i].Committed {
			ours[c.Pos] = c
		}
	}
	var b strings.Builder
	for p := W - B; p < W; p++ {
		gc, inG := golden[p]
		tok, c, pg := conf(p, int32(gc[1]))
		_, inO := ours[p]
		if inG {
			shift = math.Max(shift, math.Abs(pg-gc[2]))
		}
		if inG == inO && (!inG || int32(gc[1]) == ours[p].Token) {
			continue
		}
		switch {
		case inG:
			fmt.Fprintf(&b, "  pos %d: golden commits token %d at %.4f; q8_0 gives it %.4f, argmax %d at %.4f (threshold %.2f)", p, int(gc[1]), gc[2], pg, tok, c, g.Params.Threshold)
		default:
			fmt.Fprintf(&b, "  pos %d: golden leaves it; q8_0 commits token %d at %.4f (threshold %.2f)", p, tok, c, g.Params.Threshold)
		}
		b.WriteString("\n")
	}
	return b.String(), shift
}

// TestQuantizedDemoAccuracy answers the demo model's 440 evaluation questions with its
// bf16, q8_0 and q4_0 conversions: the quality cost of quantization on a trained model
// (the micro fixture's weights are random). bf16 holds the weights exactly and must give
// the reference accuracy; the quantized files may lose a little: at most 5 points per
// task for q8_0, 10 for q4_0 (measured: q8_0 −1…−2, q4_0 −5…+2 points; tokens per
// forward 10.4 / 10.4 / 10.0). The demo's rows are 128 wide, so q4_k/q6_k would fall
// back to q8_0.
func TestQuantizedDemoAccuracy(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("3 × 440 generations: run without -short and without -race")
	}
	data, err := os.ReadFile(filepath.Join(demoDir, "golden", "eval.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev struct {
		Summary map[string]map[string]struct {
			Accuracy float64 `json:"accuracy"`
		} `json:"summary"`
		Items []struct {
			Task        string  `json:"task"`
			Question    string  `json:"question"`
			ExpectedIDs []int32 `json:"expected_ids"`
		} `json:"items"`
	}
	if err := json.Unmarshal(data, &ev); err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{"bf16", "q8_0", "q4_0"} {
		dst := filepath.Join(t.TempDir(), "demo-"+typ+".gguf")
		if _, err := convert.Convert(context.Background(), demoHF, dst, convert.Options{Type: typ}); err != nil {
			t.Fatal(err)
		}
		m := loadModel(t, dst)
		s := newSession(t, m)
		o := DefaultOptions()
		o.MaxTokens = 64
		correct, total := map[string]int{}, map[string]int{}
		forwards, filled := 0, 0.0
		for _, it := range ev.Items {
			res, err := s.GenerateChat(context.Background(), []Message{{Role: "user", Content: it.Question}}, o)
			if err != nil {
				t.Fatal(err)
			}
			total[it.Task]++
			if slices.Equal(res.Tokens, it.ExpectedIDs) {
				correct[it.Task]++
			}
			forwards += res.Stats.Forwards
			filled += res.Stats.TokensPerForward * float64(res.Stats.Forwards)
		}
		tasks := make([]string, 0, len(total))
		for task := range total {
			tasks = append(tasks, task)
		}
		sort.Strings(tasks)
		for _, task := range tasks {
			got := float64(correct[task]) / float64(total[task])
			want := ev.Summary[task]["0.95"].Accuracy
			t.Logf("%s %-8s accuracy %.3f (reference %.3f)", typ, task, got, want)
			loss := map[string]float64{"bf16": 0.01, "q8_0": 0.05, "q4_0": 0.10}[typ]
			if typ == "bf16" && math.Abs(got-want) > loss || got < want-loss-1e-9 {
				t.Errorf("%s %s: accuracy %.3f, reference %.3f", typ, task, got, want)
			}
		}
		t.Logf("%s: %.2f positions filled per forward", typ, filled/float64(forwards))
	}
}
