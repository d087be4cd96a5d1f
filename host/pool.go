package host

import (
	"context"
	"sync"
)

// instance is one live instance of a plugin, with its own store: the unit
// the pool hands out. Implementations: componentInstance, legacyInstance.
type instance interface {
	// usable reports whether the instance may serve another call: false
	// after a trap or a limit, whose state the host cannot trust.
	usable() bool
	close()
}

// pool keeps reusable instances of one plugin. At most max instances exist
// at once; a caller waits (bounded by its context) for one to come free.
// An instance is recycled after a trap or limit, and after maxCalls calls,
// so that no guest state grows forever and no broken instance is reused.
// A pool is safe for concurrent use.
type pool[I instance] struct {
	create   func(ctx context.Context) (I, error)
	maxCalls int

	tokens chan struct{} // one per instance in use or being created
	mu     sync.Mutex
	idle   []*pooled[I]
	closed bool
}

type pooled[I instance] struct {
	inst  I
	calls int
}

func newPool[I instance](max, maxCalls int, create func(context.Context) (I, error)) *pool[I] {
	return &pool[I]{create: create, maxCalls: maxCalls, tokens: make(chan struct{}, max)}
}

// errPoolClosed is returned by get after close.
var errPoolClosed = &Error{Kind: KindFailed, Msg: "plugin was unloaded"}

// get returns an idle instance or creates one. It waits while max
// instances are in use, until ctx ends.
func (p *pool[I]) get(ctx context.Context) (*pooled[I], error) {
	select {
	case p.tokens <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return p.take(ctx)
}

// tryGet is get without waiting: ok is false when max instances are in use.
func (p *pool[I]) tryGet(ctx context.Context) (pi *pooled[I], ok bool, err error) {
	select {
	case p.tokens <- struct{}{}:
	default:
		return nil, false, nil
	}
	pi, err = p.take(ctx)
	return pi, true, err
}

// take returns an idle instance or creates one; the caller holds a token,
// which take gives back on failure.
func (p *pool[I]) take(ctx context.Context) (*pooled[I], error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		<-p.tokens
		return nil, errPoolClosed
	}
	if n := len(p.idle); n > 0 {
		pi := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return pi, nil
	}
	p.mu.Unlock()
	inst, err := p.create(ctx)
	if err != nil {
		<-p.tokens
		return nil, err
	}
	return &pooled[I]{inst: inst}, nil
}

// put gives an instance back after a call; unusable or worn-out instances
// are closed instead of kept.
func (p *pool[I]) put(pi *pooled[I]) {
	pi.calls++
	keep := pi.inst.usable() && pi.calls < p.maxCalls
	p.mu.Lock()
	if keep && !p.closed {
		p.idle = append(p.idle, pi)
		keep = true
	} else {
		keep = false
	}
	p.mu.Unlock()
	if !keep {
		pi.inst.close()
	}
	<-p.tokens
}

// close closes the idle instances; instances in use are closed when put
// back.
func (p *pool[I]) close() {
	p.mu.Lock()
	p.closed = true
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, pi := range idle {
		pi.inst.close()
	}
}

// size returns the number of idle instances, for tests.
func (p *pool[I]) size() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.idle)
}
