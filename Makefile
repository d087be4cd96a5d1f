# Driftless: the two commands a newcomer needs are
#     make demo    # build the CLI and a bundled example plugin, and run it
#     make test    # everything CI checks (installs what the tests need)
#
# `go build ./...` and `go test ./...` work without this Makefile; tests that
# need example plugins built by other toolchains skip without them, and fail
# instead under `make test` (DRIFTLESS_REQUIRE_EXAMPLES=1).

SHELL := /bin/bash
GO ?= go
BIN := build/bin
DRIFTLESS := $(BIN)/driftless

.DEFAULT_GOAL := all
include mk/examples.mk
include mk/corpus.mk
include mk/memcheck.mk
include mk/registries.mk

.PHONY: all build test vet fmt-check generate generate-check unit race fuzz memcheck bench demo clean help

all: build

help:
	@echo "make demo      build the CLI and the JavaScript example, run a task, a template and a log pipeline"
	@echo "make test      vet, gofmt check, generate check, examples, all tests, race, fuzz, memory check"
	@echo "make build     build the CLI into $(DRIFTLESS)"
	@echo "make bench     run the benchmarks (figures go into docs/PERFORMANCE.md)"
	@echo "make generate  regenerate gen/ from wit/ (and examples/embedding/gen/) with tools/witgen"
	@echo "make examples  build the example plugins into build/examples/"
	@echo "make tools-registries  build the registry tests' tools (an OCI registry, cosign, wkg) into build/tools/"

build:
	@mkdir -p $(BIN)
	$(GO) build -o $(DRIFTLESS) ./cmd/driftless

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

generate:
	$(GO) run ./tools/witgen -wit wit -out gen -package-prefix github.com/driftless-dev/driftless/gen
	$(GO) run ./tools/witgen -wit examples/embedding/wit -out examples/embedding/gen -package-prefix github.com/driftless-dev/driftless/examples/embedding/gen

# Regenerating must not change what is checked in.
generate-check: generate
	@if [ -n "$$(git status --porcelain -- gen examples/embedding/gen)" ]; then \
		echo "gen/ or examples/embedding/gen/ is out of date with their WIT and tools/witgen: run 'make generate' and commit"; \
		git status --porcelain -- gen examples/embedding/gen; git diff --stat -- gen examples/embedding/gen; exit 1; fi

unit: examples corpus tools-registries
	DRIFTLESS_REQUIRE_EXAMPLES=1 $(GO) test -count=1 -timeout 30m ./...

# The concurrency tests again under the race detector.
race: examples
	DRIFTLESS_REQUIRE_EXAMPLES=1 $(GO) test -count=1 -race -timeout 30m -run 'Concurrent|Stress|Race' ./...

# A short run of every fuzz target.
FUZZTIME ?= 20s
fuzz:
	GO=$(GO) ./scripts/fuzz.sh $(FUZZTIME)

test: vet fmt-check generate-check unit race fuzz memcheck
	@echo "make test: all checks passed"

# --- examples' own unit tests (issue 12): cargo test of examples/rust-plugin, ... --------
# A prerequisite added here, not on the line above, so that blocks stay separate.
test: examples-test
# The tests that build plugins (cmd/driftless: plugins new) find wit-bindgen, wasm-tools
# and their caches in the tool cache.
unit race: export DRIFTLESS_TOOLCACHE = $(TOOLCACHE)

BENCHTIME ?= 1s
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./...

demo: build examples
	./scripts/demo.sh $(DRIFTLESS) $(JS_PLUGIN_WASM)

clean:
	rm -rf build
