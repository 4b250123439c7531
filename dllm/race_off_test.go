//go:build !race

package dllm

const raceEnabled = false
