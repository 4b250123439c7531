package serve

import "strings"

// stopMatcher cuts streamed text at the first stop string. It holds back the end of
// the text that could still grow into a stop string, so that nothing it has let out is
// ever retracted.
type stopMatcher struct {
	stops   []string
	pending string
	hit     bool
}

// add takes newly final text and returns what may be sent now; after a stop string is
// seen it returns what precedes it and hit becomes true.
func (m *stopMatcher) add(delta string) string {
	if m.hit {
		return ""
	}
	m.pending += delta
	cut := -1
	for _, s := range m.stops {
		if i := strings.Index(m.pending, s); i >= 0 && (cut < 0 || i < cut) {
			cut = i
		}
	}
	if cut >= 0 {
		out := m.pending[:cut]
		m.pending, m.hit = "", true
		return out
	}
	keep := 0
	for _, s := range m.stops {
		keep = max(keep, overlap(m.pending, s))
	}
	out := m.pending[:len(m.pending)-keep]
	m.pending = m.pending[len(m.pending)-keep:]
	return out
}

// flush returns the text held back, at the end of the output.
func (m *stopMatcher) flush() string {
	out := m.pending
	m.pending = ""
	return out
}

// overlap is the length of the longest suffix of text that is a proper prefix of stop.
func overlap(text, stop string) int {
	for n := min(len(text), len(stop)-1); n > 0; n-- {
		if strings.HasSuffix(text, stop[:n]) {
			return n
		}
	}
	return 0
}
