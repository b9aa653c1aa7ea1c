package push

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// FuzzOpenJournal reads arbitrary journal files, as a crash, a full disk
// or a hand edit may leave them: never a panic; a refusal names the file
// and line; an accepted journal is rewritten so that the next start reads
// the same pending SETs from it.
func FuzzOpenJournal(f *testing.F) {
	for _, s := range []string{
		"",
		`{"add":{"jti":"a","server":"files","endpoint":"https://rp.example/events","aud":"https://as.example","user":"bob","sub":"u-bob","event":"session-revoked","event_timestamp":1,"reason":"r","created":"2026-01-01T00:00:00Z"}}` + "\n",
		`{"add":{"jti":"a"}}` + "\n" + `{"done":"a"}` + "\n" + `{"add":{"jti":"b"}}` + "\n" + `{"add":{"jti":"b","user":"x"}}` + "\n",
		`{"add":{"jti":"a"}}` + "\n" + `{"add":{"jt`,
		`{"add":{"jti":"a"}}` + "\n\x00\x00\x00",
		`{"done":""}` + "\n",
		"x\n",
		`{"add":{"jti":"a","created":"9999-12-31T23:59:59-23:59"}}` + "\n",
		`{"add":{"jti":"a","attempts":3}}` + "\n" + `{"add":{"jti":"b"}}` + "\n" + `{"add":{"jti":"a","attempts":4}}` + "\n",
		`{"add":{"jti":"a","attempts":-1}}` + "\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, JournalFile)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		j, live, _, err := openJournal(dir)
		if err != nil {
			if !strings.Contains(err.Error(), path+":") {
				t.Fatalf("refusal %q does not name %s and a line", err, path)
			}
			return
		}
		j.close()
		j, again, torn, err := openJournal(dir)
		if err != nil || torn != 0 {
			t.Fatalf("the rewritten journal of %q: torn %d, %v", data, torn, err)
		}
		j.close()
		if !reflect.DeepEqual(live, again) && !(len(live) == 0 && len(again) == 0) {
			t.Fatalf("pending %+v, then %+v after the rewrite of %q", live, again, data)
		}
	})
}
