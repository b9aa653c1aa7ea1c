package audit

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

// idGen makes event IDs: 12 hex digits of Unix milliseconds, 4 of a sequence within that
// millisecond, 8 random. Fixed width and lower case make the IDs sort as strings in the order the
// events were appended, so an ID says where an event stands without the file at hand; the random
// tail keeps IDs unique even if two processes were ever pointed at the same file.
//
// IDs never go backwards: if the clock does (NTP step, VM resume) or a millisecond's sequence is
// exhausted, the generator keeps counting from the last ID it issued. Open seeds it from the IDs
// already in the file so this holds across restarts. idGen is not safe for concurrent use; only
// the leader committing a batch calls next.
type idGen struct {
	ms  int64
	seq int64
}

const idLen = 24

func (g *idGen) next(now time.Time) string {
	ms := max(now.UnixMilli(), 0)
	if ms <= g.ms {
		ms, g.seq = g.ms, g.seq+1
		if g.seq > 0xffff {
			ms, g.seq = ms+1, 0
		}
	} else {
		g.seq = 0
	}
	g.ms = ms
	return fmt.Sprintf("%012x%04x%08x", ms, g.seq, rand.Uint32())
}

// observe makes the generator issue only IDs greater than id, if id is one of its own.
func (g *idGen) observe(id string) {
	if len(id) != idLen {
		return
	}
	ms, err1 := strconv.ParseInt(id[:12], 16, 64)
	seq, err2 := strconv.ParseInt(id[12:16], 16, 64)
	if err1 != nil || err2 != nil {
		return
	}
	if ms > g.ms || ms == g.ms && seq > g.seq {
		g.ms, g.seq = ms, seq
	}
}
