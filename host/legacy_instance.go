package host

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"unicode/utf8"

	"github.com/bytecodealliance/wasmtime-go/v44"

	"github.com/driftless-dev/driftless/bindings"
)

// legacyInstance is one instance of a legacy plugin in a store of its own,
// guarded by a bindings.CoreGuard (fuel, timeout and context per execution)
// and capped by the store limiter (max_memory, one memory, a few tables).
type legacyInstance struct {
	rt    *legacyRuntime
	g     *bindings.CoreGuard
	inst  *wasmtime.Instance
	mem   *wasmtime.Memory
	funcs map[string]*bindings.CoreFunc

	// broken is the failure after which the instance may not be used again
	// (a trap, a limit, a malformed answer); nil while it is sound.
	broken error

	// State of the running execution, for host functions.
	ctx        context.Context
	fn         string     // the host function name of the execution ("tasks.execute")
	hostErr    error      // why a host function failed the running call
	memAtStart int64      // the memory's size when the execution began
	state      *callState // the execution's state transaction: &cs while it runs
	cs         callState
}

func (li *legacyInstance) usable() bool { return li.broken == nil }

func (li *legacyInstance) close() { li.g.Close() }

// newInstance instantiates the module in a new store. The start function
// and _initialize (WASI reactors) run under the plugin's limits.
func (rt *legacyRuntime) newInstance(ctx context.Context) (*legacyInstance, error) {
	l := rt.p.limits
	li := &legacyInstance{rt: rt, funcs: map[string]*bindings.CoreFunc{}}
	store := wasmtime.NewStoreWithData(rt.h.engine.Wasmtime(), li)
	store.Limiter(l.MaxMemory, storeMaxTableElements, legacyMaxInstances, legacyMaxTables, legacyMaxMemories)
	li.g = bindings.NewCoreGuard(store)
	if rt.imports.wasi {
		w := &bindings.WASIConfig{
			Stdout: &lineWriter{log: rt.p.log, stream: "stdout"},
			Stderr: &lineWriter{log: rt.p.log, stream: "stderr"},
		}
		for _, k := range sortedNames(l.Env) {
			w.Env = append(w.Env, [2]string{k, l.Env[k]})
		}
		for _, d := range l.Dirs {
			w.Dirs = append(w.Dirs, bindings.PreopenDir{HostPath: d.Host, GuestPath: d.Guest, ReadOnly: d.ReadOnly})
		}
		if err := li.g.SetWASI(w); err != nil {
			li.g.Close()
			return nil, err
		}
	}
	const fn = "instantiate"
	if err := li.g.Begin(ctx, bindings.CallLimits{Fuel: l.FuelLimit, Timeout: l.ExecutionTimeout}); err != nil {
		li.g.Close()
		return nil, limitError(rt.p.name, fn, l, err)
	}
	li.ctx, li.fn = ctx, fn
	// _initialize may use state: instantiation is a call of its own.
	li.state = rt.h.newCall(rt.p, fn, false)
	err := li.instantiate()
	li.g.End()
	li.ctx = nil
	err = li.state.end(err)
	li.state = nil
	if err != nil {
		li.g.Close()
		var he *Error
		if errors.As(err, &he) {
			return nil, err
		}
		return nil, limitError(rt.p.name, fn, l, err)
	}
	return li, nil
}

func (li *legacyInstance) instantiate() error {
	rt := li.rt
	store := li.g.Store()
	inst, err := rt.linker.Instantiate(store, rt.module)
	if err != nil {
		return li.g.Err("instantiate", err)
	}
	li.inst = inst
	if ext := inst.GetExport(store, "memory"); ext != nil {
		li.mem = ext.Memory()
	}
	if li.mem == nil {
		return fmt.Errorf("the module does not export its memory as \"memory\"")
	}
	// Every guest call refreshes the guard's view of the memory, which the
	// strings in and out are read and written through.
	li.g.Track(li.mem)
	if rt.exports.has["_initialize"] {
		f, err := li.export("_initialize")
		if err != nil {
			return err
		}
		if err := li.g.CallNoResult(f); err != nil {
			return li.guestError("_initialize", err)
		}
	}
	return nil
}

