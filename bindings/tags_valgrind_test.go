//go:build valgrind

package bindings

// A test binary built with -tags=valgrind (make memcheck-valgrind) runs
// under valgrind: engines then go without signal-based traps, which
// valgrind cannot deliver to wasmtime.
func init() { noSignalsForTests = true }
