package decode

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// recordedModel serves the recorded logits of one canvas (a logits_*.bin golden) and
// fails on any other: with it the first step of a generation golden that starts from
// that canvas runs on the real model's numbers, Gumbel noise and sampling included.
type recordedModel struct {
	tokens []int32
	rows   [][]float32 // decoding logits per position (shifted for Dream)
}

func loadRecorded(t *testing.T, fixture, name string, shift bool) *recordedModel {
	t.Helper()
	dir := filepath.Join(famDir(fixture), "golden")
	var side struct {
		Tokens []int32 `json:"tokens"`
		Shape  []int   `json:"shape"`
	}
	b, err := os.ReadFile(filepath.Join(dir, name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &side); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, name+".bin"))
	if err != nil {
		t.Fatal(err)
	}
	T, V := side.Shape[0], side.Shape[1]
	if len(raw) != T*V*4 || T != len(side.Tokens) {
		t.Fatalf("%s: %d bytes for shape %v", name, len(raw), side.Shape)
	}
	m := &recordedModel{tokens: side.Tokens, rows: make([][]float32, T)}
	for i := range m.rows {
		src := i
		if shift && i > 0 {
			src = i - 1
		}
		row := make([]float32, V)
		for v := range row {
			row[v] = math.Float32frombits(binary.LittleEndian.Uint32(raw[(src*V+v)*4:]))
		}
		m.rows[i] = row
	}
	return m
}

var errOtherCanvas = errors.New("recorded logits: another canvas")

func (m *recordedModel) Window(tokens []int32, rows []int, logits []float32) error {
	if !slices.Equal(tokens, m.tokens) {
		return errOtherCanvas
	}
	V := len(m.rows[0])
	for i, p := range rows {
		copy(logits[i*V:(i+1)*V], m.rows[p])
	}
	return nil
}

// TestFamilyFirstStepRecordedLogits runs the first step of every golden whose first
// canvas has recorded logits (logits_prompt_gen16) on those logits: tokens (Gumbel-max
// from the MT19937 stream, argmax, replayed samples) exactly, confidences within 1e-4.
func TestFamilyFirstStepRecordedLogits(t *testing.T) {
	n := 0
	for _, fx := range famFixtures {
		m := loadRecorded(t, fx, "logits_prompt_gen16", fx == "dream")
		for _, g := range loadFamGoldens(t, fx) {
			mask := m.tokens[len(m.tokens)-1]
			canvas := append(slices.Clone(g.PromptIDs), make([]int32, len(g.FinalCanvas)-len(g.PromptIDs))...)
			for p := len(g.PromptIDs); p < len(canvas); p++ {
				canvas[p] = mask
			}
			if !slices.Equal(canvas, m.tokens) || g.num("cfg_scale", 0) > 0 {
				continue // other canvas, or guided (no unconditional logits recorded)
			}
			t.Run(fx+"/"+strings.TrimSuffix(g.File, ".json"), func(t *testing.T) {
				res, err := g.run(m, len(m.rows[0]), func(WindowStepEvent) bool { return false })
				if !errors.Is(err, ErrStopped) {
					t.Fatalf("err = %v, want ErrStopped after the first step", err)
				}
				if len(res.Trace) != 1 {
					t.Fatalf("%d steps", len(res.Trace))
				}
				if err := compareStep(g, res.Trace[0], &g.Trace[0], 1e-4); err != nil {
					t.Fatal(fmt.Errorf("first step: %w", err))
				}
				n++
			})
		}
	}
	if n < 7 {
		t.Errorf("only %d goldens start from the recorded canvas, want >= 7", n)
	}
}
