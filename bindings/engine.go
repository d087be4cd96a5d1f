// Package bindings makes wasmtime's component-model C API usable from Go.
//
// wasmtime-go (github.com/bytecodealliance/wasmtime-go/v44) runs core
// WebAssembly modules but has no component model in its Go API. The static
// library it links does contain wasmtime's whole component C API; this package
// calls it through cgo and gives it a Go shape: an Engine shared with
// wasmtime-go, Components, a Linker with Go host functions and WASI p2,
// Stores with enforced limits, Instances, Funcs called with a Go value model
// (Val), Resources, type reflection, and typed errors.
//
// Everything above this package is plain Go; cgo stays here.
//
// Safety rules this package enforces so that no guest and no caller mistake
// can crash the process: strings and chars are validated before they reach
// C (wasmtime's C API aborts on invalid UTF-8), a Go panic in a host function
// becomes a trap, function types containing async types the C API cannot
// convert are refused before any call, and every C object has exactly one
// owner that frees it.
package bindings

// #include "shim.h"
import "C"

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/bytecodealliance/wasmtime-go/v44"
)

// WasmtimeVersion is the version of wasmtime this package runs: that of the
// wasmtime-go module in go.mod (TestWasmtimeVersion pins it). Code compiled
// and serialized by one version of wasmtime cannot be loaded by another, so
// caches of compiled code key their entries with it.
const WasmtimeVersion = "44.0.0"

// EngineConfig configures an Engine. The zero value is a usable engine
// without fuel, without epoch interruption and with on-demand allocation.
type EngineConfig struct {
	// ConsumeFuel makes guests consume fuel; each call then runs with the
	// fuel of its store's CallLimits.
	ConsumeFuel bool

	// EpochInterruption lets calls be interrupted by deadline or context
	// cancellation. The engine then runs one ticker goroutine that advances
	// the epoch every EpochTick (default 10ms) until Close.
	EpochInterruption bool
	EpochTick         time.Duration

	// MaxWasmStack is the maximum stack, in bytes, wasm code may use before
	// it traps with a stack overflow. 0 keeps wasmtime's default (512 KiB);
	// at most 2 MiB.
	MaxWasmStack int

	// PoolingAllocator preallocates instance slots, memories and stacks, which
	// makes instantiation cheaper at the cost of reserved address space.
	// The Pooling fields size the pools; zeros keep wasmtime's defaults.
	// Every memory slot must hold a memory of Pooling.MaxMemorySize
	// (default 4 GiB) within MemoryReservation, the pools must fit in 64 TiB
	// of address space, and there may be at most 16,384 stacks: NewEngine
	// refuses other configurations (wasmtime would abort the process).
	PoolingAllocator bool
	Pooling          PoolingConfig

	// MemoryReservation is the address space, in bytes, reserved up front
	// for each linear memory; 0 keeps wasmtime's default (4 GiB on 64-bit
	// hosts). With the default reservation and guard, compiled code needs
	// no bounds checks, but every live instance holds over 4 GiB of address
	// space: a process with many instances, or under an address-space limit
	// (RLIMIT_AS), may run out of it, and wasmtime then fails to
	// instantiate, or aborts the process when one of its own allocations
	// fails. A smaller reservation makes accesses bounds-checked and lets a
	// memory move when it grows past it; it does not limit how far a memory
	// may grow (StoreOptions.Limits does).
	MemoryReservation uint64

	// MemoryGuardSize is the size, in bytes, of the inaccessible region
	// after each linear memory; 0 keeps wasmtime's default (32 MiB).
	MemoryGuardSize uint64

	// DisableMemoryInitCOW turns off copy-on-write initialisation of linear
	// memories (on by default in wasmtime).
	DisableMemoryInitCOW bool

	// CraneliftOptLevel, if set, is "none", "speed" or "speed_and_size".
	CraneliftOptLevel string

	// DisableSignalsBasedTraps makes compiled code check memory bounds and
	// other trap conditions explicitly instead of relying on guard pages
	// and signal handlers (SIGSEGV, SIGILL, SIGFPE). Code runs somewhat
	// slower; use it where wasmtime cannot own those signals, e.g. under
	// valgrind (see docs/bindings.md). Traps are reported the same way.
	DisableSignalsBasedTraps bool

	// features, if set, configures the wasmtime-go Config further (the
	// package's tests enable proposals wasmtime leaves off).
	features func(*wasmtime.Config)
}

