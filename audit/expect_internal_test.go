package audit

import "testing"

// TestSatisfied: what a waiting leader's batch needs before it commits. A full batch needs nothing
// more, whatever is expected or wanted: later appends open the next batch, so waiting for them
// would only hold the full one back (its leader may start waiting when the open batch is another,
// small one).
func TestSatisfied(t *testing.T) {
	l := &Log{}
	reqs := func(n int) []*request { return make([]*request, n) }
	for _, c := range []struct {
		name     string
		b        batch
		expected int64
		want     int
		ok       bool
	}{
		{"nothing expected, nothing wanted", batch{reqs: reqs(1)}, 0, 0, true},
		{"at the target", batch{reqs: reqs(3)}, 0, 3, true},
		{"above the target", batch{reqs: reqs(4)}, 0, 3, true},
		{"below the target", batch{reqs: reqs(2)}, 0, 3, false},
		{"an append expected", batch{reqs: reqs(3)}, 1, 3, false},
		{"full by count, below the target", batch{reqs: reqs(maxBatchEvents)}, 0, maxBatchEvents + 1, true},
		{"full by count, an append expected", batch{reqs: reqs(maxBatchEvents)}, 2, 0, true},
		{"full by bytes, below the target", batch{reqs: reqs(1), bytes: maxBatchBytes}, 0, 8, true},
		{"full by bytes, an append expected", batch{reqs: reqs(1), bytes: maxBatchBytes}, 1, 0, true},
	} {
		l.expected.Store(c.expected)
		l.want = c.want
		if got := l.satisfied(&c.b); got != c.ok {
			t.Errorf("%s: satisfied = %v, want %v", c.name, got, c.ok)
		}
	}
}
