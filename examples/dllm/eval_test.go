package main

import (
	"encoding/json"
	"testing"
)

// TestEvalCommand: dllm eval scores the first questions of each task, exactly (every
// output the reference's) and with the block cache, and rejects a cache LLaDA2 lacks.
func TestEvalCommand(t *testing.T) {
	for _, cache := range []string{"", "block"} {
		args := []string{"eval", "--file", "../../testdata/llada2-tiny-chat/golden/eval.json", "--limit", "3", "--json"}
		if cache != "" {
			args = append(args, "--cache", cache)
		}
		code, out, errOut := dllmCmd(t, "", args...)
		if code != 0 {
			t.Fatalf("%v: exit %d, %s", args, code, errOut)
		}
		var res struct {
			Cache string `json:"cache"`
			Tasks []struct {
				Task  string `json:"task"`
				N     int    `json:"n"`
				Agree int    `json:"agree"`
			} `json:"tasks"`
			All struct {
				N, Agree       int
				RowsPerForward float64 `json:"rows_per_forward"`
			} `json:"all"`
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		if res.Cache != cache || len(res.Tasks) != 6 || res.All.N != 18 {
			t.Errorf("%v: %+v", args, res)
		}
		if cache == "" && (res.All.Agree != res.All.N || res.All.RowsPerForward != 32) {
			t.Errorf("exact: %d of %d outputs agree with the reference, %.2f rows per forward", res.All.Agree, res.All.N, res.All.RowsPerForward)
		}
	}
	if code, _, errOut := dllmCmd(t, "", "eval", "--file", "../../testdata/llada2-tiny-chat/golden/eval.json", "--cache", "dual"); code != 1 {
		t.Errorf("--cache dual on LLaDA2: exit %d, %s", code, errOut)
	}
}
