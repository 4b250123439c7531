package sample

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
)

// naiveKeep is the reference filter written the slow, obvious way: full sort, softmax,
// inclusive cumsum shifted by one (top-p), then the K-th largest survivor (top-k).
func naiveKeep(z []float64, topK int, topP float64) []bool {
	n := len(z)
	keep := make([]bool, n)
	for i := range keep {
		keep[i] = true
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return z[idx[a]] > z[idx[b]] })
	if topP < 1 {
		m := z[idx[0]]
		var sum float64
		for _, v := range z {
			sum += math.Exp(v - m)
		}
		var cum float64
		for j, i := range idx {
			if j > 0 && cum > topP {
				keep[i] = false
			}
			cum += math.Exp(z[i]-m) / sum
		}
	}
	if topK > 0 {
		var alive []float64
		for i := range z {
			if keep[i] {
				alive = append(alive, z[i])
			}
		}
		if len(alive) > topK {
			sort.Sort(sort.Reverse(sort.Float64Slice(alive)))
			kth := alive[topK-1]
			for i := range z {
				if keep[i] && z[i] < kth {
					keep[i] = false
				}
			}
		}
	}
	return keep
}

func randomLogits(r *rand.Rand, n int, scale float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64() * scale)
	}
	return x
}

func TestGreedyMatchesSoftmax(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	s, err := New(Greedy, nil)
	if err != nil {
		t.Fatal(err)
	}
	for trial := 0; trial < 50; trial++ {
		x := randomLogits(r, 1+r.IntN(3000), 1+9*r.Float64())
		tok, conf := s.Sample(x)
		best := 0
		for i := range x {
			if x[i] > x[best] {
				best = i
			}
		}
		var sum float64
		for _, v := range x {
			sum += math.Exp(float64(v - x[best]))
		}
		if int(tok) != best || math.Abs(float64(conf)-1/sum) > 1e-6 {
			t.Fatalf("trial %d: got (%d, %v), want (%d, %v)", trial, tok, conf, best, 1/sum)
		}
	}
}

func TestGreedyTiesTakeFirstIndex(t *testing.T) {
	s, _ := New(Greedy, nil)
	tok, conf := s.Sample([]float32{1, 3, 3, 2})
	if tok != 1 {
		t.Fatalf("tie: got %d, want 1", tok)
	}
	want := 1 / (math.Exp(-2) + 1 + 1 + math.Exp(-1))
	if math.Abs(float64(conf)-want) > 1e-7 {
		t.Fatalf("conf %v, want %v", conf, want)
	}
}

// With filters at T = 0 the token is still the argmax but the confidence is measured on
// the renormalised survivors, as in the reference.
func TestFilteredConfidenceAtZeroTemperature(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, p := range []Params{{TopK: 5, TopP: 1}, {TopP: 0.5}, {TopK: 3, TopP: 0.9}} {
		s, err := New(p, nil)
		if err != nil {
			t.Fatal(err)
		}
		for trial := 0; trial < 20; trial++ {
			x := randomLogits(r, 500, 3)
			z := make([]float64, len(x))
			for i := range x {
				z[i] = float64(x[i])
			}
			keep := naiveKeep(z, p.TopK, p.TopP)
			best := 0
			for i := range z {
				if z[i] > z[best] {
					best = i
				}
			}
			var sum float64
			for i := range z {
				if keep[i] {
					sum += math.Exp(z[i] - z[best])
				}
			}
			tok, conf := s.Sample(x)
			if int(tok) != best || math.Abs(float64(conf)-1/sum) > 1e-6 {
				t.Fatalf("%+v: got (%d, %v), want (%d, %v)", p, tok, conf, best, 1/sum)
			}
		}
	}
}

func TestFiltersMatchNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	cases := []Params{
		{Temperature: 1, TopK: 1, TopP: 1}, {Temperature: 0.7, TopK: 10, TopP: 1},
		{Temperature: 1, TopP: 0.3}, {Temperature: 1.3, TopP: 0.95}, {Temperature: 0.5, TopP: 0.999},
		{Temperature: 1, TopK: 40, TopP: 0.9}, {Temperature: 2, TopK: 5000, TopP: 1},
	}
	for _, p := range cases {
		s, err := New(p, rand.New(rand.NewPCG(1, 1)))
		if err != nil {
			t.Fatal(err)
		}
		for trial := 0; trial < 12; trial++ {
			x := randomLogits(r, 2000, 0.5+4*r.Float64())
			if trial%3 == 0 { // many exact ties: a coarse grid of values
				for i := range x {
					x[i] = float32(math.Round(float64(x[i])))
				}
			}
			s.Sample(x) // leaves the filtered probabilities in s.z
			z := make([]float64, len(x))
			for i := range x {
				z[i] = float64(x[i] * float32(1/p.Temperature))
			}
			want := naiveKeep(z, p.TopK, p.TopP)
			for i := range want {
				if got := s.z[i] > 0; want[i] != got {
					t.Fatalf("%+v trial %d: keep[%d] = %v, want %v", p, trial, i, got, want[i])
				}
			}
		}
	}
}

// Sampling draws from the filtered softmax: the empirical frequencies follow it and the
// confidence is the chosen token's probability.
func TestSamplingDistribution(t *testing.T) {
	x := []float32{2, 1, 0, -1, 0.5}
	p := Params{Temperature: 0.8, TopK: 4, TopP: 1}
	s, err := New(p, rand.New(rand.NewPCG(7, 8)))
	if err != nil {
		t.Fatal(err)
	}
	prob := make([]float64, len(x))
	var sum float64
	for i, v := range x {
		if i == 3 { // the smallest logit falls out of the top 4
			continue
		}
		prob[i] = math.Exp(float64(v) / 0.8)
		sum += prob[i]
	}
	for i := range prob {
		prob[i] /= sum
	}
	const n = 200000
	count := make([]int, len(x))
	for k := 0; k < n; k++ {
		tok, conf := s.Sample(x)
		count[tok]++
		if math.Abs(float64(conf)-prob[tok]) > 1e-6 {
			t.Fatalf("conf %v for token %d, want %v", conf, tok, prob[tok])
		}
	}
	for i := range prob {
		got := float64(count[i]) / n
		if math.Abs(got-prob[i]) > 0.005 {
			t.Errorf("token %d: frequency %.4f, want %.4f", i, got, prob[i])
		}
	}
}

func TestSeededDeterminism(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	rows := make([][]float32, 100)
	for i := range rows {
		rows[i] = randomLogits(r, 300, 2)
	}
	run := func() []int32 {
		s, err := New(Params{Temperature: 1, TopP: 0.9}, NewRand(42))
		if err != nil {
			t.Fatal(err)
		}
		var out []int32
		for _, row := range rows {
			tok, _ := s.Sample(row)
			out = append(out, tok)
		}
		return out
	}
	a, b := run(), run()
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("row %d: %d vs %d with the same seed", i, a[i], b[i])
		}
	}
}