// export returns the function the module exports as name, one of the
// exports the host checked at load (anything else is not found), bound to
// the instance's guard when first used: a fresh instance pays for the
// functions its call uses, not for every export.
func (li *legacyInstance) export(name string) (*bindings.CoreFunc, error) {
	if f := li.funcs[name]; f != nil {
		return f, nil
	}
	var raw *wasmtime.Func
	if li.rt.exports.has[name] {
		raw = li.inst.GetFunc(li.g.Store(), name)
	}
	if raw == nil {
		return nil, &Error{Plugin: li.rt.p.name, Func: li.fn, Kind: KindNotFound, Msg: "the plugin does not export " + name}
	}
	f, err := li.g.Func(raw)
	if err != nil {
		return nil, &Error{Plugin: li.rt.p.name, Func: li.fn, Kind: KindLoad, Msg: fmt.Sprintf("export %s: %v", name, err)}
	}
	li.funcs[name] = f
	return f, nil
}

// run runs one execution (one call of the host's API, which may make
// several calls into the guest) under the plugin's limits, as one
// transaction on the plugin's state (committed when it succeeds). An
// instance whose execution failed with anything but an error the plugin
// reported is marked broken; a failed commit leaves it sound.
func (li *legacyInstance) run(ctx context.Context, fn string, body func() error) error {
	if li.broken != nil {
		return &bindings.InstanceTrappedError{Trap: li.broken}
	}
	l := li.rt.p.limits
	if err := li.g.Begin(ctx, bindings.CallLimits{Fuel: l.FuelLimit, Timeout: l.ExecutionTimeout}); err != nil {
		return err
	}
	li.ctx, li.fn, li.hostErr = ctx, fn, nil
	li.memAtStart = int64(len(li.g.Tracked()))
	li.cs = callState{h: li.rt.h, p: li.rt.p, fn: fn}
	li.state = &li.cs
	err := body()
	li.g.End()
	li.ctx, li.hostErr = nil, nil
	if err != nil && !isPluginError(err) {
		li.broken = err
	}
	err = li.state.end(err)
	li.state = nil
	return err
}

// badOutput is the error of a malformed answer of the plugin.
func (li *legacyInstance) badOutput(format string, args ...any) error {
	return &Error{Plugin: li.rt.p.name, Func: li.fn, Kind: KindBadOutput, Msg: fmt.Sprintf(format, args...)}
}

// invalidInput is the error of an input the legacy ABI cannot carry.
func (li *legacyInstance) invalidInput(format string, args ...any) error {
	return &Error{Plugin: li.rt.p.name, Func: li.fn, Kind: KindInvalidInput, Msg: fmt.Sprintf(format, args...)}
}

// call calls export with the strings args and returns the string it
// returns. Each argument is written into memory the plugin allocates, and
// deallocated after the call when the plugin exports deallocate.
func (li *legacyInstance) call(export string, args ...string) (string, error) {
	f, err := li.export(export)
	if err != nil {
		return "", err
	}
	// A failure on the way leaves the instance broken (it is discarded),
	// so only a call that went through deallocates its strings.
	var ptrs [bindings.MaxCoreArgs]int32
	for i, a := range args {
		p, err := li.put(a)
		if err != nil {
			return "", err
		}
		ptrs[i] = p
	}
	ret, err := li.g.Call(f, ptrs[:len(args)]...)
	if err != nil {
		return "", li.guestError(export, err)
	}
	out, err := li.read(export, ret)
	if err != nil {
		return "", err
	}
	if li.rt.exports.has["deallocate"] {
		d, err := li.export("deallocate")
		if err != nil {
			return "", err
		}
		for i, a := range args {
			if err := li.g.CallNoResult(d, ptrs[i], int32(len(a)+1)); err != nil {
				return "", li.guestError("deallocate", err)
			}
		}
	}
	return out, nil
}

