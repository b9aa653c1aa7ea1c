package push

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/xaa-idp/xaa-idp/internal/atomicfile"
)

// JournalFile is the name of the file in the state directory that holds
// the SETs not yet delivered (docs/configuration.md, "Revocation push").
const JournalFile = "push-pending.jsonl"

// journal keeps the pending SETs on disk: each enqueued SET is appended
// and fsynced before Enqueue returns, each delivered or abandoned one is
// marked done, a SET merged into (enqueue) is appended anew under its jti,
// the last line of a jti being the one that counts, and the file is
// rewritten with the pending ones alone when the lines that no longer count
// outnumber them. A torn last line, left by a crash in the
// middle of a write, is ignored: its SET was never acknowledged. Any
// other bad line is an error naming the file and line.
type journal struct {
	path   string
	f      *os.File
	done   int   // done marks in the file
	broken error // a write cut short whose part of a line could not be removed: no more writes
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
	data, err := os.ReadFile(j.path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, nil, 0, fmt.Errorf("push: reading %s: %w", j.path, err)
	}
	var order []*pending
	byID := map[string]*pending{}
	for n := 1; len(data) > 0; n++ {
		line, rest, complete := bytes.Cut(data, []byte{'\n'})
		data = rest
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var l journalLine
		err := json.Unmarshal(line, &l)
		if err == nil && (l.Add == nil || l.Add.ID == "") && l.Done == "" {
			err = errors.New("neither a SET with a jti nor a done mark")
		}
		if err != nil {
			// A torn last line: its SET was never acknowledged. A power loss
			// can also leave zeros where its data was to go.
			if !complete && (line[0] == '{' || len(bytes.Trim(line, "\x00")) == 0) {
				torn = len(line)
				continue
			}
			// Not what a crash leaves: every line is written whole, and a
			// write cut short leaves the start of one ('{'). Dropping it
			// could drop a revocation never delivered, or, with the
			// rewrite below, another file linked in the journal's place;
			// that is for a person to decide.
			return nil, nil, 0, fmt.Errorf("push: %s:%d: %v: not a line this program writes; fix or remove it (a SET it held is then never delivered)", j.path, n, err)
		}
		switch {
		case l.Add != nil:
			byID[l.Add.ID] = l.Add
			order = append(order, l.Add)
		default:
			delete(byID, l.Done)
		}
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
	var buf bytes.Buffer
	for _, p := range live {
		line, err := json.Marshal(journalLine{Add: p})
		if err != nil {
			return err
		}
		buf.Write(append(line, '\n'))
	}
	if j.f != nil {
		j.f.Close()
		j.f = nil
	}
	if _, err := atomicfile.Write(j.path, buf.Bytes(), 0o600); err != nil {
		return fmt.Errorf("push: rewriting %s: %w", j.path, err)
	}
	f, err := os.OpenFile(j.path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("push: opening %s: %w", j.path, err)
	}
	j.f, j.done, j.broken = f, 0, nil // whole lines again
	return nil
}

// add appends SETs and fsyncs: once it returns, they survive a crash.
func (j *journal) add(ps []*pending) error {
	var buf bytes.Buffer
	for _, p := range ps {
		line, err := json.Marshal(journalLine{Add: p})
		if err != nil {
			return err
		}
		buf.Write(append(line, '\n'))
	}
	if err := j.write(buf.Bytes()); err != nil {
		return err
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("push: syncing %s: %w", j.path, err)
	}
	return nil
}

// finish marks a SET done, and compacts the file once the marks outnumber
// the live SETs. The mark is not synced: losing it in a crash only means
// one more delivery attempt, which the receiver refuses as a replay.
func (j *journal) finish(id string, live []*pending) error {
	line, _ := json.Marshal(journalLine{Done: id})
	if err := j.write(append(line, '\n')); err != nil {
		return err
	}
	return j.superseded(1, live)
}

// write appends whole lines. A write cut short (a full disk) leaves the
// start of a line, to which the next write would be glued: a bad line in
// the middle of the file, which the next start refuses. So the part
// written is cut off again; if it cannot be, the journal takes no more
// lines (each SET refused is audited and found again at the next start).
func (j *journal) write(lines []byte) error {
	if j.broken != nil {
		return j.broken
	}
	fi, err := j.f.Stat()
	if err != nil {
		return fmt.Errorf("push: writing %s: %w", j.path, err)
	}
	if _, err := j.f.Write(lines); err != nil {
		err = fmt.Errorf("push: writing %s: %w", j.path, err)
		if terr := j.f.Truncate(fi.Size()); terr != nil {
			j.broken = fmt.Errorf("%w; removing the partial line: %w", err, terr)
			return j.broken
		}
		return err
	}
	return nil
}

// superseded counts n lines of the file that no longer say anything (done
// marks, and the lines of SETs that a merge wrote anew), and compacts the
// file once they outnumber the live SETs: merges, like deliveries, do not
// grow it without bound.
func (j *journal) superseded(n int, live []*pending) error {
	if j.done += n; j.done > len(live) && (len(live) == 0 || j.done > 100) {
		return j.rewrite(live)
	}
	return nil
}

func (j *journal) close() error {
	if j.f == nil {
		return nil
	}
	err := j.f.Close()
	j.f = nil
	return err
}
