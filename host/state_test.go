package host

import (
	"context"
	"testing"
)

// A component may import driftless:plugin/state, with the contract's
// types only.
func TestStateImport(t *testing.T) {
	h, _ := testHost(t, "", false)
	p := load(t, h, fixture{name: "stateful"}.withState(""))
	echo(t, p, "1")
	_, err := h.LoadBytes(context.Background(), "mistyped", fixture{name: "mistyped"}.withState(mistypedState).wasm(t))
	wantError(t, err, KindLoad, "plugin mistyped: load: function driftless:plugin/state@0.1.0#get has type (string)->option<string>, "+
		"but the bindings expect (string)->option<list<u8>>")
}
