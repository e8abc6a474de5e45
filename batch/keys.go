package batch

import (
	"strings"
	"sync"
)

// entityKey identifies the Graph entity a row updates. Graph ids are
// case-insensitive, so keys are compared in lower case.
type entityKey struct{ policyID, id string }

func keyOf(policyID, id string) entityKey {
	// strings.ToLower returns a lower-case ASCII id itself, unallocated.
	return entityKey{strings.ToLower(policyID), strings.ToLower(id)}
}

// keyLocks keeps rows for one entity out of flight at the same time, in
// input order. The packer locks a row's key before putting it in an
// envelope; a row whose key is locked waits in line behind it. When a row
// finishes, the next row in its line inherits the lock and is handed back
// to the packer. It is safe for concurrent use.
type keyLocks struct {
	mu      sync.Mutex
	lines   map[entityKey][]*item // locked keys, each with the rows waiting behind the holder
	handoff []*item               // rows that inherited a lock, for the packer to take
	ready   chan struct{}         // signalled when handoff gains a row
}

func newKeyLocks() *keyLocks {
	return &keyLocks{lines: make(map[entityKey][]*item), ready: make(chan struct{}, 1)}
}

// lockOrQueue locks its key and returns true, or queues it behind the
// key's holder and returns false.
func (k *keyLocks) lockOrQueue(it *item) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	line, held := k.lines[it.key]
	if held {
		k.lines[it.key] = append(line, it)
		return false
	}
	k.lines[it.key] = nil
	return true
}

// unlock releases its key, passing it to the next row in line, if any.
func (k *keyLocks) unlock(it *item) {
	k.mu.Lock()
	defer k.mu.Unlock()
	line := k.lines[it.key]
	if len(line) == 0 {
		delete(k.lines, it.key)
		return
	}
	k.lines[it.key] = line[1:]
	k.handoff = append(k.handoff, line[0])
	select {
	case k.ready <- struct{}{}:
	default:
	}
}

// takeHandoff returns the rows that inherited a lock since the last call.
func (k *keyLocks) takeHandoff() []*item {
	k.mu.Lock()
	defer k.mu.Unlock()
	h := k.handoff
	k.handoff = nil
	return h
}
