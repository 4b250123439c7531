package tools

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dllm-go/dllm/dllm"
	"github.com/dllm-go/dllm/dllm/internal/arch"
	"github.com/dllm-go/dllm/dllm/internal/modelview"
	"github.com/dllm-go/dllm/kernels/pagemem"
	"github.com/dllm-go/dllm/kernels/probe"
)

// TestBench runs every measurement once on the micro model and checks that the result
// is complete and self-consistent (figures positive, min ≤ median ≤ max, throughput =
// tokens / time), and that it survives a JSON round trip (the --json contract).
func TestBench(t *testing.T) {
	m := loadModel(t, filepath.Join(microDir, "hf"))
	r, err := Bench(context.Background(), m, BenchOptions{Reps: 3, Prefill: []int{64}, GenTokens: 16})
	if err != nil {
		t.Fatal(err)
	}
	if r.CPU == "" || r.Kernels == "" || r.Threads != 2 || r.Layers != 3 || r.WeightType != "bf16" || r.FileBytes <= 0 {
		t.Errorf("header %+v", r)
	}
	if r.HugePages != pagemem.HugePages() {
		t.Errorf("huge pages %q, want the system's %q", r.HugePages, pagemem.HugePages())
	}
	check := func(name string, bt BenchTiming, tokens int) {
		t.Helper()
		if bt.Reps != 3 || bt.Tokens != tokens || !(0 < bt.MinSec && bt.MinSec <= bt.MedianSec && bt.MedianSec <= bt.MaxSec) {
			t.Errorf("%s: %+v", name, bt)
		}
		if d := bt.TokPerSec - float64(tokens)/bt.MedianSec; d*d > 1e-6 {
			t.Errorf("%s: tok/s %v for %d tokens in %v s", name, bt.TokPerSec, tokens, bt.MedianSec)
		}
	}
	check("block forward", r.BlockForward.BenchTiming, 32)
	check("block forward 1 row", r.BlockForward1Row.BenchTiming, 32)
	if r.FirstStep == nil || r.FirstStep.PromptTokens != 64 || r.FirstStep.MaskRows != 32 {
		t.Fatalf("first step %+v", r.FirstStep)
	}
	check("first step", r.FirstStep.BenchTiming, 32)
	checkWork(t, r)
	if len(r.Prefill) != 1 {
		t.Fatalf("prefill %+v", r.Prefill)
	}
	check("prefill", r.Prefill[0], 64)
	if r.Decode == nil || r.Decode.Forwards <= 0 || r.Decode.Tokens <= 0 || r.Decode.PromptTokens <= 0 {
		t.Fatalf("decode %+v", r.Decode)
	}
	check("decode", r.Decode.BenchTiming, r.Decode.Tokens)
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back BenchResult
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(&back, r) {
		t.Fatalf("JSON round trip: %v", err)
	}
	// The --json contract by name: the new figures sit beside the timings.
	var obj map[string]any
	if err := json.Unmarshal(b, &obj); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"limits", "block_forward", "block_forward_1row", "first_step"} {
		if _, ok := obj[key].(map[string]any); !ok {
			t.Fatalf("JSON lacks object %q", key)
		}
	}
	for _, key := range []string{"threads", "read_gb_per_s", "fma_gflop_per_s", "int8_gop_per_s"} {
		if _, ok := obj["limits"].(map[string]any)[key].(float64); !ok {
			t.Errorf("JSON limits lack %q", key)
		}
	}
	// The avx2 kernels' inner loops are there exactly where those kernels run.
	for key, loop := range map[string]func(int) float64{"loop_q8_0_gop_per_s": probe.MixQ8_0, "loop_q4_k_gop_per_s": probe.MixQ4_K} {
		v, ok := obj["limits"].(map[string]any)[key].(float64)
		if has := loop(1) > 0; ok != has || (has && v <= 0) {
			t.Errorf("JSON limits %q = %v (present %v), with an inner-loop probe: %v", key, v, ok, has)
		}
	}
	for _, f := range []string{"block_forward", "block_forward_1row", "first_step"} {
		for _, key := range []string{"tok_per_s", "best_tok_per_s", "experts_per_moe_layer", "experts_min", "experts_max",
			"weight_bytes", "cache_bytes", "flops", "int8_flops", "gb_per_s", "gflop_per_s", "roofline_s", "roofline_pct"} {
			if _, ok := obj[f].(map[string]any)[key].(float64); !ok {
				t.Errorf("JSON %s lacks %q", f, key)
			}
		}
		if ops, _ := obj[f].(map[string]any)["ops"].([]any); len(ops) == 0 {
			t.Errorf("JSON %s lacks ops", f)
		}
	}
	if _, ok := obj["thread_scan"]; ok {
		t.Error("JSON has a thread scan that was not asked for")
	}
}

