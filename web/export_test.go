package web

import "time"

// SetWallClock sets the clock of the console sessions of consoles made
// from now on, until restore is called.
func SetWallClock(now func() time.Time) (restore func()) {
	wallClock = now
	return func() { wallClock = time.Now }
}
