package bindings

import (
	"os"
	"runtime"
	"testing"
	"time"
)

// TestMain lets the memory check (mk/memcheck.mk) choose engines without
// signal-based traps, and releases the fixtures shared by tests before the
// process exits, so that a leak checker sees only what was really lost.
func TestMain(m *testing.M) {
	if os.Getenv("DRIFTLESS_BINDINGS_NO_SIGNALS") == "1" {
		noSignalsForTests = true
	}
	code := m.Run()
	releaseFixtures()
	os.Exit(code)
}

func releaseFixtures() {
	if kindsFixture.comp != nil {
		kindsFixture.comp.Close()
		kindsFixture.engine.Close()
		kindsFixture.comp, kindsFixture.engine = nil, nil
	}
	identityCache.Lock()
	for _, ii := range identityCache.m {
		ii.store.Close()
		ii.inst.Component().Close()
		ii.linker.Close()
	}
	identityCache.m = nil
	if identityCache.engine != nil {
		identityCache.engine.Close()
		identityCache.engine = nil
	}
	identityCache.Unlock()
	// Engines (and components, linkers) nobody refers to anymore are freed
	// by finalizers: give them a chance to run.
	for range 4 {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}