// checkWork checks the work figures of r's block forwards on the micro model (3 layers,
// 2 of them MoE with 16 experts, hidden 64, vocab 1024): plausible, consistent with one
// another, and consistent with the limits and times.
func checkWork(t *testing.T, r *BenchResult) {
	t.Helper()
	if probe.FMA(1) > 0 && (r.Limits.Threads != 2 || r.Limits.ReadGBps <= 0 || r.Limits.FMAGFLOPS <= 0) {
		t.Errorf("limits %+v", r.Limits)
	}
	all, one, step := r.BlockForward.BenchWork, r.BlockForward1Row.BenchWork, r.FirstStep.BenchWork
	for name, w := range map[string]BenchWork{"all rows": all, "1 row": one, "first step": step} {
		if !(w.ExpertsPerLayer >= 4 && w.ExpertsPerLayer <= 16 && w.ExpertsMin >= 4 && w.ExpertsMax <= 16 &&
			float64(w.ExpertsMin) <= w.ExpertsPerLayer && w.ExpertsPerLayer <= float64(w.ExpertsMax)) {
			t.Errorf("%s: experts %v (%d–%d), want 4…16 (top-4 of 16)", name, w.ExpertsPerLayer, w.ExpertsMin, w.ExpertsMax)
		}
		if w.WeightBytes <= 0 || w.CacheBytes <= 0 || w.FLOPs <= 0 || w.GBps <= 0 || w.GFLOPS <= 0 {
			t.Errorf("%s: %+v", name, w)
		}
		if w.Int8FLOPs != 0 {
			t.Errorf("%s: %d int8 FLOPs in a bf16 model", name, w.Int8FLOPs)
		}
		// The roofline sums, per op, the larger of the memory and the compute time, so
		// it is at least the larger of the two for the whole forward.
		var sum float64
		for _, op := range w.Ops {
			sum += op.RooflineSec
		}
		if d := sum - w.RooflineSec; d*d > 1e-18 {
			t.Errorf("%s: ops' roofline %v s, total %v s", name, sum, w.RooflineSec)
		}
		checkOpTimes(t, name, w)
		if l := r.Limits; l.ReadGBps > 0 && l.FMAGFLOPS > 0 {
			int8Peak := l.FMAGFLOPS
			if l.Int8GOPS > 0 {
				int8Peak = l.Int8GOPS
			}
			compute := float64(w.FLOPs-w.Int8FLOPs)/l.FMAGFLOPS/1e9 + float64(w.Int8FLOPs)/int8Peak/1e9
			floor := max(float64(w.WeightBytes+w.CacheBytes)/l.ReadGBps/1e9, compute)
			if w.RooflineSec < floor*(1-1e-9) || w.RooflinePct <= 0 {
				t.Errorf("%s: roofline %v s (%v %%) below %v s", name, w.RooflineSec, w.RooflinePct, floor)
			}
		}
	}
	// The 1-row forward reads the same weights and differs by 31 LM-head rows.
	if one.WeightBytes != all.WeightBytes || one.ExpertsPerLayer != all.ExpertsPerLayer || all.FLOPs-one.FLOPs != 2*31*64*1024 {
		t.Errorf("1 row: %d B, %d FLOPs, %v experts; all rows: %d B, %d FLOPs, %v experts",
			one.WeightBytes, one.FLOPs, one.ExpertsPerLayer, all.WeightBytes, all.FLOPs, all.ExpertsPerLayer)
	}
	// 32 mask rows route alike: fewer experts than 32 distinct tokens.
	if step.ExpertsPerLayer >= all.ExpertsPerLayer {
		t.Errorf("first step runs %v experts per layer, a random block %v", step.ExpertsPerLayer, all.ExpertsPerLayer)
	}
	// The block decode: exact runs every row of every step and agrees with itself; the
	// block cache runs fewer rows from the second step on, with the same first step.
	bd := r.BlockDecode
	if len(bd) != 2 || bd[0].Mode != "exact" || bd[1].Mode != "block" {
		t.Fatalf("block decode %+v", bd)
	}
	ex, bc := bd[0], bd[1]
	if ex.RowsPerForward != 32 || ex.Agreement != 1 || ex.Speedup != 1 || ex.Forwards < 2 || ex.StepSec <= 0 || ex.Tokens != 32 {
		t.Errorf("exact block decode %+v", ex)
	}
	if bc.RowsPerForward >= 32 || bc.FirstExperts != ex.FirstExperts || bc.ExpertsPerLayer > ex.ExpertsPerLayer || bc.StepSec <= 0 || bc.Agreement <= 0 {
		t.Errorf("block-cache block decode %+v, exact %+v", bc, ex)
	}
	if bc.WeightBytes >= ex.WeightBytes || bc.FLOPs >= ex.FLOPs {
		t.Errorf("block cache step reads %d B, %d FLOPs; exact %d B, %d FLOPs", bc.WeightBytes, bc.FLOPs, ex.WeightBytes, ex.FLOPs)
	}
	if r.Limits.ReadGBps > 0 && r.Limits.FMAGFLOPS > 0 && (ex.RooflineSpeedup != 1 || bc.RooflineSpeedup <= 1) {
		t.Errorf("roofline speed-ups: exact %v, block %v", ex.RooflineSpeedup, bc.RooflineSpeedup)
	}
	t.Logf("block decode: exact %.2f ms/step, %.1f experts; block %.2f ms/step, %.1f rows, %.1f experts, %.0f %% agree",
		1e3*ex.StepSec, ex.ExpertsPerLayer, 1e3*bc.StepSec, bc.RowsPerForward, bc.ExpertsPerLayer, 100*bc.Agreement)
}

