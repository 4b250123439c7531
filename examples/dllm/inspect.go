package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"reflect"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/dllm-go/dllm/dllm"
	"github.com/dllm-go/dllm/dllm/tools"
)

func runInspect(args []string, std stdio) error {
	out := std.out
	fs := newCommandFlags("inspect", "dllm inspect -m PATH [--json] [--check]", out)
	fs.notes = "Tensor names are canonical (Hugging Face names, one tensor per expert) for every format.\n"
	model := fs.StringP("model", "m", "", "`PATH` of "+modelFlagHelp+" (required)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	check := fs.Bool("check", false, "also read every weight and list tensors holding NaN or infinite values (an error if any)")
	if err := fs.parse(args); err != nil {
		return err
	}
	if err := fs.noArgs(); err != nil {
		return err
	}
	if *model == "" {
		return fs.required("-m PATH")
	}
	info, err := tools.Inspect(*model)
	if errors.Is(err, iofs.ErrNotExist) {
		return noSuchModel(*model)
	}
	if err != nil {
		return err
	}
	var bad []tools.NonFiniteTensor
	if *check {
		if bad, err = tools.CheckWeights(*model); err != nil {
			return err
		}
	}
	switch {
	case *asJSON && *check:
		err = encodeJSON(out, struct {
			*tools.CheckpointInfo
			NonFinite []tools.NonFiniteTensor `json:"non_finite"`
		}{info, bad})
	case *asJSON:
		err = encodeJSON(out, info)
	default:
		err = printInspect(out, *model, info)
		if err == nil && *check {
			err = printCheck(out, len(info.Tensors), bad)
		}
	}
	if err == nil && len(bad) > 0 {
		err = fmt.Errorf("%d of %d tensors hold NaN or infinite values, first %s", len(bad), len(info.Tensors), bad[0].Name)
	}
	return err
}

func encodeJSON(out io.Writer, v any) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func printCheck(out io.Writer, tensors int, bad []tools.NonFiniteTensor) error {
	if len(bad) == 0 {
		_, err := fmt.Fprintf(out, "\ncheck: all %d tensors finite\n", tensors)
		return err
	}
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "\nNON-FINITE\tVALUES\tFIRST INDEX")
	for _, b := range bad {
		fmt.Fprintf(w, "%s\t%d\t%d\n", b.Name, b.Count, b.First)
	}
	return w.Flush()
}

func printInspect(out io.Writer, path string, rep *tools.CheckpointInfo) error {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "path\t%s\n", path)
	fmt.Fprintf(w, "format\t%s\n", rep.Format)
	fmt.Fprintf(w, "architecture\t%s\n", rep.Architecture)
	d := rep.Defaults
	fmt.Fprintf(w, "family\t%s (%s: %s)\n", rep.Family, d.Title, d.Models)
	fmt.Fprintf(w, "attention\t%s\n", d.Attention)
	fmt.Fprintf(w, "shift logits\t%v\n", d.ShiftLogits)
	if d.MaskToken == "" {
		d.MaskToken = "(an id without text: mask_token_id)"
	}
	fmt.Fprintf(w, "mask token\t%s\n", d.MaskToken)
	fmt.Fprintf(w, "eos token\t%s\n", d.EOSToken)
	fmt.Fprintf(w, "turn end\t%s\n", d.RoleEndToken)
	if algs := dllm.Algorithms(rep.Family); algs != nil {
		fmt.Fprintf(w, "algorithms\t%s (default), %s\n", algs[0], strings.Join(algs[1:], ", "))
	}
	fmt.Fprintf(w, "tensors\t%d\n", len(rep.Tensors))
	fmt.Fprintf(w, "bytes\t%d (%.1f MiB)\n", rep.Bytes, float64(rep.Bytes)/(1<<20))
	fmt.Fprintln(w, "\nconfig")
	cv := reflect.ValueOf(rep.Config)
	for i := 0; i < cv.NumField(); i++ {
		name, _, _ := strings.Cut(cv.Type().Field(i).Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		fmt.Fprintf(w, "  %s\t%v\n", name, cv.Field(i).Interface())
	}
	if len(rep.SpecialTokens) > 0 {
		fmt.Fprintln(w, "\nspecial tokens")
		keys := make([]string, 0, len(rep.SpecialTokens))
		for k := range rep.SpecialTokens {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "  %s\t%d\n", k, rep.SpecialTokens[k])
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	w = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "\nNAME\tDTYPE\tSHAPE")
	for _, t := range rep.Tensors {
		dims := make([]string, len(t.Shape))
		for i, d := range t.Shape {
			dims[i] = fmt.Sprint(d)
		}
		fmt.Fprintf(w, "%s\t%s\t[%s]\n", t.Name, t.DType, strings.Join(dims, ", "))
	}
	return w.Flush()
}
