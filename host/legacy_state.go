package host

// The legacy ABI's state imports: env.host_state_get, host_state_set and
// host_state_delete give legacy plugins the store components get through
// driftless:plugin/state, with the ABI's string conventions (docs/legacy.md):
// keys and values are NUL-terminated UTF-8 strings in the module's memory;
// a string the host returns is written into memory from the module's
// allocate(len + 1), and the module owns it.

import (
	"bytes"
	"fmt"
	"unicode/utf8"

	"github.com/bytecodealliance/wasmtime-go/v44"

	"github.com/driftless-dev/driftless/pluginstate"
)

// legacyStateImports are the state functions with their types.
var legacyStateImports = map[string]string{
	"host_state_get":    "func(i32) -> i32",
	"host_state_set":    "func(i32, i32) -> i32",
	"host_state_delete": "func(i32)",
}

// The functions of env, as the import policy's errors list them.
const (
	legacyHostFuncs = "host_log, host_get_timestamp, host_state_get, host_state_set and host_state_delete"
	legacyEnvFuncs  = "env.host_log, env.host_get_timestamp, env.host_state_get, env.host_state_set, env.host_state_delete"
)

// linkState defines the state functions the module imports.
func (rt *legacyRuntime) linkState(l *wasmtime.Linker) error {
	i32 := wasmtime.NewValType(wasmtime.KindI32)
	for _, f := range []struct {
		name            string
		params, results []*wasmtime.ValType
		fn              func(*wasmtime.Caller, []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap)
	}{
		{"host_state_get", []*wasmtime.ValType{i32}, []*wasmtime.ValType{i32}, legacyStateGet},
		{"host_state_set", []*wasmtime.ValType{i32, i32}, []*wasmtime.ValType{i32}, legacyStateSet},
		{"host_state_delete", []*wasmtime.ValType{i32}, nil, legacyStateDelete},
	} {
		if !rt.imports.hostState[f.name] {
			continue
		}
		if err := l.FuncNew(legacyEnv, f.name, wasmtime.NewFuncType(f.params, f.results), f.fn); err != nil {
			return err
		}
	}
	return nil
}

// legacyStateCall runs a state function: it finds the instance and its
// call, reads the string arguments, and turns every failure into the
// call's error (the guest traps). body gets the transaction and the
// arguments.
func legacyStateCall(c *wasmtime.Caller, name string, args []wasmtime.Val,
	body func(li *legacyInstance, tx *pluginstate.Tx, strs []string) (int32, error)) ([]wasmtime.Val, *wasmtime.Trap) {
	li := callerInstance(c)
	if li == nil || li.state == nil {
		return nil, wasmtime.NewTrap(name + ": no plugin call is running")
	}
	cs := li.state
	ext := c.GetExport("memory")
	if ext == nil || ext.Memory() == nil {
		return nil, li.fail(li.badOutput("%s: the module has no memory export", name))
	}
	mem := ext.Memory().UnsafeData(c)
	strs := make([]string, len(args))
	for i, a := range args {
		s, err := cString(mem, uint32(a.I32()), li.rt.maxString)
		if err != nil {
			return nil, li.fail(li.badOutput("%s: argument %d is %v", name, i+1, err))
		}
		strs[i] = s
	}
	tx, err := cs.txn()
	if err != nil {
		return nil, li.fail(err)
	}
	ret, err := body(li, tx, strs)
	if err != nil {
		return nil, li.fail(err)
	}
	if name == "host_state_delete" {
		return nil, nil
	}
	return []wasmtime.Val{wasmtime.ValI32(ret)}, nil
}

// legacyStateGet is host_state_get(key) -> value: a pointer to the value,
// NUL-terminated, in memory from allocate; 0 when the key is not set.
func legacyStateGet(c *wasmtime.Caller, args []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
	return legacyStateCall(c, "host_state_get", args, func(li *legacyInstance, tx *pluginstate.Tx, s []string) (int32, error) {
		v, ok, err := tx.Get(s[0])
		if err != nil {
			return 0, li.state.fail(err)
		}
		if !ok {
			return 0, nil
		}
		if i := bytes.IndexByte(v, 0); i >= 0 {
			return 0, li.state.fail(fmt.Errorf("host_state_get: the value of key %q has a NUL byte at offset %d, which the legacy ABI cannot pass", s[0], i))
		}
		if !utf8.Valid(v) {
			return 0, li.state.fail(fmt.Errorf("host_state_get: the value of key %q is not UTF-8 text, which the legacy ABI cannot pass", s[0]))
		}
		return li.put(string(v))
	})
}

// legacyStateSet is host_state_set(key, value) -> status: 0 when stored;
// when a limit refuses it, a pointer to the reason, NUL-terminated, in
// memory from allocate (and nothing changes).
func legacyStateSet(c *wasmtime.Caller, args []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
	return legacyStateCall(c, "host_state_set", args, func(li *legacyInstance, tx *pluginstate.Tx, s []string) (int32, error) {
		if err := tx.Set(s[0], []byte(s[1])); err != nil {
			if pe := li.state.setError(err); isPluginError(pe) {
				return li.put(err.Error())
			}
			return 0, li.state.err
		}
		return 0, nil
	})
}

// legacyStateDelete is host_state_delete(key).
func legacyStateDelete(c *wasmtime.Caller, args []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
	return legacyStateCall(c, "host_state_delete", args, func(li *legacyInstance, tx *pluginstate.Tx, s []string) (int32, error) {
		if err := tx.Delete(s[0]); err != nil {
			return 0, li.state.fail(err)
		}
		return 0, nil
	})
}
