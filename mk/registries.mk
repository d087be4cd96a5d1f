# mk/registries.mk: the programs the registry tests run against, built from
# source and cached like the examples' tools (see mk/examples.mk):
#   registry  github.com/distribution/distribution/v3 cmd/registry   a real OCI registry
#   cosign    github.com/sigstore/cosign/v2 cmd/cosign               signs and verifies, both ways
#   wkg       crates.io wkg (bytecodealliance wasm-pkg-tools)        pushes and pulls Wasm OCI artifacts
#
# Included by the top-level Makefile after mk/examples.mk (it uses TOOLCACHE,
# CARGO_TOOLS_ROOT and EXAMPLES_ROOT). Target:
#   tools-registries   build the three (stamped: a no-op once built) and link them into build/tools/
#
# Each install runs under an flock on its own lock file, so two makes started
# at once build a tool once: the second waits, then finds the stamp. First
# builds, in CPU time (measured on a shared two-core machine, where the wall
# time was much longer): registry 1.5 min, cosign 3 min (with the Go build
# cache warm from this module's Sigstore packages; more without), wkg 9 min
# (cargo, ~700 crates): about 15 minutes of a fresh `make test` on two idle
# cores. Later runs make no network access and build nothing.

GO ?= go
REGISTRY_VERSION := v3.0.0
COSIGN_VERSION := v2.5.0
WKG_VERSION := 0.16.1

GO_TOOLS_ROOT := $(TOOLCACHE)/go-tools
REGISTRY_DIR := $(GO_TOOLS_ROOT)/registry-$(REGISTRY_VERSION)
COSIGN_DIR := $(GO_TOOLS_ROOT)/cosign-$(COSIGN_VERSION)
REGISTRY_BIN := $(REGISTRY_DIR)/registry
COSIGN_BIN := $(COSIGN_DIR)/cosign
REGISTRY_STAMP := $(REGISTRY_DIR)/.driftless.stamp
COSIGN_STAMP := $(COSIGN_DIR)/.driftless.stamp
WKG_ROOT := $(TOOLCACHE)/cargo-wkg-$(WKG_VERSION)
WKG_BIN := $(WKG_ROOT)/bin/wkg
WKG_STAMP := $(WKG_ROOT)/.driftless.stamp
TOOLS_LINK_DIR := $(EXAMPLES_ROOT)/build/tools

.PHONY: tools-registries

tools-registries: $(REGISTRY_STAMP) $(COSIGN_STAMP) $(WKG_STAMP)
	@mkdir -p "$(TOOLS_LINK_DIR)"; \
	ln -sfn "$(REGISTRY_BIN)" "$(TOOLS_LINK_DIR)/registry"; \
	ln -sfn "$(COSIGN_BIN)" "$(TOOLS_LINK_DIR)/cosign"; \
	ln -sfn "$(WKG_BIN)" "$(TOOLS_LINK_DIR)/wkg"

# go install MODULE/CMD@VERSION into DIR, once, under a lock.
# $(1): stamp, $(2): dir, $(3): package@version, $(4): name.
define go_tool_install
	@set -e; mkdir -p "$(2)"; \
	exec 9>"$(2).lock"; flock 9; \
	if [ -f "$(1)" ]; then exit 0; fi; \
	echo "tools-registries: go install $(3) into $(2) (compiles from source, takes minutes the first time)"; \
	GOBIN="$(2)" GOFLAGS=-buildvcs=false $(GO) install "$(3)"; \
	test -x "$(2)/$(4)"; touch "$(1)"
endef

$(REGISTRY_STAMP):
	$(call go_tool_install,$(REGISTRY_STAMP),$(REGISTRY_DIR),github.com/distribution/distribution/v3/cmd/registry@$(REGISTRY_VERSION),registry)

$(COSIGN_STAMP):
	$(call go_tool_install,$(COSIGN_STAMP),$(COSIGN_DIR),github.com/sigstore/cosign/v2/cmd/cosign@$(COSIGN_VERSION),cosign)

$(WKG_STAMP):
	@set -e; command -v cargo >/dev/null 2>&1 || { echo "tools-registries: cargo not found" >&2; exit 1; }; \
	mkdir -p "$(WKG_ROOT)"; exec 9>"$(WKG_ROOT).lock"; flock 9; \
	if [ -f "$@" ]; then exit 0; fi; \
	echo "tools-registries: cargo install wkg@$(WKG_VERSION) into $(WKG_ROOT) (compiles from source, takes minutes the first time)"; \
	cargo install --quiet --locked --force --root "$(WKG_ROOT)" "wkg@$(WKG_VERSION)"; \
	"$(WKG_BIN)" --version; touch "$@"
