package batch

import (
	"context"
	"time"
)

// maxQueued bounds the rows held back behind a busy key, so that a file
// repeating one entity many times cannot grow memory without end: past it,
// reading pauses until the line moves.
const maxQueued = 10000

// linger is how long a partly filled envelope waits for more rows before
// it is sent anyway. Rows arrive from the reader far faster than this, so
// envelopes are full unless the input itself is slow (a pipe) or ending.
const linger = 5 * time.Millisecond

// pack groups items into envelopes of at most BatchSize and hands each to
// a free worker. Items for an entity already in flight, or already in the
// envelope being packed, wait in line (see keyLocks) and are packed when
// the row ahead of them has its outcome. It stops, without error, when ctx
// is done.
func (p *pipeline) pack(ctx context.Context, items <-chan []*item, envelopes chan<- []*item) error {
	defer close(envelopes)
	size := p.cfg.BatchSize
	var (
		env, handedBack []*item
		incoming        []*item          // the rest of the chunk last received
		queued          int              // rows waiting behind a busy key, not yet handed back
		lingerC         <-chan time.Time // while env has rows: fires when it has waited long enough, then nil
	)
	addLocked := func(it *item) {
		if len(env) == 0 {
			lingerC = time.After(linger)
		}
		env = append(env, it)
	}
	room := func() bool { return len(env) < size && queued < maxQueued }
	for {
		for len(handedBack) > 0 && len(env) < size {
			addLocked(handedBack[0]) // the lock passed to it from the row ahead
			handedBack = handedBack[1:]
		}
		for len(incoming) > 0 && room() {
			if it := incoming[0]; p.locks.lockOrQueue(it) {
				addLocked(it)
			} else {
				queued++
			}
			incoming = incoming[1:]
		}
		if len(incoming) == 0 && room() && items != nil {
			if chunk, ok, got := receiveNow(items); got { // more rows ready: pack them first
				if !ok {
					items = nil
				}
				incoming = chunk
				continue
			}
		}
		if items == nil && queued == 0 && len(handedBack) == 0 && len(env) == 0 && len(incoming) == 0 {
			return nil
		}
		if ctx.Err() != nil { // stopped: hand no more envelopes out, though one may be ready
			return nil
		}
		var out chan<- []*item
		if len(env) == size || (len(env) > 0 && (lingerC == nil || items == nil)) {
			out = envelopes
		}
		var in <-chan []*item
		if len(incoming) == 0 && room() {
			in = items
		}
		select {
		case out <- env:
			env, lingerC = nil, nil
		case chunk, ok := <-in:
			if !ok {
				items = nil
			}
			incoming = chunk
		case <-lingerC:
			lingerC = nil
		case <-p.locks.ready:
			h := p.locks.takeHandoff()
			handedBack = append(handedBack, h...)
			queued -= len(h)
		case <-ctx.Done():
			return nil
		}
	}
}

// receiveNow receives from items if a chunk is ready: got says whether
// anything happened, ok whether items is still open.
func receiveNow(items <-chan []*item) (chunk []*item, ok, got bool) {
	select {
	case chunk, ok = <-items:
		return chunk, ok, true
	default:
		return nil, true, false
	}
}
