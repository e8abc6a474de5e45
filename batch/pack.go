package batch

import "context"

// maxQueued bounds the rows held back behind a busy key, so that a file
// repeating one entity many times cannot grow memory without end: past it,
// reading pauses until the line moves.
const maxQueued = 10000

// pack groups items into envelopes of at most BatchSize and hands each to
// a free worker. Items for an entity already in flight, or already in the
// envelope being packed, wait in line (see keyLocks) and are packed when
// the row ahead of them has its outcome. An envelope is handed over as soon
// as a worker is free, full or not, so no row waits for others to arrive.
func (p *pipeline) pack(ctx context.Context, items <-chan *item, envelopes chan<- []*item) error {
	defer close(envelopes)
	size := p.cfg.BatchSize
	var env, handedBack []*item
	queued := 0 // rows waiting behind a busy key, not yet handed back
	add := func(it *item) {
		if p.locks.lockOrQueue(it) {
			env = append(env, it)
		} else {
			queued++
		}
	}
	for {
		for len(env) < size && len(handedBack) > 0 {
			env, handedBack = append(env, handedBack[0]), handedBack[1:]
		}
		items = fillNow(items, func() bool { return len(env) < size && queued < maxQueued }, add)
		if items == nil && queued == 0 && len(handedBack) == 0 && len(env) == 0 {
			return nil
		}
		var out chan<- []*item
		if len(env) > 0 {
			out = envelopes
		}
		var in <-chan *item
		if len(env) < size && queued < maxQueued {
			in = items
		}
		select {
		case out <- env:
			env = nil
		case it, ok := <-in:
			if !ok {
				items = nil
				continue
			}
			add(it)
		case <-p.locks.ready:
			h := p.locks.takeHandoff()
			handedBack = append(handedBack, h...)
			queued -= len(h)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// fillNow takes items that are ready without waiting, while room says there
// is room. It returns nil once items is closed.
func fillNow(items <-chan *item, room func() bool, add func(*item)) <-chan *item {
	for items != nil && room() {
		select {
		case it, ok := <-items:
			if !ok {
				return nil
			}
			add(it)
		default:
			return items
		}
	}
	return items
}
