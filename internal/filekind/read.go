package filekind

import (
	"fmt"
	"io"
	"io/fs"
	"os"
)

// ReadRegular reads path, a regular file of at most limit bytes that
// should hold what ("a PEM private key"). Anything else is refused before
// it is read, naming what it is: read in full, /dev/zero filled the
// memory of the commands, and a named pipe without a writer hung them. A
// larger file is refused as larger than size (limit in words: "64 KiB").
func ReadRegular(path, what string, limit int64, size string) ([]byte, error) {
	notRegular := func(m fs.FileMode) error {
		return fmt.Errorf("%s: not a regular file but %s; give the path of %s", path, Of(m), what)
	}
	fi, err := os.Stat(path)
	if err == nil && !fi.Mode().IsRegular() {
		err = notRegular(fi.Mode())
	}
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err = f.Stat(); err == nil && !fi.Mode().IsRegular() {
		err = notRegular(fi.Mode()) // replaced since
	}
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: larger than %s, too large for %s", path, size, what)
	}
	return data, nil
}
