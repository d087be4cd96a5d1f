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
// A pool is safe for concurrent use; taking and giving back an instance
// costs one lock each when no caller has to wait.
//
// Instances come in variants (a plain one, and one whose WASI directories
// are all read-only for check mode): a caller asks for the variant it
// needs, and the max bound holds for all variants together.
type pool[I instance] struct {
	create   func(ctx context.Context, v variant) (I, error)
	max      int
	maxCalls int

	mu      sync.Mutex
	idle    [numVariants][]*pooled[I]
	busy    int           // instances in use or being created
	waiting int           // callers waiting for busy to drop below max
	freed   chan struct{} // closed (and replaced) when busy drops while callers wait
	closed  bool
}

type pooled[I instance] struct {
	inst    I
	calls   int
	variant variant
}

// variant is a kind of instance of one plugin.
type variant uint8

const (
	// variantPlain instances have what plugins.toml grants.
	variantPlain variant = iota
	// variantReadOnly instances see every granted directory read-only:
	// they run tasks in check mode, so that a plugin that ignores check
	// mode still changes no file.
	variantReadOnly
	numVariants
)

func newPool[I instance](max, maxCalls int, create func(context.Context, variant) (I, error)) *pool[I] {
	return &pool[I]{create: create, max: max, maxCalls: maxCalls, freed: make(chan struct{})}
}

// errPoolClosed is returned by get after close.
var errPoolClosed = &Error{Kind: KindFailed, Msg: "plugin was unloaded"}

// get returns an idle instance of variant v or creates one. It waits while
// max instances are in use, until ctx ends.
func (p *pool[I]) get(ctx context.Context, v variant) (*pooled[I], error) {
	for {
		pi, ok, err := p.tryGet(ctx, v)
		if ok || err != nil {
			return pi, err
		}
		p.mu.Lock()
		if p.busy < p.max || p.closed {
			p.mu.Unlock()
			continue
		}
		freed := p.freed
		p.waiting++
		p.mu.Unlock()
		select {
		case <-freed:
		case <-ctx.Done():
		}
		p.mu.Lock()
		p.waiting--
		p.mu.Unlock()
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
}

// tryGet is get without waiting: ok is false when max instances are in use.
func (p *pool[I]) tryGet(ctx context.Context, v variant) (pi *pooled[I], ok bool, err error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, false, errPoolClosed
	}
	if p.busy >= p.max {
		p.mu.Unlock()
		return nil, false, nil
	}
	p.busy++
	if n := len(p.idle[v]); n > 0 {
		pi = p.idle[v][n-1]
		p.idle[v] = p.idle[v][:n-1]
		p.mu.Unlock()
		return pi, true, nil
	}
	// A new instance must not make more than max exist: make room by
	// closing an idle one of another variant.
	var evict []*pooled[I]
	for o := range p.idle {
		for n := len(p.idle[o]); n > 0 && p.busy+p.idleCount() > p.max; n-- {
			evict = append(evict, p.idle[o][n-1])
			p.idle[o] = p.idle[o][:n-1]
		}
	}
	p.mu.Unlock()
	for _, e := range evict {
		e.inst.close()
	}
	inst, err := p.create(ctx, v)
	if err != nil {
		p.release(nil)
		return nil, true, err
	}
	return &pooled[I]{inst: inst, variant: v}, true, nil
}

// idleCount is the number of idle instances of every variant; p.mu is held.
func (p *pool[I]) idleCount() int {
	n := 0
	for _, l := range p.idle {
		n += len(l)
	}
	return n
}

// put gives an instance back after a call; unusable or worn-out instances
// are closed instead of kept.
func (p *pool[I]) put(pi *pooled[I]) {
	pi.calls++
	if pi.inst.usable() && pi.calls < p.maxCalls {
		if !p.release(pi) {
			pi.inst.close() // the pool was closed meanwhile
		}
		return
	}
	// Closed before its place is given up: never more than max instances.
	pi.inst.close()
	p.release(nil)
}

// release ends the use of an instance, keeping pi (if not nil) idle unless
// the pool is closed; it reports whether pi was kept.
func (p *pool[I]) release(pi *pooled[I]) (kept bool) {
	p.mu.Lock()
	if pi != nil && !p.closed {
		p.idle[pi.variant] = append(p.idle[pi.variant], pi)
		kept = true
	}
	p.busy--
	if p.waiting > 0 {
		close(p.freed)
		p.freed = make(chan struct{})
	}
	p.mu.Unlock()
	return kept
}

// close closes the idle instances; instances in use are closed when put
// back.
func (p *pool[I]) close() {
	p.mu.Lock()
	p.closed = true
	var idle []*pooled[I]
	for v := range p.idle {
		idle = append(idle, p.idle[v]...)
		p.idle[v] = nil
	}
	if p.waiting > 0 { // they get errPoolClosed
		close(p.freed)
		p.freed = make(chan struct{})
	}
	p.mu.Unlock()
	for _, pi := range idle {
		pi.inst.close()
	}
}

// inUse returns the number of instances in use, for tests.
func (p *pool[I]) inUse() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.busy
}

// size returns the number of idle instances, for tests.
func (p *pool[I]) size() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.idleCount()
}
