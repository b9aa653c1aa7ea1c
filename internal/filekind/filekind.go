// Package filekind says what a file that should be a regular file is
// instead, in the words the configuration's and the key files' errors use.
package filekind

import "io/fs"

// Of names the kind of a file of mode m that is not a regular file: "a
// directory", "a named pipe", "a device", "a socket", or "something other
// than a file".
func Of(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "something other than a file"
}
