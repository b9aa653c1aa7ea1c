//go:build !linux

package main

import "time"

// threadCPU is unavailable here: the load command times signatures by the
// wall clock instead.
func threadCPU() (time.Duration, bool) { return 0, false }

// processClock is unavailable here: processCPU reads /proc's ticks.
func processClock(int) (time.Duration, bool) { return 0, false }