// noSignalsForTests makes every engine run without signal-based traps and
// without large memory reservations. Only the package's tests set it (from
// DRIFTLESS_BINDINGS_NO_SIGNALS=1), to run under valgrind.
var noSignalsForTests bool

// PoolingConfig sizes the pooling allocator. Zero fields keep wasmtime's
// defaults.
type PoolingConfig struct {
	TotalComponentInstances uint32
	TotalCoreInstances      uint32
	TotalMemories           uint32
	TotalTables             uint32
	TotalStacks             uint32
	MaxMemorySize           uint64 // bytes per linear memory
	MaxMemoriesPerComponent uint32
	MaxCoreInstancesPerComp uint32
	MaxTablesPerComponent   uint32
	MaxComponentInstanceSz  uint64
	MaxCoreInstanceSize     uint64
	TableElements           uint64
}

// Engine compiles and runs WebAssembly. It wraps a *wasmtime.Engine, so core
// modules (through wasmtime-go's API) and components (through this package)
// can share one engine, one compile configuration and one epoch.
//
// An Engine is safe for concurrent use.
type Engine struct {
	wt     *wasmtime.Engine
	ptr    *C.wasm_engine_t
	config EngineConfig

	stopOnce sync.Once
	stop     chan struct{}
	done     chan struct{}
}

// NewEngine creates an engine from cfg.
func NewEngine(cfg EngineConfig) (*Engine, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	wc := wasmtime.NewConfig()
	wc.SetConsumeFuel(cfg.ConsumeFuel)
	wc.SetEpochInterruption(cfg.EpochInterruption)
	if cfg.MaxWasmStack > 0 {
		wc.SetMaxWasmStack(cfg.MaxWasmStack)
	}
	wc.SetMemoryInitCOWSet(!cfg.DisableMemoryInitCOW)
	switch cfg.CraneliftOptLevel {
	case "":
	case "none":
		wc.SetCraneliftOptLevel(wasmtime.OptLevelNone)
	case "speed":
		wc.SetCraneliftOptLevel(wasmtime.OptLevelSpeed)
	case "speed_and_size":
		wc.SetCraneliftOptLevel(wasmtime.OptLevelSpeedAndSize)
	default:
		return nil, fmt.Errorf("bindings: CraneliftOptLevel %q is not one of none, speed, speed_and_size", cfg.CraneliftOptLevel)
	}
	if cfg.features != nil {
		cfg.features(wc)
	}
	cptr := configPtr(wc)
	C.wasmtime_config_wasm_component_model_set(cptr, true)
	if cfg.DisableSignalsBasedTraps || noSignalsForTests {
		C.wasmtime_config_signals_based_traps_set(cptr, false)
	}
	if noSignalsForTests {
		// Under valgrind the address space is too small for wasmtime's
		// default 4 GiB reservation per memory; explicit bounds checks
		// need neither the reservation nor guard pages.
		C.wasmtime_config_memory_reservation_set(cptr, 0)
		C.wasmtime_config_memory_guard_size_set(cptr, 0)
	} else {
		if cfg.MemoryReservation > 0 {
			C.wasmtime_config_memory_reservation_set(cptr, C.uint64_t(cfg.MemoryReservation))
		}
		if cfg.MemoryGuardSize > 0 {
			C.wasmtime_config_memory_guard_size_set(cptr, C.uint64_t(cfg.MemoryGuardSize))
		}
	}
	if cfg.PoolingAllocator {
		p := C.wasmtime_pooling_allocation_config_new()
		setPooling(p, cfg.Pooling)
		C.wasmtime_pooling_allocation_strategy_set(cptr, p)
		C.wasmtime_pooling_allocation_config_delete(p)
	}
	wt := wasmtime.NewEngineWithConfig(wc)
	e := &Engine{
		wt:     wt,
		ptr:    enginePtr(wt),
		config: cfg,
	}
	if cfg.EpochInterruption {
		if e.config.EpochTick <= 0 {
			e.config.EpochTick = 10 * time.Millisecond
		}
		e.stop = make(chan struct{})
		e.done = make(chan struct{})
		go e.tick()
	}
	return e, nil
}

