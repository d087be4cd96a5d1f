# mk/goguest.mk: Go plugins built with the standard Go toolchain (included by
# mk/examples.mk, whose variables it uses).
#
# Targets:
#   example-go       examples/go-plugin -> build/examples/go-plugin.wasm (part of `examples`)
#   go-adapter       tools/goadapter/adapter.wat -> build/go-adapter/wasi_snapshot_preview1.wasm
#   generate-guest   regenerate examples/go-plugin/gen with `witgen -guest go` (part of
#                    `make generate`; tools/witgen's tests fail when it is stale)
#   generate-scaffold the Go bindings of every world that `plugins new --lang go` writes
#                    (internal/scaffold/_gobindings, by internal/scaffold/internal/gobindgen;
#                    part of `make generate`)
#   generate-adapter copy the assembled adapter to tools/goadapter/adapter.wasm, which the
#                    driftless binary embeds for `plugins new --lang go` (part of
#                    `make generate`; TestAssembledIsCurrent fails when it is stale)
#
# A Go plugin is four steps (see tools/goadapter/README.md): go build for wasip1 as a
# c-shared reactor, wasm-tools component embed (the world), wasm-tools component new
# with the Go adapter, wasm-tools validate. Go itself is the only tool besides
# wasm-tools (cargo-installed by tools-cargo); nothing else is downloaded but the Go
# modules in go.sum.

GO ?= go
GO_PLUGIN_WASM := $(EXAMPLES_DIR)/go-plugin.wasm
GO_ADAPTER_WASM := build/go-adapter/wasi_snapshot_preview1.wasm
GO_PLUGIN_WORK := $(EXAMPLES_DIR)/go-plugin
GO_ADAPTER_SRC := $(EXAMPLES_ROOT)/tools/goadapter/adapter.wat $(wildcard $(EXAMPLES_ROOT)/tools/goadapter/wit/*.wit $(EXAMPLES_ROOT)/tools/goadapter/wit/deps/*/*.wit)
GO_PLUGIN_SRC := $(wildcard $(EXAMPLES_ROOT)/examples/go-plugin/*.go) \
	$(shell find $(EXAMPLES_ROOT)/examples/go-plugin/gen -name '*.go' 2>/dev/null) \
	$(EXAMPLES_ROOT)/go.mod $(EXAMPLES_ROOT)/go.sum

# Tests find wasm-tools through WASM_TOOLS (internal/builtexample).
export WASM_TOOLS

.PHONY: example-go go-adapter generate-guest
examples: example-go

go-adapter: $(EXAMPLES_ROOT)/$(GO_ADAPTER_WASM)
$(EXAMPLES_ROOT)/$(GO_ADAPTER_WASM): $(GO_ADAPTER_SRC) $(WASM_TOOLS_STAMP)
	@set -e; cd "$(EXAMPLES_ROOT)"; mkdir -p build/go-adapter; \
	echo "go-adapter: wasm-tools parse + component embed tools/goadapter -> $(GO_ADAPTER_WASM)"; \
	"$(WASM_TOOLS)" parse tools/goadapter/adapter.wat -o build/go-adapter/adapter.core.wasm; \
	"$(WASM_TOOLS)" component embed tools/goadapter/wit --world adapter \
	  build/go-adapter/adapter.core.wasm -o $(GO_ADAPTER_WASM).tmp; \
	mv $(GO_ADAPTER_WASM).tmp $(GO_ADAPTER_WASM)

example-go: $(EXAMPLES_ROOT)/$(GO_PLUGIN_WASM)
$(EXAMPLES_ROOT)/$(GO_PLUGIN_WASM): $(GO_PLUGIN_SRC) $(EX_WIT) $(EXAMPLES_ROOT)/$(GO_ADAPTER_WASM) $(WASM_TOOLS_STAMP)
	@set -e; cd "$(EXAMPLES_ROOT)"; w=$(GO_PLUGIN_WORK); mkdir -p $$w; \
	echo "example-go: go build (wasip1, c-shared) + wasm-tools component new -> $(GO_PLUGIN_WASM)"; \
	GOOS=wasip1 GOARCH=wasm $(GO) build -buildmode=c-shared -trimpath -ldflags=-s \
	  -o $$w/core.wasm ./examples/go-plugin; \
	"$(WASM_TOOLS)" component embed wit --world plugin $$w/core.wasm -o $$w/embedded.wasm; \
	"$(WASM_TOOLS)" component new $$w/embedded.wasm \
	  --adapt wasi_snapshot_preview1=$(GO_ADAPTER_WASM) -o $(GO_PLUGIN_WASM).tmp; \
	"$(WASM_TOOLS)" validate $(GO_PLUGIN_WASM).tmp; \
	mv $(GO_PLUGIN_WASM).tmp $(GO_PLUGIN_WASM)

generate: generate-guest
generate-guest:
	cd "$(EXAMPLES_ROOT)" && $(GO) run ./tools/witgen -guest go -wit wit -world plugin -out examples/go-plugin/gen

.PHONY: generate-scaffold generate-adapter
generate: generate-scaffold
generate-scaffold:
	cd "$(EXAMPLES_ROOT)" && $(GO) run ./internal/scaffold/internal/gobindgen

generate: generate-adapter
generate-adapter: $(EXAMPLES_ROOT)/$(GO_ADAPTER_WASM)
	@cd "$(EXAMPLES_ROOT)" && if ! cmp -s $(GO_ADAPTER_WASM) tools/goadapter/adapter.wasm; then \
		echo "generate-adapter: $(GO_ADAPTER_WASM) -> tools/goadapter/adapter.wasm"; \
		cp $(GO_ADAPTER_WASM) tools/goadapter/adapter.wasm; fi

# `make generate-check` also fails when examples/go-plugin/gen, the scaffold's Go bindings
# or the embedded adapter are out of date.
.PHONY: generate-guest-check
generate-check: generate-guest-check
GO_GENERATED := examples/go-plugin/gen internal/scaffold/_gobindings internal/scaffold/gobindings_gen.go tools/goadapter/adapter.wasm
generate-guest-check: generate-guest generate-scaffold generate-adapter
	@cd "$(EXAMPLES_ROOT)" && if [ -n "$$(git status --porcelain -- $(GO_GENERATED))" ]; then \
		echo "Go guest code is out of date with wit/, tools/witgen and tools/goadapter: run 'make generate' and commit"; \
		git status --porcelain -- $(GO_GENERATED); exit 1; fi
