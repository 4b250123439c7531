//go:build race

package tools

// raceEnabled lets slow end-to-end tests run once without the race detector (make test
// runs them in a separate step) instead of ten times slower under it.
const raceEnabled = true