// TestBenchThreadScan: the scan times every forward on 1 and 2 threads, with speed-ups
// against 1 thread and limits per thread count, and comes through JSON.
func TestBenchThreadScan(t *testing.T) {
	m := loadModel(t, filepath.Join(microDir, "hf"))
	var log []string
	r, err := Bench(context.Background(), m, BenchOptions{Reps: 2, Prefill: []int{}, GenTokens: -1, StepPrompt: 40, ThreadScan: true, ScanMax: 2,
		Log: func(s string) { log = append(log, s) }})
	if err != nil {
		t.Fatal(err)
	}
	// Every forward on every thread count is readied and warmed before the first timed
	// round; then 2 timed and 2 recorded rounds, one after another.
	var scanLog []string
	for _, s := range log {
		if strings.HasSuffix(s, ", warm-up") {
			scanLog = append(scanLog, "warm-up")
		} else if strings.HasPrefix(s, "thread scan: ") {
			scanLog = append(scanLog, strings.Fields(s)[2]+" "+strings.Fields(s)[4])
		}
	}
	want := []string{"warm-up", "warm-up", "warm-up", "warm-up", "warm-up", "warm-up",
		"timed 1", "timed 2", "recorded 1", "recorded 2"}
	if !slices.Equal(scanLog, want) {
		t.Errorf("scan progress %q, want %q (log %q)", scanLog, want, log)
	}
	// A 40-token prompt: its first block in the cache, the block of its 8-token tail
	// and 24 masks.
	if r.FirstStep == nil || r.FirstStep.PromptTokens != 40 || r.FirstStep.MaskRows != 24 || r.Decode != nil || len(r.Prefill) != 0 {
		t.Fatalf("first step %+v, decode %+v, prefill %+v", r.FirstStep, r.Decode, r.Prefill)
	}
	if len(r.ThreadScan) != 2 {
		t.Fatalf("scan %+v", r.ThreadScan)
	}
	for i, e := range r.ThreadScan {
		if e.Threads != i+1 || e.Limits.Threads != i+1 || e.FirstStep == nil {
			t.Fatalf("scan entry %d: %+v", i, e)
		}
		for _, p := range e.Points() {
			if p.Reps != 2 || p.Tokens != 32 || p.TokPerSec <= 0 || p.Speedup <= 0 || i == 0 && p.Speedup != 1 {
				t.Errorf("%d threads: %+v", e.Threads, p)
			}
			if probe.FMA(1) > 0 && p.RooflinePct <= 0 {
				t.Errorf("%d threads: roofline %v %%", e.Threads, p.RooflinePct)
			}
		}
		for j, p := range e.Points() {
			checkScanOps(t, e.Threads, p, &r.ThreadScan[0], j, []BenchWork{r.BlockForward.BenchWork,
				r.BlockForward1Row.BenchWork, r.FirstStep.BenchWork}[j])
		}
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var obj struct {
		Scan []map[string]any `json:"thread_scan"`
	}
	if err := json.Unmarshal(b, &obj); err != nil || len(obj.Scan) != 2 {
		t.Fatalf("JSON thread_scan: %v %s", err, b)
	}
	for _, key := range []string{"threads", "limits", "block_forward", "block_forward_1row", "first_step"} {
		if _, ok := obj.Scan[1][key]; !ok {
			t.Errorf("JSON thread_scan entry lacks %q", key)
		}
	}
	if sp, _ := obj.Scan[1]["first_step"].(map[string]any)["speedup"].(float64); sp <= 0 {
		t.Errorf("JSON thread_scan first_step speedup %v", sp)
	}
}

func TestScanThreads(t *testing.T) {
	for n, want := range map[int][]int{0: {1}, 1: {1}, 2: {1, 2}, 3: {1, 2, 3}, 6: {1, 2, 4, 6}, 8: {1, 2, 4, 8}} {
		if got := scanThreads(n); !slices.Equal(got, want) {
			t.Errorf("scanThreads(%d) = %v, want %v", n, got, want)
		}
	}
}

// TestBenchCancelled: a cancelled context stops the benchmark with its error; a nil
// context or a closed model is refused.
func TestBenchCancelled(t *testing.T) {
	m := loadModel(t, filepath.Join(microDir, "hf"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Bench(ctx, m, BenchOptions{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	// A nil context is the mistake under test.
	if _, err := Bench(nil, m, BenchOptions{}); !errors.Is(err, dllm.ErrInvalid) || !strings.Contains(err.Error(), "context") {
		t.Fatalf("nil context: %v", err)
	}
	m.Close()
	if _, err := Bench(context.Background(), m, BenchOptions{}); !errors.Is(err, dllm.ErrClosed) {
		t.Fatalf("closed model: %v", err)
	}
}

// checkScanOps: scan point p (forward j of the scan's entry for threads) times the
// kinds of op of the same forward's work, within its recorded wall time, with speed-ups
// against the same kind on 1 thread (one's entry).
func checkScanOps(t *testing.T, threads int, p *BenchScanPoint, one *BenchThreads, j int, work BenchWork) {
	t.Helper()
	first := one.Points()[j]
	if len(p.Ops) != len(work.Ops) || len(first.Ops) != len(p.Ops) {
		t.Fatalf("%d threads, forward %d: ops %+v, work's %+v", threads, j, p.Ops, work.Ops)
	}
	var measured float64
	for k, op := range p.Ops {
		want := first.Ops[k].MeasuredSec / op.MeasuredSec
		if op.Kind != work.Ops[k].Kind || op.MeasuredSec <= 0 || math.Abs(op.Speedup-want) > 1e-9*want {
			t.Errorf("%d threads, forward %d: %+v (1 thread: %+v)", threads, j, op, first.Ops[k])
		}
		measured += op.MeasuredSec
	}
	if p.RecordedSec <= 0 || measured > p.RecordedSec {
		t.Errorf("%d threads, forward %d: ops timed %v s of a recorded forward of %v s", threads, j, measured, p.RecordedSec)
	}
}

// TestRecordRunsMedian: of the recorded runs, the one of median wall time is kept —
// its wall time and its op times — not the last, the fastest or the slowest.
func TestRecordRunsMedian(t *testing.T) {
	m := loadModel(t, filepath.Join(microDir, "hf"))
	err := modelview.Use(m, func(v modelview.View) error {
		s, err := v.Net.NewState(arch.StateOptions{Capacity: 8, MaxRun: 8})
		if err != nil {
			return err
		}
		var w arch.Work
		pauses := []time.Duration{40 * time.Millisecond, 120 * time.Millisecond, 0}
		var times [][len(w.Time)]time.Duration
		fwd := func() error {
			err := s.Forward(make([]int32, 8), 8, false, nil, nil)
			times = append(times, w.Time)
			time.Sleep(pauses[len(times)-1])
			return err
		}
		wall, err := recordRuns(context.Background(), s, &w, fwd, len(pauses))
		if err != nil {
			return err
		}
		if wall < pauses[0].Seconds() || wall >= pauses[1].Seconds() || w.Time != times[0] {
			t.Errorf("kept a run of %v s with op times %v; want the first run's (%v)", wall, w.Time, times[0])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// checkOpTimes: every kind of op of w is timed in the recorded run, within its wall
// time.
func checkOpTimes(t *testing.T, name string, w BenchWork) {
	t.Helper()
	var measured float64
	for _, op := range w.Ops {
		if op.MeasuredSec <= 0 {
			t.Errorf("%s: %s ops timed %v s", name, op.Kind, op.MeasuredSec)
		}
		measured += op.MeasuredSec
	}
	if w.RecordedSec <= 0 || measured > w.RecordedSec {
		t.Errorf("%s: ops timed %v s of a recorded forward of %v s", name, measured, w.RecordedSec)
	}
}

// TestBenchContext: the block forwards run against Context committed tokens, which
// their attention reads (the KV-cache bytes grow with the keys seen), and a context
// that leaves no room for the block in the model's positions is refused up front.
func TestBenchContext(t *testing.T) {
	m := loadModel(t, filepath.Join(microDir, "hf"))
	o := BenchOptions{Reps: 1, Prefill: []int{}, GenTokens: -1, StepPrompt: -1, Caches: []string{}}
	short, err := Bench(context.Background(), m, o)
	if err != nil {
		t.Fatal(err)
	}
	o.Context = 96
	long, err := Bench(context.Background(), m, o)
	if err != nil {
		t.Fatal(err)
	}
	if short.Context != 32 || long.Context != 96 {
		t.Fatalf("contexts %d and %d, want 32 (the block length) and 96", short.Context, long.Context)
	}
	// Keys and values of 32+32 positions against 96+32.
	for _, f := range [][2]BenchForward{{short.BlockForward, long.BlockForward}, {short.BlockForward1Row, long.BlockForward1Row}} {
		if f[0].CacheBytes <= 0 || f[1].CacheBytes != 2*f[0].CacheBytes {
			t.Errorf("KV-cache bytes %d after 32 tokens, %d after 96: want twice", f[0].CacheBytes, f[1].CacheBytes)
		}
	}
	b, _ := json.Marshal(long)
	var obj map[string]any
	if err := json.Unmarshal(b, &obj); err != nil || obj["context"] != 96.0 {
		t.Errorf("JSON context %v (%v)", obj["context"], err)
	}
	o.Context = m.Info().ContextLength
	if _, err := Bench(context.Background(), m, o); err == nil || !strings.Contains(err.Error(), "context") || !errors.Is(err, dllm.ErrInvalid) {
		t.Errorf("a %d-token context: %v", o.Context, err)
	}
}

// TestHigherLimits: a second measurement raises each figure that it beats, and no other.
func TestHigherLimits(t *testing.T) {
	l := BenchLimits{Threads: 2, ReadGBps: 30, FMAGFLOPS: 230, Int8GOPS: 900, LoopQ8GOPS: 250, LoopQ4KGOPS: 500}
	got := higherLimits(l, probe.Limits{GBps: 59, GFLOPS: 220, Int8GOPS: 910, LoopQ8GOPS: 240, LoopQ4KGOPS: 520})
	if want := (BenchLimits{Threads: 2, ReadGBps: 59, FMAGFLOPS: 230, Int8GOPS: 910, LoopQ8GOPS: 250, LoopQ4KGOPS: 520}); got != want {
		t.Errorf("higherLimits = %+v, want %+v", got, want)
	}
}
