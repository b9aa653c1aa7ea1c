package audit

import (
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
	var b [idLen + 4]byte // wider only beyond the year 10889
	return string(formatID(b[:0], ms, g.seq, rand.Uint32()))
}

// formatID appends the ID of ms, seq and the random tail r: fmt's "%012x%04x%08x", by hand, for
// an ID is made on every append.
func formatID(b []byte, ms, seq int64, r uint32) []byte {
	b = appendHex(b, uint64(ms), 12)
	b = appendHex(b, uint64(seq), 4)
	return appendHex(b, uint64(r), 8)
}

// appendHex appends v in lower-case hex, zero-padded to at least width digits.
func appendHex(b []byte, v uint64, width int) []byte {
	var buf [16]byte
	i := len(buf)
	for v != 0 || len(buf)-i < width {
		i--
		buf[i] = hexDigits[v&0xf]
		v >>= 4
	}
	return append(b, buf[i:]...)
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
