//go:build !unix

package main

// fileLimit is unknown here: the bound of open connections is then
// maxConnsCap.
func fileLimit() int { return 1 << 30 }