// What wasmtime 44 assumes when a setting is left at zero, and the bounds
// validate keeps configurations within.
const (
	wasmtimeAsyncStackSize     = 2 << 20  // Config::async_stack_size
	wasmtimeMemoryReservation  = 4 << 30  // Config::memory_reservation, 64-bit hosts
	wasmtimeMemoryGuard        = 32 << 20 // Config::memory_guard_size
	wasmtimePoolMaxMemorySize  = 4 << 30  // PoolingAllocationConfig::max_memory_size
	wasmtimePoolTotal          = 1000     // total_memories, total_tables, total_stacks
	wasmtimePoolTableElements  = 20000    // table_elements
	poolAddressSpace           = 64 << 40 // half of a 47-bit user address space
	poolMaxStacks              = 16384    // each stack's guard page is a mapping of its own
	wasmtimePoolTableEntrySize = 16       // bytes reserved per table element, rounded up
)

// validate refuses what wasmtime would refuse by aborting the process:
// wasm_engine_new_with_config unwraps wasmtime's configuration error
// (TestEngineConfigRefused makes each of these abort-worthy configurations
// and gets an error).
func (cfg EngineConfig) validate() error {
	if cfg.MaxWasmStack < 0 {
		return fmt.Errorf("bindings: MaxWasmStack %d is negative", cfg.MaxWasmStack)
	}
	if cfg.MaxWasmStack > wasmtimeAsyncStackSize {
		return fmt.Errorf("bindings: MaxWasmStack %d is above %d bytes, the stack wasmtime gives guests", cfg.MaxWasmStack, wasmtimeAsyncStackSize)
	}
	if !cfg.PoolingAllocator {
		return nil
	}
	reservation, guard := uint64(wasmtimeMemoryReservation), uint64(wasmtimeMemoryGuard)
	if noSignalsForTests {
		reservation, guard = 0, 0 // as NewEngine sets them
	} else {
		if cfg.MemoryReservation > 0 {
			reservation = cfg.MemoryReservation
		}
		if cfg.MemoryGuardSize > 0 {
			guard = cfg.MemoryGuardSize
		}
	}
	p := cfg.Pooling
	or := func(v, def uint64) uint64 {
		if v == 0 {
			return def
		}
		return v
	}
	maxMemory := or(p.MaxMemorySize, wasmtimePoolMaxMemorySize)
	if maxMemory > reservation {
		return fmt.Errorf("bindings: the pooling allocator's Pooling.MaxMemorySize (%d bytes) exceeds the memory reservation (%d bytes): each pool slot must hold a whole memory", maxMemory, reservation)
	}
	stacks := or(uint64(p.TotalStacks), wasmtimePoolTotal)
	if stacks > poolMaxStacks {
		return fmt.Errorf("bindings: Pooling.TotalStacks %d is above %d", stacks, poolMaxStacks)
	}
	// The pools are reserved up front: what they take must fit the
	// address space. (Saturating: the fields are large enough to overflow.)
	mul := func(a, b uint64) uint64 {
		if a != 0 && b > ^uint64(0)/a {
			return ^uint64(0)
		}
		return a * b
	}
	add := func(a, b uint64) uint64 {
		if a > ^uint64(0)-b {
			return ^uint64(0)
		}
		return a + b
	}
	memories := mul(or(uint64(p.TotalMemories), wasmtimePoolTotal), add(reservation, guard))
	tables := mul(or(uint64(p.TotalTables), wasmtimePoolTotal), mul(or(p.TableElements, wasmtimePoolTableElements), wasmtimePoolTableEntrySize))
	need := add(add(memories, tables), mul(stacks, wasmtimeAsyncStackSize))
	if need > poolAddressSpace {
		return fmt.Errorf("bindings: the pooling allocator would reserve %d GiB of address space (memories %d GiB, tables %d GiB), more than %d GiB: lower Pooling.TotalMemories, TotalTables, TableElements, MemoryReservation or MemoryGuardSize",
			need>>30, memories>>30, tables>>30, uint64(poolAddressSpace)>>30)
	}
	return nil
}

