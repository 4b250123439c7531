package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"
)

// usageError is a mistake on the command line (an unknown flag, a value out of range, a
// missing argument): the command exits with status 2 and the one-line message.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// commandFlags is the flag set of one command: GNU-style flags (--long, -s, anywhere on
// the line, -- ends them) and one help and error format for every command.
type commandFlags struct {
	*pflag.FlagSet
	cmd   string
	usage string // the synopsis after "usage: "
	notes string // text printed after the flags, if any
	help  io.Writer
}

func newCommandFlags(cmd, usage string, help io.Writer) *commandFlags {
	fs := pflag.NewFlagSet(cmd, pflag.ContinueOnError)
	fs.SortFlags = false // in the order registered: the important ones first
	c := &commandFlags{FlagSet: fs, cmd: cmd, usage: usage, help: help}
	fs.Usage = c.printHelp
	fs.SetOutput(io.Discard) // errors are reported once, by main
	return c
}

// summary is the command's one-line description from the command table.
func summary(cmd string) string {
	for _, c := range commands {
		if c.name == cmd {
			return c.summary
		}
	}
	return ""
}

// printHelp is what -h shows: what the command does, its synopsis, its flags.
func (c *commandFlags) printHelp() {
	fmt.Fprintf(c.help, "dllm %s: %s\n\nusage: %s\n\nflags:\n%s", c.cmd, summary(c.cmd), c.usage, c.FlagUsages())
	if c.notes != "" {
		fmt.Fprintf(c.help, "\n%s", c.notes)
	}
}

// parse parses args. -h and --help print the help and return pflag.ErrHelp; a mistake
// is a usageError naming the flag and, for an unknown one, the closest known flag.
func (c *commandFlags) parse(args []string) error {
	err := c.Parse(args)
	if err == nil || errors.Is(err, pflag.ErrHelp) {
		return err
	}
	see := fmt.Sprintf("(see dllm %s -h)", c.cmd)
	var notExist *pflag.NotExistError
	var badValue *pflag.InvalidValueError
	switch {
	case errors.As(err, &notExist):
		return usagef("%s %s", c.unknownFlag(notExist), see)
	case errors.As(err, &badValue):
		f := badValue.GetFlag()
		return usagef("--%s takes %s, got %q %s", f.Name, valueKind(f.Value.Type()), badValue.GetValue(), see)
	}
	return usagef("%v %s", err, see)
}

// valueKind says in words what a flag of pflag's value type accepts.
func valueKind(typ string) string {
	switch {
	case strings.HasPrefix(typ, "float"):
		return "a number"
	case strings.HasPrefix(typ, "int"):
		return "an integer"
	case strings.HasPrefix(typ, "uint"):
		return "a non-negative integer"
	case typ == "bool":
		return "true or false"
	}
	return "a " + typ
}

// unknownFlag explains an unknown flag: "unknown flag --threshhold; did you mean
// --threshold?". A Go-style single-dash long flag (-json) is pointed to its --form.
func (c *commandFlags) unknownFlag(e *pflag.NotExistError) string {
	if group := e.GetSpecifiedShortnames(); group != "" {
		if len(group) > 1 && c.Lookup(group) != nil {
			return fmt.Sprintf("unknown flag -%s; did you mean --%s?", group, group)
		}
		return fmt.Sprintf("unknown flag -%s", e.GetSpecifiedName())
	}
	name := e.GetSpecifiedName()
	if best := c.closest(name); best != "" {
		return fmt.Sprintf("unknown flag --%s; did you mean --%s?", name, best)
	}
	return fmt.Sprintf("unknown flag --%s", name)
}

// closest is the flag name nearest to name in edit distance, if near enough to be a
// plausible typo (at most a third of the name's letters, and at least 1).
func (c *commandFlags) closest(name string) string {
	best, bestDist := "", max(1, len(name)/3)+1
	c.VisitAll(func(f *pflag.Flag) {
		if d := editDistance(name, f.Name); d < bestDist {
			best, bestDist = f.Name, d
		}
	})
	return best
}

// editDistance is the Levenshtein distance between a and b (bytes: flag names are ASCII).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			sub := prev[j-1]
			if a[i-1] != b[j-1] {
				sub++
			}
			cur[j] = min(sub, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// noArgs rejects positional arguments for commands that take none.
func (c *commandFlags) noArgs() error {
	if c.NArg() > 0 {
		return usagef("unexpected argument %q (see dllm %s -h)", c.Arg(0), c.cmd)
	}
	return nil
}

// required reports a missing required flag.
func (c *commandFlags) required(flag string) error {
	return usagef("%s is required (see dllm %s -h)", flag, c.cmd)
}
