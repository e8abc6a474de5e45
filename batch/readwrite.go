package batch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"github.com/graphbatch/graphbatch/csvio"
	"github.com/graphbatch/graphbatch/graph"
)

// This file is reading before writing (README, "Safe runs"): what the scheduler
// does with a row Graph has read, the backup written before a row is, and
// the plan of what a run would change.

// reads reports whether rows are read before they are written.
func (c *Config) reads() bool { return c.SkipUnchanged || c.Backup != nil || c.Plan != nil }

// read takes what Graph holds for r's entity: the row has its outcome if
// it changes nothing (or is only planned), or goes on to be written, after
// its backup.
func (s *scheduler) read(r *item, resp *graph.Response, ids *graph.Error, a *answer) {
	if b := bytes.TrimSpace(resp.Body); len(b) == 0 || string(b) == "null" {
		s.unreadable(r, &graph.Error{Status: resp.Status, RequestID: ids.RequestID, ClientRequestID: ids.ClientRequestID,
			Message: "Graph answered the read without the entity"}, a)
		return
	}
	changes, err := s.cfg.Target.Diff(r.patch, resp.Body)
	if err != nil {
		s.apply(r, transient, &graph.Error{Status: resp.Status, Message: "Graph's answer to the read is not an object: " + graph.Clean(err.Error()),
			RequestID: ids.RequestID, ClientRequestID: ids.ClientRequestID}, a)
		return
	}
	switch {
	case s.cfg.Plan != nil:
		o := csvio.Valid // would be sent
		if len(changes) == 0 {
			o = csvio.Unchanged
		}
		s.finish(r, o, resp.Status, ids, a.at)
		s.pending[len(s.pending)-1].plan = s.planLines(r, changes)
	case len(changes) == 0 && s.cfg.SkipUnchanged:
		s.finish(r, csvio.Unchanged, resp.Status, ids, a.at)
	case s.cfg.Backup != nil:
		holds, msg := s.cfg.Backup.current(r.patch, resp.Body)
		if msg != "" {
			s.fail(r, &graph.Error{Status: resp.Status, RequestID: ids.RequestID, ClientRequestID: ids.ClientRequestID,
				Message: msg + ": with nothing to back up, the row is not written"}, a.at, true)
			return
		}
		r.current = holds
		s.toBackup = append(s.toBackup, r)
	default:
		r.kind = writes
		s.makeReady(r, a.at)
	}
}

// readRefused handles a read Graph refused for good. The entity not being
// there fails the row; a route Graph will not read at all is unreadable.
func (s *scheduler) readRefused(r *item, ge *graph.Error, a *answer) {
	if graph.RouteRefused(ge) {
		s.unreadable(r, ge, a)
		return
	}
	s.fail(r, ge, a.at, true)
}

// unreadable handles a read that cannot tell what the entity holds: its
// route refused (ge), or answered without the entity (204, null). That
// makes --skip-unchanged warn once and write every row unread, but fails
// the row when a backup or a plan needs what it holds: nothing is written
// without its backup.
func (s *scheduler) unreadable(r *item, ge *graph.Error, a *answer) {
	if s.cfg.Backup == nil && s.cfg.Plan == nil {
		if !s.readsOff {
			s.readsOff = true
			for _, q := range s.ready[reads].take(s.ready[reads].len()) {
				s.makeReady(q, a.at) // now a write
			}
			s.cfg.Log.Warn().Int("httpStatus", ge.Status).Str("errorCode", ge.Code).Str("target", s.cfg.Target.Template).
				Msgf("Graph does not read this target (%d %s: %s): rows are written without being read, so none can be skipped as unchanged", ge.Status, ge.Code, ge.Message)
		}
		r.kind = writes
		s.makeReady(r, a.at)
		return
	}
	s.fail(r, ge, a.at, true)
}

// backUp writes the backup of the rows read since the last call, and
// forces it to the disk, before they may be written.
func (s *scheduler) backUp(now time.Time) error {
	if len(s.toBackup) == 0 {
		return nil
	}
	for _, r := range s.toBackup {
		if err := s.cfg.Backup.add(r); err != nil {
			return err
		}
	}
	if err := s.cfg.Backup.w.Sync(); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	for _, r := range s.toBackup {
		r.current, r.kind = nil, writes
		s.makeReady(r, now)
	}
	s.toBackup = s.toBackup[:0]
	return nil
}