func setPooling(p *C.wasmtime_pooling_allocation_config_t, c PoolingConfig) {
	if c.TotalComponentInstances > 0 {
		C.wasmtime_pooling_allocation_config_total_component_instances_set(p, C.uint32_t(c.TotalComponentInstances))
	}
	if c.TotalCoreInstances > 0 {
		C.wasmtime_pooling_allocation_config_total_core_instances_set(p, C.uint32_t(c.TotalCoreInstances))
	}
	if c.TotalMemories > 0 {
		C.wasmtime_pooling_allocation_config_total_memories_set(p, C.uint32_t(c.TotalMemories))
	}
	if c.TotalTables > 0 {
		C.wasmtime_pooling_allocation_config_total_tables_set(p, C.uint32_t(c.TotalTables))
	}
	if c.TotalStacks > 0 {
		C.wasmtime_pooling_allocation_config_total_stacks_set(p, C.uint32_t(c.TotalStacks))
	}
	if c.MaxMemorySize > 0 {
		C.wasmtime_pooling_allocation_config_max_memory_size_set(p, C.size_t(c.MaxMemorySize))
	}
	if c.MaxMemoriesPerComponent > 0 {
		C.wasmtime_pooling_allocation_config_max_memories_per_component_set(p, C.uint32_t(c.MaxMemoriesPerComponent))
	}
	if c.MaxCoreInstancesPerComp > 0 {
		C.wasmtime_pooling_allocation_config_max_core_instances_per_component_set(p, C.uint32_t(c.MaxCoreInstancesPerComp))
	}
	if c.MaxTablesPerComponent > 0 {
		C.wasmtime_pooling_allocation_config_max_tables_per_component_set(p, C.uint32_t(c.MaxTablesPerComponent))
	}
	if c.MaxComponentInstanceSz > 0 {
		C.wasmtime_pooling_allocation_config_max_component_instance_size_set(p, C.size_t(c.MaxComponentInstanceSz))
	}
	if c.MaxCoreInstanceSize > 0 {
		C.wasmtime_pooling_allocation_config_max_core_instance_size_set(p, C.size_t(c.MaxCoreInstanceSize))
	}
	if c.TableElements > 0 {
		C.wasmtime_pooling_allocation_config_table_elements_set(p, C.size_t(c.TableElements))
	}
}

func (e *Engine) tick() {
	defer close(e.done)
	t := time.NewTicker(e.config.EpochTick)
	defer t.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-t.C:
			C.wasmtime_engine_increment_epoch(e.ptr)
		}
	}
}

// Wasmtime returns the underlying wasmtime-go engine, for core modules.
// It stays owned by e: do not Close it.
func (e *Engine) Wasmtime() *wasmtime.Engine { return e.wt }

// Config returns the configuration the engine was built with, with defaults
// filled in.
func (e *Engine) Config() EngineConfig { return e.config }

// IncrementEpoch advances the engine's epoch by one, as the ticker does.
func (e *Engine) IncrementEpoch() { C.wasmtime_engine_increment_epoch(e.ptr) }

// Close stops the epoch ticker. The wasmtime engine itself is freed when the
// last object using it is garbage collected, because compiled components and
// stores keep referring to it.
func (e *Engine) Close() {
	e.stopOnce.Do(func() {
		if e.stop != nil {
			close(e.stop)
			<-e.done
		}
	})
}

// errEngineClosed is returned by operations on a closed engine's objects.
var errEngineClosed = errors.New("bindings: engine is closed")
