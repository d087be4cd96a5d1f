package host

// Plugin state: the host side of driftless:plugin/state (and of the legacy
// ABI's env.host_state_* imports). The store itself is package
// pluginstate; this file opens it for the plugin home, runs every call
// into a plugin as one of its transactions, and turns its errors into the
// host's.

import (
	"context"
	"errors"

	"github.com/driftless-dev/driftless/gen/driftless/plugin/types"
	"github.com/driftless-dev/driftless/pluginstate"
)

// StateFile is the name of the state database in a plugin home's state
// directory (HomeOptions).
const StateFile = "state.db"

// ErrNoState is the error of a host without a state store
// (Options.StatePath and Options.State unset, as in the zero Options) when
// state is asked for: a plugin's call that uses state fails with it.
var ErrNoState = errors.New("this host keeps no plugin state: give it a state store (Options.StatePath, or Options.State; HomeOptions sets StatePath)")

// StatePath returns the state database: Options.StatePath, or the path of
// Options.State; "" when the host has no state store.
func (h *Host) StatePath() string {
	h.stateMu.Lock()
	defer h.stateMu.Unlock()
	if h.state != nil {
		return h.state.Path()
	}
	return h.statePath
}

// State returns the host's state store: Options.State, or the database
// at Options.StatePath, opened (and created) on first use. It fails with
// ErrNoState when the host has none, and with a *pluginstate.Error naming
// the file when the database cannot be opened (corrupt, locked, not a
// regular file); a later call tries again.
func (h *Host) State() (*pluginstate.Store, error) {
	h.stateMu.Lock()
	defer h.stateMu.Unlock()
	if h.stateClosed {
		return nil, errors.New("host: State called after Close")
	}
	if h.state != nil {
		return h.state, nil
	}
	if h.statePath == "" {
		return nil, ErrNoState
	}
	s, err := pluginstate.Open(h.statePath, pluginstate.Options{BusyTimeout: h.stateBusy})
	if err != nil {
		return nil, err
	}
	h.state, h.stateOwned = s, true
	return s, nil
}

// closeState closes the store, if the host opened it.
func (h *Host) closeState() {
	h.stateMu.Lock()
	defer h.stateMu.Unlock()
	h.stateClosed = true
	if h.state != nil && h.stateOwned {
		if err := h.state.Close(); err != nil {
			h.logger.Warn("closing the state database", "error", err)
		}
	}
	h.state = nil
}

// callState is the state transaction of one call into a plugin: begun on
// the call's first use of the store, committed when the call succeeds
// (not in check mode), rolled back otherwise.
type callState struct {
	h     *Host
	p     *Plugin
	fn    string
	check bool
	tx    *pluginstate.Tx
	// err is a failure of the store during the call (a host function
	// could not read or write): it fails the call, whatever the plugin
	// made of it.
	err error
}

func (h *Host) newCall(p *Plugin, fn string, check bool) *callState {
	return &callState{h: h, p: p, fn: fn, check: check}
}

// txn returns the call's transaction, beginning it on first use.
func (cs *callState) txn() (*pluginstate.Tx, error) {
	if cs.err != nil {
		return nil, cs.err
	}
	if cs.tx == nil {
		s, err := cs.h.State()
		if err != nil {
			return nil, cs.fail(err)
		}
		cs.tx = s.Begin(cs.p.name, cs.p.limits.StateLimits())
	}
	return cs.tx, nil
}

// fail records a failure of the store as the call's error.
func (cs *callState) fail(err error) error {
	if cs.err == nil {
		cs.err = cs.p.stateError(cs.fn, err)
	}
	return cs.err
}

// end ends the call's transaction and returns the call's error: the
// store's failure if there was one, else callErr, else the commit's.
func (cs *callState) end(callErr error) error {
	if cs.tx == nil {
		if cs.err != nil {
			return cs.err
		}
		return callErr
	}
	if cs.err != nil || callErr != nil || cs.check {
		cs.tx.Rollback()
		if cs.err != nil {
			return cs.err
		}
		return callErr
	}
	if err := cs.tx.Commit(); err != nil {
		return cs.p.stateError(cs.fn, err)
	}
	return nil
}

// stateError makes a store failure the host's *Error of the call fn:
// KindStateConflict for a commit that conflicted, KindState for the rest.
func (p *Plugin) stateError(fn string, err error) error {
	var he *Error
	if errors.As(err, &he) {
		if he.Plugin == "" {
			e := *he
			e.Plugin, e.Func = p.name, fn
			return &e
		}
		return err
	}
	var ce *pluginstate.ConflictError
	if errors.As(err, &ce) {
		return &Error{Plugin: p.name, Func: fn, Kind: KindStateConflict,
			Msg: err.Error() + "; the call's writes were discarded: run it again", Err: err}
	}
	return &Error{Plugin: p.name, Func: fn, Kind: KindState, Msg: err.Error(), Err: err}
}

// stateFailure is what a state host function panics with when the store
// failed: the panic traps the guest, and the call's error is the failure
// recorded in its callState.
type stateFailure struct{ err error }

func (f stateFailure) String() string { return f.err.Error() }

// noCall is the failure of a state function called outside a call into
// the plugin, which cannot happen: instantiation and every call run with
// a callState.
var noCall = errors.New("driftless:plugin/state called outside a call into the plugin")

// componentCall returns the callState of the call running in the store of
// ctx.
func componentCall(ctx context.Context) *callState {
	if st, ok := storeState(ctx); ok {
		return st.call
	}
	return nil
}

// stateImports implements driftless:plugin/state for components.
type stateImports struct{}

func (stateImports) tx(ctx context.Context) (*callState, *pluginstate.Tx) {
	cs := componentCall(ctx)
	if cs == nil {
		panic(noCall)
	}
	tx, err := cs.txn()
	if err != nil {
		panic(stateFailure{err})
	}
	return cs, tx
}

func (s stateImports) Get(ctx context.Context, key string) *[]uint8 {
	cs, tx := s.tx(ctx)
	v, ok, err := tx.Get(key)
	if err != nil {
		panic(stateFailure{cs.fail(err)})
	}
	if !ok {
		return nil
	}
	return &v
}

func (s stateImports) Set(ctx context.Context, key string, value []uint8) error {
	cs, tx := s.tx(ctx)
	if err := tx.Set(key, value); err != nil {
		return cs.setError(err)
	}
	return nil
}

func (s stateImports) Delete(ctx context.Context, key string) {
	cs, tx := s.tx(ctx)
	if err := tx.Delete(key); err != nil {
		panic(stateFailure{cs.fail(err)})
	}
}

func (s stateImports) Keys(ctx context.Context, prefix string, startAfter *string, limit uint32) []string {
	cs, tx := s.tx(ctx)
	keys, err := tx.Keys(prefix, startAfter, int(min(limit, pluginstate.MaxPage)))
	if err != nil {
		panic(stateFailure{cs.fail(err)})
	}
	return keys
}

// setError is what set answers for err: a limit is the plugin's to handle
// (a plugin-error of kind failed); a store failure fails the call.
func (cs *callState) setError(err error) error {
	var le *pluginstate.LimitError
	if errors.As(err, &le) {
		return &types.PluginError{Kind: types.ErrorKindFailed, Message: le.Error()}
	}
	return cs.fail(err)
}
