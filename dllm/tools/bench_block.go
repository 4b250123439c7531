package tools

import (
	"fmt"
	"slices"

	"github.com/dllm-go/dllm/dllm"
	"github.com/dllm-go/dllm/dllm/internal/arch"
	"github.com/dllm-go/dllm/dllm/internal/decode"
)

// BenchBlockDecode is one block decoded for real, the way a generation decodes it, in
// one mode: LLaDA2.0 threshold decoding (0.95, greedy, BenchOptions.DecodeSteps steps)
// of the block after the first step's prompt, its whole blocks already in the cache.
// Every decoding forward of the block is timed (the block's commit forward is not: the
// next block's decoding would start with it, in every mode alike).
type BenchBlockDecode struct {
	// Mode is "exact" or a GenerateOptions.Cache value ("block", "window:8", ...).
	Mode string `json:"mode"`
	// The timing of the whole block decode (Tokens: the block length).
	BenchTiming
	Forwards int `json:"forwards"` // decoding forwards of the block
	// StepSec is the median block decode time ÷ Forwards: what a step costs, on average
	// over a real block decode (the first step is the dearest).
	StepSec float64 `json:"step_s"`
	// RowsPerForward is the positions a forward ran, on average (the block length when
	// exact); ExpertsPerLayer the distinct routed experts per MoE layer, on average over
	// the forwards; FirstExperts those of the block's first step.
	RowsPerForward  float64 `json:"rows_per_forward"`
	ExpertsPerLayer float64 `json:"experts_per_moe_layer"`
	FirstExperts    float64 `json:"first_step_experts_per_moe_layer"`
	// WeightBytes, FLOPs and RooflineSec are a step's, on average over the forwards (as
	// BenchWork defines them; the roofline at the limits measured in this run). They
	// depend on the routing only, not on the machine's load: RooflineSpeedup (exact's
	// RooflineSec ÷ this mode's) is the speed-up the work alone predicts.
	WeightBytes     int64   `json:"weight_bytes"`
	FLOPs           int64   `json:"flops"`
	RooflineSec     float64 `json:"roofline_s"`
	RooflineSpeedup float64 `json:"roofline_speedup"`
	// Speedup is exact's StepSec ÷ this mode's; Agreement the fraction of the block's
	// generated positions holding exact's token.
	Speedup   float64 `json:"speedup"`
	Agreement float64 `json:"agreement"`
}

// recorder is the decoder's model with every forward's work recorded (the untimed run).
type recorder struct {
	st      *arch.State
	w       arch.Work
	limits  BenchLimits
	experts []float64
	bytes   int64
	flops   int64
	roof    float64
}

// record adds the work of the decoding forward just run.
func (r *recorder) record() {
	mean, _, _ := r.w.Experts()
	r.experts = append(r.experts, mean)
	wb, cb, fl := r.w.Totals()
	r.bytes += wb + cb
	r.flops += fl
	r.roof += rooflineSec(&r.w, r.limits)
}

func (r *recorder) Len() int             { return r.st.Len() }
func (r *recorder) Truncate(n int) error { return r.st.Truncate(n) }

func (r *recorder) Forward(tokens []int32, block int, commit bool, rows []int, logits []float32) error {
	r.st.SetWork(&r.w)
	defer r.st.SetWork(nil)
	err := r.st.Forward(tokens, block, commit, rows, logits)
	if !commit {
		r.record()
	}
	return err
}

func (r *recorder) ForwardPartial(tokens []int32, block int, run, rows []int, logits []float32) error {
	r.st.SetWork(&r.w)
	defer r.st.SetWork(nil)
	err := r.st.ForwardPartial(tokens, block, run, rows, logits)
	r.record()
	return err
}

// blockDecodes decodes the block after b.stepPrompt exactly and in each of the modes.
func (b *bencher) blockDecodes(info dllm.ModelInfo, net *arch.Model, modes []string, limits BenchLimits) ([]BenchBlockDecode, error) {
	B := b.o.BlockLength
	P := len(b.stepPrompt) / B * B
	if P == 0 {
		return nil, nil
	}
	prompt := b.stepPrompt[:P]
	V := net.Config().VocabSize
	st, err := net.NewState(arch.StateOptions{Capacity: P + B, MaxRun: B})
	if err != nil {
		return nil, err
	}
	rec := &recorder{st: st, limits: limits}
	var out []BenchBlockDecode
	var exact []int32
	for _, mode := range append([]string{"exact"}, modes...) {
		o := decode.V20Defaults(B, info.MaskID, info.EOSID)
		o.BlockLength, o.Steps = B, b.o.DecodeSteps
		if mode != "exact" {
			m, ok := decode.ParseBlockCache(mode, dllm.MaxSteps)
			if !ok {
				return nil, fmt.Errorf("dllm: bench mode %q: want \"block\", \"block:N\", \"window:W\" or \"window:W:N\"", mode)
			}
			m.Apply(&o)
		}
		b.logf("block decode, %s", mode)
		// The untimed, recorded run: it also commits the prompt, which the timed runs
		// then reuse (ReusePrefix), so they time the block's decoding forwards alone.
		rec.experts, rec.bytes, rec.flops, rec.roof = rec.experts[:0], 0, 0, 0
		res, err := decode.New(rec, V, P+B, B).Generate(b.ctx, prompt, o)
		if err != nil {
			return nil, err
		}
		d := BenchBlockDecode{Mode: mode, Forwards: res.Stats.Forwards}
		if d.Forwards > 0 {
			d.RowsPerForward = float64(res.Stats.RowsComputed) / float64(d.Forwards)
		}
		if len(rec.experts) > 0 {
			var sum float64
			for _, e := range rec.experts {
				sum += e
			}
			n := len(rec.experts)
			d.ExpertsPerLayer, d.FirstExperts = sum/float64(n), rec.experts[0]
			d.WeightBytes, d.FLOPs, d.RooflineSec = rec.bytes/int64(n), rec.flops/int64(n), rec.roof/float64(n)
		}
		tokens := slices.Clone(res.Canvas[P:])
		if mode == "exact" {
			exact = tokens
		}
		same := 0
		for i := range min(len(tokens), len(exact)) {
			if tokens[i] == exact[i] {
				same++
			}
		}
		d.Agreement = float64(same) / float64(B)
		o.ReusePrefix = P
		dec := decode.New(st, V, P+B, B)
		t, err := timeIt(b.ctx, b.o, B, func() error {
			_, err := dec.Generate(b.ctx, prompt, o)
			return err
		})
		if err != nil {
			return nil, err
		}
		d.BenchTiming = t
		if d.Forwards > 0 {
			d.StepSec = t.MedianSec / float64(d.Forwards)
		}
		if len(out) > 0 && d.StepSec > 0 {
			d.Speedup = out[0].StepSec / d.StepSec
		} else if len(out) == 0 {
			d.Speedup = 1
		}
		if len(out) > 0 && d.RooflineSec > 0 {
			d.RooflineSpeedup = out[0].RooflineSec / d.RooflineSec
		} else if len(out) == 0 && d.RooflineSec > 0 {
			d.RooflineSpeedup = 1
		}
		out = append(out, d)
	}
	return out, nil
}
