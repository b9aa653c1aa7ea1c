package policy

import (
	"fmt"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Timestamp is an instant written as an RFC 3339 time
// ("2026-12-04T18:00:00Z"), such as the expires of an access entry. It is
// kept as Unix nanoseconds, so that it is written back as text wherever a
// Duration would be; the zero Timestamp means "not set".
type Timestamp int64

// At returns the Timestamp of t.
func At(t time.Time) Timestamp { return Timestamp(t.UnixNano()) }

// T returns ts as a time.Time in UTC.
func (ts Timestamp) T() time.Time { return time.Unix(0, int64(ts)).UTC() }

// IsZero reports whether ts is not set.
func (ts Timestamp) IsZero() bool { return ts == 0 }

// String formats ts as RFC 3339 in UTC, with fractional seconds only when
// it has them.
func (ts Timestamp) String() string { return ts.T().Format(time.RFC3339Nano) }

// ParseTimestamp parses an RFC 3339 time.
func ParseTimestamp(s string) (Timestamp, error) {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("invalid time %q; use an RFC 3339 time such as 2026-12-04T18:00:00Z", s)
	}
	if !InTimestampRange(t) {
		return 0, fmt.Errorf("time %q is out of range; use a year between 1678 and 2261", s)
	}
	if t.UnixNano() == 0 {
		// The zero Timestamp means "not set": taken as it is, an entry
		// that expired at the epoch would never expire.
		return 0, fmt.Errorf("time %q is the Unix epoch, which cannot be told from no time at all; use 1970-01-01T00:00:01Z", s)
	}
	return At(t), nil
}

// InTimestampRange reports whether t is in the years a Timestamp holds,
// 1678 to 2261: At of a time outside wraps around to another year.
func InTimestampRange(t time.Time) bool {
	return t.Year() >= 1678 && t.Year() <= 2261
}

// MarshalText implements encoding.TextMarshaler (used by JSON and YAML).
func (ts Timestamp) MarshalText() ([]byte, error) { return []byte(ts.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (ts *Timestamp) UnmarshalText(b []byte) error {
	v, err := ParseTimestamp(string(b))
	if err != nil {
		return err
	}
	*ts = v
	return nil
}

// UnmarshalYAML implements yaml.Unmarshaler for code that decodes parts of a
// configuration with yaml.v3 directly (Parse has its own decoder).
func (ts *Timestamp) UnmarshalYAML(n *yaml.Node) error {
	return ts.UnmarshalText([]byte(n.Value))
}