// planLines are the plan's lines for the changes r would make: row, keys,
// property, current value, desired value, in update's input format.
func (s *scheduler) planLines(r *item, changes []graph.Change) [][]string {
	lines := make([][]string, len(changes))
	for i, c := range changes {
		line := append([]string{strconv.Itoa(r.num)}, r.keys...)
		lines[i] = append(line, c.Column, c.Cell(c.Current, s.cfg.NullToken), c.Cell(c.Desired, s.cfg.NullToken))
	}
	return lines
}

// TableWriter appends CSV records to a file; *csvio.Table is one.
type TableWriter interface {
	Write(record []string) error
	Sync() error
}

// Backup writes, before a row is written, the values Graph holds of what
// it changes, in update's input format for the same target, so that
// `update --in BACKUP` undoes the run. Each property of an entity is
// backed up once, with the value it had before graphbatch first changed
// it: a later row for the same entity, or a row sent again after a crash,
// adds only what is not backed up yet, so that restoring the file in its
// order brings every value back as it was. That costs about 16 bytes of
// memory per property backed up.
type Backup struct {
	w       TableWriter
	columns []string       // the backup file's header: keys, then the input's other columns
	index   map[string]int // column, in lower case → its place
	nkeys   int
	null    string
	seen    map[uint64]struct{} // entity and column pairs backed up
}

// NewBackup returns a Backup writing to w, whose header is columns: the
// key columns of the target, then (as in the input) @odata.type and the
// property columns. null is the null token.
func NewBackup(w TableWriter, columns []string, keys int, null string) *Backup {
	b := &Backup{w: w, columns: columns, index: make(map[string]int), nkeys: keys, null: null, seen: make(map[uint64]struct{})}
	for i, c := range columns {
		b.index[strings.ToLower(c)] = i
	}
	return b
}

// Seen notes a record an earlier run backed up (--resume), so that its
// values are not backed up again over it.
func (b *Backup) Seen(record []string) {
	if len(record) < b.nkeys {
		return
	}
	key := entityKey(record[:b.nkeys])
	for i := b.nkeys; i < len(record) && i < len(b.columns); i++ {
		if record[i] != "" && b.columns[i] != graph.TypeColumn {
			b.seen[pairHash(key, b.columns[i])] = struct{}{}
		}
	}
}

// current returns the values Graph holds (entity, as read; see
// graph.Values), or a problem: why those of what p sets cannot be backed
// up. The read's answer is not an entity, or leaves one out (a property
// of another type than the entity's), or one is a text no cell can hold
// (the null token itself).
func (b *Backup) current(p graph.Patch, entity []byte) (holds map[string]json.RawMessage, problem string) {
	holds, err := graph.Values(entity)
	if err != nil {
		return nil, "Graph's answer to the read is not an entity"
	}
	if prop := p.Unread(holds); prop != nil {
		return nil, "Graph's answer to the read has no " + prop.Name + " (is it a property of the entity's type?)"
	}
	for _, set := range p.Sets {
		if _, err := set.Prop.CellOf(holds[strings.ToLower(set.Prop.Name)], b.null); err != nil {
			return nil, err.Error()
		}
	}
	return holds, ""
}

// add writes the backup record of r, a row about to be written: for each
// column it sets that is not backed up yet, the value Graph holds
// (r.current).
func (b *Backup) add(r *item) error {
	rec := make([]string, len(b.columns))
	copy(rec, r.keys)
	any := false
	for _, set := range r.patch.Sets {
		h := pairHash(r.key, set.Prop.Name)
		if _, done := b.seen[h]; done {
			continue
		}
		i, ok := b.index[strings.ToLower(set.Prop.Name)]
		if !ok {
			return fmt.Errorf("backup: it has no column %s", set.Prop.Name)
		}
		rec[i] = set.Prop.Cell(r.current[strings.ToLower(set.Prop.Name)], b.null)
		b.seen[h] = struct{}{}
		any = true
	}
	if !any {
		return nil
	}
	if i, ok := b.index[strings.ToLower(graph.TypeColumn)]; ok {
		rec[i] = graph.TypeOf(r.current)
	}
	if err := b.w.Write(rec); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

// pairHash identifies an entity's column in Backup.seen; key is the
// entity's entityKey.
func pairHash(key, column string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(key))
	h.Write([]byte{0})
	h.Write([]byte(strings.ToLower(column)))
	return h.Sum64()
}
