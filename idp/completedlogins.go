package idp

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/xaa-idp/xaa-idp/internal/recordlog"
)

// completedLoginsFile is the state directory's record of the sign-ins
// whose code was redeemed (storage.completedLogins), so that the login
// page reached again by Back after a restart still says the sign-in was
// completed, not that it is unknown or has expired. It is a hint for a
// person, not a security record: a line it cannot read is skipped, and
// an append is not synced (it outlives kill -9, not a crash of the
// machine). It holds a SHA-256 of each sign-in request's id, never the
// id, and the console's client_id for the console's sign-ins.
const completedLoginsFile = "completed-logins.jsonl"

// completedRecord is one line of completedLoginsFile.
type completedRecord struct {
	Hash   string    `json:"hash"`             // tokenHash of the auth request's id
	Client string    `json:"client,omitempty"` // the product's own client, else ""
	Exp    time.Time `json:"exp"`
}

// openCompletedLog loads the records of dir's completedLoginsFile that
// have not expired into the store, drops the others from the file and
// opens it for appending. Without dir, sign-ins completed are kept in
// memory only.
func (st *storage) openCompletedLog(dir string) error {
	if dir == "" {
		return nil
	}
	name := filepath.Join(dir, completedLoginsFile)
	l := newStateLog(name, "completed sign-ins", st.liveCompleted)
	now := st.srv.now()
	_, err := scanState(l, "a completed sign-in", func(b []byte) bool {
		var r completedRecord
		if json.Unmarshal(b, &r) != nil || r.Hash == "" || r.Exp.IsZero() {
			return false
		}
		if now.Before(r.Exp) {
			st.completedLogins.Put(r.Hash, r.Client, r.Exp)
		}
		return true
	})
	if err != nil {
		return fmt.Errorf("idp: %w", err)
	}
	if err := l.Compact(); err != nil {
		return fmt.Errorf("idp: %w", err)
	}
	st.completed = l
	return nil
}

// completeLogin records that the sign-in request id's code was redeemed,
// own being the product's own client that made it, or "".
func (st *storage) completeLogin(id, own string) {
	r := completedRecord{Hash: tokenHash(id), Client: own, Exp: st.srv.now().Add(completedLoginTTL)}
	st.completedLogins.Put(r.Hash, r.Client, r.Exp)
	if st.completed == nil {
		return
	}
	err := st.completed.Append(false, r)
	switch {
	case errors.Is(err, recordlog.ErrClosed):
	case err != nil:
		slog.Warn("could not record a completed sign-in in the state directory; after a restart its login page says the sign-in is unknown", "file", st.completed.Name(), "err", err)
	}
}

// completedLogin reports whether the sign-in request id was completed,
// and the product's own client that made it, if it was one.
func (st *storage) completedLogin(id string) (own string, ok bool) {
	return st.completedLogins.Get(tokenHash(id))
}

// liveCompleted is the records of the sign-ins completed, for a rewrite
// (recordlog.Options.Live).
func (st *storage) liveCompleted() []completedRecord {
	var recs []completedRecord
	st.completedLogins.EachLive(func(hash, own string, exp time.Time) {
		recs = append(recs, completedRecord{Hash: hash, Client: own, Exp: exp})
	})
	return recs
}
