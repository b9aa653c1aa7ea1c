package policy

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Duration is a time.Duration that unmarshals from Go duration strings
// ("5m", "1h30m") in YAML and JSON, and marshals back to the shortest such
// string, so that a configuration written back by the console reads as the
// administrator wrote it.
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String formats d like time.Duration.String without the zero units it
// appends ("1h" rather than "1h0m0s").
func (d Duration) String() string { return trimZeroUnits(time.Duration(d).String()) }

// appendDuration appends d as String writes it. Reasons are built with
// it: the text it appends is not allocated on its own.
func appendDuration(b []byte, d Duration) []byte {
	return append(b, trimZeroUnits(time.Duration(d).String())...)
}

func trimZeroUnits(s string) string {
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// ParseDuration parses a Go duration string that must not be negative.
func ParseDuration(s string) (Duration, error) {
	t := strings.TrimSpace(s)
	d, err := time.ParseDuration(t)
	if err != nil {
		// A number alone is most often seconds, and days are what Go's
		// durations lack: say what to write for each.
		if n, err := strconv.ParseUint(t, 10, 32); err == nil {
			return 0, fmt.Errorf("invalid duration %q; a duration needs a unit: write %ds (or 15m, 1h30m)", s, n)
		}
		if days, ok := strings.CutSuffix(t, "d"); ok {
			if n, err := strconv.ParseUint(days, 10, 16); err == nil {
				return 0, fmt.Errorf("invalid duration %q; a Go duration has no days: write %dh for %s", s, n*24, t)
			}
		}
		return 0, fmt.Errorf("invalid duration %q; use a Go duration such as 90s, 15m or 1h30m", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("negative duration %q; use a positive duration such as 15m", s)
	}
	return Duration(d), nil
}

// MarshalText implements encoding.TextMarshaler (used by JSON and YAML).
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// UnmarshalYAML implements yaml.Unmarshaler for code that decodes parts of a
// configuration with yaml.v3 directly (Parse has its own decoder).
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: expected a duration such as 15m", n.Line)
	}
	return d.UnmarshalText([]byte(n.Value))
}