// put writes s and its NUL into memory from allocate(len(s) + 1).
func (li *legacyInstance) put(s string) (int32, error) {
	if len(s) >= 1<<31-1 {
		return 0, li.invalidInput("a string of %d bytes is too long for the legacy ABI", len(s))
	}
	size := int32(len(s) + 1)
	alloc, err := li.export("allocate")
	if err != nil {
		return 0, err
	}
	p, err := li.g.Call(alloc, size)
	if err != nil {
		return 0, li.guestError("allocate", err)
	}
	mem := li.g.Tracked()
	ptr := uint32(p)
	switch {
	case ptr == 0:
		// An allocation that cannot fit under the cap, or an allocator
		// that gave up at it, is the memory limit.
		if int64(size) > li.rt.p.limits.MaxMemory-int64(len(mem)) || li.atMemoryCap(mem) {
			return 0, &bindings.Trap{Kind: bindings.TrapMemoryLimit,
				Message: fmt.Sprintf("allocate(%d) returned a null pointer with memory at %d bytes", size, len(mem))}
		}
		return 0, li.badOutput("allocate(%d) returned a null pointer", size)
	case uint64(ptr)+uint64(size) > uint64(len(mem)):
		return 0, li.badOutput("allocate(%d) returned a pointer %#x past the end of memory (%d bytes)", size, ptr, len(mem))
	}
	copy(mem[ptr:], s)
	mem[int(ptr)+len(s)] = 0
	return p, nil
}

// read copies the NUL-terminated UTF-8 string export returned at p.
func (li *legacyInstance) read(export string, p int32) (string, error) {
	mem := li.g.Tracked()
	s, err := cString(mem, uint32(p), li.rt.maxString)
	if err != nil {
		return "", li.badOutput("%s returned %v", export, err)
	}
	return s, nil
}

// cString reads the NUL-terminated UTF-8 string at p in mem, scanning at
// most max bytes for the NUL.
func cString(mem []byte, p uint32, max int) (string, error) {
	switch {
	case p == 0:
		return "", errors.New("a null pointer")
	case uint64(p) >= uint64(len(mem)):
		return "", fmt.Errorf("a pointer %#x past the end of memory (%d bytes)", p, len(mem))
	}
	window := mem[p:]
	bounded := false
	if len(window) > max {
		window, bounded = window[:max], true
	}
	end := bytes.IndexByte(window, 0)
	if end < 0 {
		if bounded {
			return "", fmt.Errorf("a string at %#x with no NUL within %d bytes (the host's bound)", p, max)
		}
		return "", fmt.Errorf("a string at %#x with no NUL before the end of memory (%d bytes)", p, len(mem))
	}
	b := window[:end]
	if !utf8.Valid(b) {
		i := 0
		for i < len(b) {
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			i += n
		}
		return "", fmt.Errorf("a string that is not valid UTF-8 (byte %#02x at offset %d)", b[i], i)
	}
	return string(b), nil
}

// guestError classifies the failure of a call into the guest: a host
// function's own error wins; a trap with the memory at its cap is the
// memory limit (memory.grow failed, and the guest crashed on it).
func (li *legacyInstance) guestError(export string, err error) error {
	if li.hostErr != nil {
		return li.hostErr
	}
	var trap *bindings.Trap
	if errors.As(err, &trap) {
		switch trap.Kind {
		case bindings.TrapUnreachable, bindings.TrapOutOfBounds, bindings.TrapOther:
			if li.mem != nil && li.atMemoryCap(li.g.Tracked()) {
				return &bindings.Trap{Kind: bindings.TrapMemoryLimit,
					Message: fmt.Sprintf("%s trapped (%s) with memory at %d bytes", export, trap.Message, len(li.g.Tracked())),
					Frames:  trap.Frames, OmittedFrames: trap.OmittedFrames}
			}
		}
	}
	return err
}

// atMemoryCap reports whether mem is at max_memory, as far as the host can
// tell, so that a trap there is taken for the guest crashing on a refused
// memory.grow (wasmtime refuses growth past the cap with -1, which C and
// Rust allocators turn into a null pointer or an abort). It is when less
// than a page is left, or when the memory grew during this execution and
// cannot double (allocators grow by at most doubling, so their next step
// would have been refused). The trap's own description stays in the error.
func (li *legacyInstance) atMemoryCap(mem []byte) bool {
	size := int64(len(mem))
	headroom := li.rt.p.limits.MaxMemory - size
	return headroom < wasmPage || (size > li.memAtStart && headroom < size)
}