// TestSampleRowsMatchesSample: SampleRows, one row after another or spread over
// goroutines, gives what Sample gives on the rows in order, and leaves the RNG where
// Sample leaves it, for each rule (greedy, temperature, top-p, top-k).
func TestSampleRowsMatchesSample(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	const n, v = 9, 3000
	logits := make([]float32, n*v)
	for i := range n {
		copy(logits[i*v:], randomLogits(r, v, 2))
	}
	logits[4*v+17] = logits[4*v+5] // a tie
	parallel := func(n int, fn func(i int)) {
		var wg sync.WaitGroup
		for i := n - 1; i >= 0; i-- { // all at once, last row first
			wg.Go(func() { fn(i) })
		}
		wg.Wait()
	}
	for _, p := range []Params{Greedy, {Temperature: 1, TopP: 1}, {Temperature: 0.7, TopP: 0.9}, {Temperature: 1.3, TopK: 40, TopP: 0.95}, {TopK: 3, TopP: 1}} {
		for _, run := range []func(int, func(int)){nil, parallel} {
			seq, err := New(p, NewRand(7))
			if err != nil {
				t.Fatal(err)
			}
			rows, _ := New(p, NewRand(7))
			toks, confs := make([]int32, n), make([]float32, n)
			scratch := slices.Clone(logits)
			rows.SampleRows(scratch, toks, confs, run)
			for i := range n {
				tok, conf := seq.Sample(logits[i*v : (i+1)*v])
				if toks[i] != tok || math.Float32bits(confs[i]) != math.Float32bits(conf) {
					t.Fatalf("%+v, parallel %v, row %d: (%d, %v), Sample gives (%d, %v)", p, run != nil, i, toks[i], confs[i], tok, conf)
				}
			}
			if p.Temperature > 0 && seq.rng.Uint64() != rows.rng.Uint64() {
				t.Fatalf("%+v: the RNG moved differently", p)
			}
		}
	}
}

func TestValidate(t *testing.T) {
	bad := []Params{
		{Temperature: -0.1, TopP: 1}, {Temperature: math.NaN(), TopP: 1}, {Temperature: math.Inf(1), TopP: 1},
		{TopK: -1, TopP: 1}, {TopP: 0}, {TopP: -0.5}, {TopP: 1.01}, {TopP: math.NaN()},
	}
	for _, p := range bad {
		if _, err := New(p, NewRand(1)); err == nil {
			t.Errorf("%+v: no error", p)
		}
	}
	if _, err := New(Params{Temperature: 1, TopP: 1}, nil); err != ErrNoRNG {
		t.Errorf("T>0 without RNG: %v, want ErrNoRNG", err)
	}
	if _, err := New(Greedy, nil); err != nil {
		t.Errorf("greedy: %v", err)
	}
}

func TestNoAllocations(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 10))
	x := randomLogits(r, 4096, 3)
	for _, p := range []Params{Greedy, {Temperature: 1, TopK: 50, TopP: 0.9}} {
		s, _ := New(p, NewRand(1))
		s.Sample(x)
		if n := testing.AllocsPerRun(20, func() { s.Sample(x) }); n != 0 {
			t.Errorf("%+v: %v allocations per row", p, n)
		}
	}
}

func BenchmarkGreedy157k(b *testing.B) {
	x := randomLogits(rand.New(rand.NewPCG(1, 1)), 157184, 3)
	s, _ := New(Greedy, nil)
	for b.Loop() {
		s.Sample(x)
	}
}

func BenchmarkTopP157k(b *testing.B) {
	x := randomLogits(rand.New(rand.NewPCG(1, 1)), 157184, 3)
	s, _ := New(Params{Temperature: 0.8, TopK: 0, TopP: 0.95}, NewRand(1))
	for b.Loop() {
		s.Sample(x)
	}
}

// BenchmarkSampleRows32: a first decoding step's 32 rows of LLaDA2's vocabulary, greedy,
// one after another and spread over GOMAXPROCS goroutines.
func BenchmarkSampleRows32(b *testing.B) {
	const n, v = 32, 157184
	r := rand.New(rand.NewPCG(1, 1))
	logits := make([]float32, n*v)
	for i := range n {
		copy(logits[i*v:], randomLogits(r, v, 3))
	}
	scratch := make([]float32, n*v)
	toks, confs := make([]int32, n), make([]float32, n)
	workers := runtime.GOMAXPROCS(0)
	parallel := func(n int, fn func(i int)) {
		var next atomic.Int64
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
					fn(i)
				}
			})
		}
		wg.Wait()
	}
	for _, c := range []struct {
		name string
		run  func(int, func(int))
	}{{"serial", nil}, {"parallel", parallel}} {
		b.Run(c.name, func(b *testing.B) {
			s, _ := New(Greedy, nil)
			for b.Loop() {
				copy(scratch, logits)
				s.SampleRows(scratch, toks, confs, c.run)
			}
		})
	}
}
