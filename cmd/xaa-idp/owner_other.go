//go:build !unix

package main

import "io/fs"

// otherOwner is unknown here: no file is taken for another user's.
func otherOwner(fs.FileInfo) (uid int, other bool) { return 0, false }

// looseMode is false where files have no Unix permission bits: on
// Windows os.Stat gives every file 0666 (0444 when read-only) and every
// directory 0777, whoever may read them, so a warning would name
// every key and directory with a chmod that does not exist there.
func looseMode(fs.FileInfo, fs.FileMode) bool { return false }