// Host functions (env.host_log, env.host_get_timestamp). They run inside a
// guest call, find their instance through the store's data, and never
// panic into wasmtime: a failure is recorded as the call's error and the
// guest traps.

func callerInstance(c *wasmtime.Caller) *legacyInstance {
	li, _ := c.Data().(*legacyInstance)
	return li
}

// fail records err as the running call's error and traps the guest.
func (li *legacyInstance) fail(err error) *wasmtime.Trap {
	if li.hostErr == nil {
		li.hostErr = err
	}
	return wasmtime.NewTrap(err.Error())
}

func legacyHostLog(ptrLen bool) func(*wasmtime.Caller, []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
	return func(c *wasmtime.Caller, args []wasmtime.Val) (ret []wasmtime.Val, trap *wasmtime.Trap) {
		li := callerInstance(c)
		if li == nil {
			return nil, wasmtime.NewTrap("host_log: no plugin instance")
		}
		defer func() {
			if r := recover(); r != nil {
				ret, trap = nil, li.fail(li.badOutput("host_log panicked: %v", r))
			}
		}()
		ext := c.GetExport("memory")
		if ext == nil || ext.Memory() == nil {
			return nil, li.fail(li.badOutput("host_log: the module has no memory export"))
		}
		mem := ext.Memory().UnsafeData(c)
		var level, msg string
		var err error
		if ptrLen {
			level, err = lenString(mem, uint32(args[0].I32()), uint32(args[1].I32()), 64)
			if err == nil {
				msg, err = lenString(mem, uint32(args[2].I32()), uint32(args[3].I32()), li.rt.maxString)
			}
		} else {
			level, err = logCString(mem, uint32(args[0].I32()), 64)
			if err == nil {
				msg, err = logCString(mem, uint32(args[1].I32()), li.rt.maxString)
			}
		}
		if err != nil {
			return nil, li.fail(li.badOutput("host_log: %v", err))
		}
		ctx := li.ctx
		if ctx == nil {
			ctx = context.Background()
		}
		li.rt.p.log.log(ctx, legacyLevel(level), msg)
		return nil, nil
	}
}

// logCString reads a host_log argument: a NUL-terminated string whose bytes
// need not be UTF-8 (the log sanitizes them).
func logCString(mem []byte, p uint32, max int) (string, error) {
	switch {
	case p == 0:
		return "", errors.New("a null pointer")
	case uint64(p) >= uint64(len(mem)):
		return "", fmt.Errorf("a pointer %#x past the end of memory (%d bytes)", p, len(mem))
	}
	window := mem[p:]
	if len(window) > max {
		window = window[:max]
	}
	end := bytes.IndexByte(window, 0)
	if end < 0 {
		return "", fmt.Errorf("a string at %#x with no NUL within %d bytes", p, len(window))
	}
	return string(window[:end]), nil
}

// lenString reads a pointer/length string of host_log.
func lenString(mem []byte, p, n uint32, max int) (string, error) {
	switch {
	case uint64(n) > uint64(max):
		return "", fmt.Errorf("a string of %d bytes, more than the host's bound of %d", n, max)
	case uint64(p)+uint64(n) > uint64(len(mem)):
		return "", fmt.Errorf("a string at %#x of %d bytes past the end of memory (%d bytes)", p, n, len(mem))
	}
	return string(mem[p : p+n]), nil
}

func legacyLevel(s string) slog.Level {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "trace":
		return LevelTrace
	case "debug":
		return LevelDebug
	case "warn", "warning":
		return LevelWarn
	case "error", "err", "critical", "fatal":
		return LevelError
	}
	return LevelInfo
}

func legacyHostTimestamp(c *wasmtime.Caller, _ []wasmtime.Val) ([]wasmtime.Val, *wasmtime.Trap) {
	return []wasmtime.Val{wasmtime.ValI64(now().Unix())}, nil
}
