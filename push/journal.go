package push

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/xaa-idp/xaa-idp/internal/recordlog"
)

// JournalFile is the name of the file in the state directory that holds
// the SETs not yet delivered (docs/configuration.md, "Revocation push").
const JournalFile = "push-pending.jsonl"

// journal keeps the pending SETs on disk: each enqueued SET is appended
// and fsynced before Enqueue returns, each delivered or abandoned one is
// marked done, a SET merged into (enqueue) or whose attempt failed (for
// its attempt count) is appended anew under its jti, the last
// line of a jti being the one that counts (and keeping the place of its
// first), and the file is
// rewritten with the pending ones alone when the lines that no longer count
// outnumber them. A torn last line, left by a crash in the
// middle of a write, is ignored: its SET was never acknowledged. Any
// other bad line is an error naming the file and line.
type journal struct {
	path string
	log  *recordlog.Log[journalLine]
	done int // done marks in the file
}

// journalLine is one line: an enqueued SET, or the jti of one finished.
type journalLine struct {
	Add  *pending `json:"add,omitempty"`
	Done string   `json:"done,omitempty"`
}

// openJournal reads the pending SETs of dir's journal, rewrites it with
// them alone, and opens it for appending. torn is the length of a torn
// last line it dropped, 0 when none.
func openJournal(dir string) (j *journal, live []*pending, torn int, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, 0, fmt.Errorf("push: state directory: %w", err)
	}
	j = &journal{path: filepath.Join(dir, JournalFile)}
	j.log = recordlog.New[journalLine](j.path, recordlog.Options[journalLine]{})
	var order []*pending
	byID := map[string]*pending{}
	var bad error // a line refused, as it is
	err = j.log.Scan(func(n int, line []byte, complete bool) error {
		var l journalLine
		err := json.Unmarshal(line, &l)
		switch {
		case err != nil:
		case (l.Add == nil || l.Add.ID == "") && l.Done == "":
			err = errors.New("neither a SET with a jti nor a done mark")
		case l.Add != nil && l.Add.Attempts < 0:
			err = errors.New("a negative attempts count")
		}
		if err != nil {
			// A torn last line: its SET was never acknowledged. A power loss
			// can also leave zeros where its data was to go.
			if !complete && (line[0] == '{' || len(bytes.Trim(line, "\x00")) == 0) {
				torn = len(line)
				return nil
			}
			// Not what a crash leaves: every line is written whole, and a
			// write cut short leaves the start of one ('{'). Dropping it
			// could drop a revocation never delivered, or, with the
			// rewrite below, another file linked in the journal's place;
			// that is for a person to decide.
			bad = fmt.Errorf("push: %s:%d: %v: not a line this program writes; fix or remove it (a SET it held is then never delivered)", j.path, n, err)
			return bad
		}
		switch {
		case l.Add == nil:
			delete(byID, l.Done)
		case byID[l.Add.ID] != nil:
			*byID[l.Add.ID] = *l.Add
		default:
			byID[l.Add.ID] = l.Add
			order = append(order, l.Add)
		}
		return nil
	})
	if bad != nil {
		return nil, nil, 0, bad
	}
	if err != nil {
		return nil, nil, 0, fmt.Errorf("push: reading %s: %w", j.path, err)
	}
	for _, p := range order {
		if byID[p.ID] == p {
			live = append(live, p)
		}
	}
	if err := j.rewrite(live); err != nil {
		return nil, nil, 0, err
	}
	return j, live, torn, nil
}

// rewrite replaces the file with the pending SETs alone, durably, and
// reopens it for appending.
func (j *journal) rewrite(live []*pending) error {
	ls := make([]journalLine, len(live))
	for i, p := range live {
		ls[i].Add = p
	}
	if err := j.log.Rewrite(ls); err != nil {
		return fmt.Errorf("push: rewriting %s: %w", j.path, err)
	}
	j.done = 0
	return nil
}

// add appends SETs and fsyncs: once it returns, they survive a crash.
func (j *journal) add(ps []*pending) error {
	ls := make([]journalLine, len(ps))
	for i, p := range ps {
		ls[i].Add = p
	}
	return j.write(true, ls...)
}

// finish marks a SET done, and compacts the file once the marks outnumber
// the live SETs. The mark is not synced: losing it in a crash only means
// one more delivery attempt, which the receiver refuses as a replay.
func (j *journal) finish(id string, live []*pending) error {
	if err := j.write(false, journalLine{Done: id}); err != nil {
		return err
	}
	return j.superseded(1, live)
}

// tried appends p anew after a failed attempt, for its attempt count, and
// compacts as finish does. The line is not synced: losing
// it in a crash only means the attempt is counted once less.
func (j *journal) tried(p *pending, live []*pending) error {
	if err := j.write(false, journalLine{Add: p}); err != nil {
		return err
	}
	return j.superseded(1, live)
}

// write appends whole lines, and syncs them when sync is set. A write
// cut short (a full disk) leaves the start of a line, to which the next
// write would be glued: a bad line in the middle of the file, which the
// next start refuses. So the part written is cut off again
// (recordlog.Log.Append); if it cannot be, the journal takes no more
// lines until it can (each SET refused is audited and found again at the
// next start).
func (j *journal) write(sync bool, ls ...journalLine) error {
	if err := j.log.Append(sync, ls...); err != nil {
		return fmt.Errorf("push: %w", err)
	}
	return nil
}

// superseded counts n lines of the file that no longer say anything (done
// marks, and the lines of SETs that a merge wrote anew), and compacts the
// file once they outnumber the live SETs: merges, like deliveries, do not
// grow it without bound. It also rewrites a file that was deleted while
// running (recordlog.Log.Lost): the SETs it held are pending still.
func (j *journal) superseded(n int, live []*pending) error {
	if j.done += n; j.log.Lost() || j.done > len(live) && (len(live) == 0 || j.done > 100) {
		return j.rewrite(live)
	}
	return nil
}

func (j *journal) close() error { return j.log.Close() }
