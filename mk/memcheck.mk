# mk/memcheck.mk: the memory check of package bindings, Go over wasmtime's
# C API through cgo. Included by the top-level Makefile; `make memcheck`
# runs three checks, each failing the target on a real error:
#
#   memcheck-asan      every test of bindings/ built with -asan (gcc's
#                      AddressSanitizer): Go code and the C shim are
#                      instrumented, every malloc/free (wasmtime's Rust
#                      allocations included) goes through ASan, and
#                      LeakSanitizer fails the run if any C allocation is
#                      left unreachable at exit (the tests close everything
#                      they create; Go's heap is not scanned, so C memory
#                      only a dead Go object pointed to counts as leaked).
#   memcheck-valgrind  every test under valgrind's memcheck, which also sees
#                      invalid reads and writes inside wasmtime's own
#                      (uninstrumented) code, e.g. from a bad pointer or a
#                      value freed too early handed to the C API. The
#                      binary is built with -tags=valgrind (Go's runtime
#                      then describes its heap and stacks to valgrind) and
#                      runs engines without signal-based traps
#                      (DRIFTLESS_BINDINGS_NO_SIGNALS=1: valgrind cannot
#                      pass wasmtime's SIGSEGV/SIGILL/SIGFPE traps through).
#                      valgrind runs one thread at a time; --fair-sched=yes
#                      hands the CPU round-robin, so a guest spinning until
#                      another thread interrupts it (the epoch ticker, a
#                      cancel) cannot starve that thread (without it, one run
#                      hung past its 30-minute timeout).
#                      Suppressions, each justified: bindings/testdata/valgrind.supp.
#   memcheck-leak      TestLeakManyCalls with a million calls (every kind of
#                      value, host callbacks, resources, traps, store
#                      turnover): the process's RSS must stay flat.
#
# See docs/bindings.md ("Memory check") for what each one covers.

MEMCHECK_CC ?= gcc
MEMCHECK_DIR := build/memcheck
MEMCHECK_ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/..)
MEMCHECK_LEAK_CALLS ?= 1000000
# Tests that measure wall-clock time and cannot hold under valgrind, which
# runs one thread at a time and ~50x slower: they run in memcheck-asan and in
# plain `go test`.
MEMCHECK_VALGRIND_SKIP ?= ^TestCoreGuardTimeout$$

.PHONY: memcheck memcheck-asan memcheck-valgrind memcheck-leak memcheck-tools

memcheck: memcheck-asan memcheck-valgrind memcheck-leak
	@echo "memcheck: bindings passed ASan+LSan, valgrind and the $(MEMCHECK_LEAK_CALLS)-call leak test"

# valgrind comes from Debian; installed only when missing.
memcheck-tools:
	@set -e; if command -v valgrind >/dev/null 2>&1; then exit 0; fi; \
	sudo=""; if [ "$$(id -u)" != 0 ]; then sudo="sudo"; fi; \
	echo "memcheck: installing valgrind"; \
	$$sudo apt-get update -qq; \
	DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends valgrind >/dev/null

memcheck-asan:
	cd $(MEMCHECK_ROOT) && CC=$(MEMCHECK_CC) ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 \
		$(GO) test -asan -count=1 -timeout 20m ./bindings/

memcheck-valgrind: memcheck-tools
	@mkdir -p $(MEMCHECK_ROOT)/$(MEMCHECK_DIR)
	cd $(MEMCHECK_ROOT) && $(GO) test -tags=valgrind -c -o $(MEMCHECK_DIR)/bindings.valgrind.test ./bindings/
	cd $(MEMCHECK_ROOT)/bindings && GODEBUG=asyncpreemptoff=1 DRIFTLESS_BINDINGS_NO_SIGNALS=1 \
		valgrind --tool=memcheck --fair-sched=yes --error-exitcode=97 --leak-check=no --num-callers=40 \
		--suppressions=testdata/valgrind.supp \
		../$(MEMCHECK_DIR)/bindings.valgrind.test -test.count=1 -test.timeout=10m \
		-test.skip '$(MEMCHECK_VALGRIND_SKIP)'

memcheck-leak:
	cd $(MEMCHECK_ROOT) && DRIFTLESS_LEAK_CALLS=$(MEMCHECK_LEAK_CALLS) \
		$(GO) test -count=1 -run '^TestLeakManyCalls$$' -v ./bindings/
