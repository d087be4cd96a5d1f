# mk/examples.mk: builds the example plugins in examples/ into build/examples/.
#
# Included by the top-level Makefile; also works on its own, from any directory:
#     make -f mk/examples.mk examples
#
# Targets:
#   examples                       every example
#   example-js example-python example-c example-legacy example-rust example-ts
#   examples-test                  the examples' own unit tests (cargo test of rust-plugin)
#   tools-apt tools-npm tools-python tools-cargo tools-rust   tool installs (idempotent, stamped)
#   examples-clean
# Variables for other fragments (paths relative to the repository root):
#   EXAMPLES_DIR JS_PLUGIN_WASM PY_PLUGIN_WASM C_PLUGIN_WASM LEGACY_PLUGIN_WASM
#   RUST_PLUGIN_WASM TS_PLUGIN_WASM NODE_MODULES; WASM_TOOLS (absolute path of the wasm-tools
#   binary, built by tools-cargo), RUST_WASM_STAMP (tools-rust), TOOLCACHE.
#
# Everything a build needs is installed by the tools-* targets: nothing has to be
# installed by hand. Slow installs (the componentize-py venv, wasm-tools and
# wit-bindgen-cli compiled by cargo) are cached under $(TOOLCACHE); stamp files make every
# install target a no-op when done. A warm machine makes no network access.

# Paths are relative to the repository root; recipes cd there first so the fragment
# works whatever directory make was started from.
EX_COMMA := ,
EXAMPLES_ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/..)
# Including this fragment must not change the includer's default goal; on its own, the
# default goal is `examples`.
EX_STANDALONE := $(if $(filter 1,$(words $(MAKEFILE_LIST))),yes)
EX_SAVED_DEFAULT_GOAL := $(.DEFAULT_GOAL)

EXAMPLES_DIR := build/examples
JS_PLUGIN_WASM := $(EXAMPLES_DIR)/js-plugin.wasm
PY_PLUGIN_WASM := $(EXAMPLES_DIR)/python-plugin.wasm
C_PLUGIN_WASM := $(EXAMPLES_DIR)/c-plugin.wasm
LEGACY_PLUGIN_WASM := $(EXAMPLES_DIR)/legacy-plugin.wasm
RUST_PLUGIN_WASM := $(EXAMPLES_DIR)/rust-plugin.wasm
TS_PLUGIN_WASM := $(EXAMPLES_DIR)/ts-plugin.wasm

TOOLCACHE ?= $(if $(HOME),$(HOME),/tmp)/.cache/driftless

# --- pinned tool versions ----------------------------------------------------------
# npm tools are pinned in tools/npm/package.json + package-lock.json.
COMPONENTIZE_PY_VERSION := 0.25.1
WASM_TOOLS_VERSION := 1.263.0
WIT_BINDGEN_CLI_VERSION := 0.63.0
# Only the wasm-tools subcommands the examples use (component, print, validate, ...):
# the default features also compile fuzzers, mutators, shrinkers, ... for nothing.
WASM_TOOLS_FEATURES := component,print,parse,validate,dump,objdump,strip,metadata
# Debian (bookworm) packages: clang/lld/wasi-libc/compiler-rt for the C examples.
EXAMPLES_APT_PACKAGES := clang lld wasi-libc libclang-rt-14-dev-wasm32

NPM_DIR := tools/npm
NODE_MODULES := $(NPM_DIR)/node_modules
NPM_STAMP := $(EXAMPLES_ROOT)/$(NODE_MODULES)/.driftless-npm-ci.stamp
PY_VENV := $(TOOLCACHE)/venv-componentize-py-$(COMPONENTIZE_PY_VERSION)
COMPONENTIZE_PY := $(PY_VENV)/bin/componentize-py
PY_STAMP := $(PY_VENV)/.driftless.stamp
CARGO_TOOLS_ROOT := $(TOOLCACHE)/cargo
WASM_TOOLS := $(CARGO_TOOLS_ROOT)/bin/wasm-tools
WIT_BINDGEN := $(CARGO_TOOLS_ROOT)/bin/wit-bindgen
WASM_TOOLS_STAMP := $(CARGO_TOOLS_ROOT)/.wasm-tools-$(WASM_TOOLS_VERSION)-$(subst $(EX_COMMA),_,$(WASM_TOOLS_FEATURES)).stamp
WIT_BINDGEN_STAMP := $(CARGO_TOOLS_ROOT)/.wit-bindgen-cli-$(WIT_BINDGEN_CLI_VERSION).stamp
# The WASI preview1 -> preview2 reactor adapter shipped inside the jco npm package.
WASI_REACTOR_ADAPTER := $(NODE_MODULES)/@bytecodealliance/jco/lib/wasi_snapshot_preview1.reactor.wasm

EXAMPLES_PYTHON ?= python3
EXAMPLES_CLANG ?= clang

.PHONY: examples example-js example-python example-c example-legacy example-rust example-ts \
	examples-test example-rust-test tools-npm tools-python tools-cargo tools-apt tools-rust examples-clean

# ---------------------------------------------------------------------------------
# Tool installs
# ---------------------------------------------------------------------------------

# Installs the Debian packages that are not installed yet; a warm machine makes no
# network access at all (dpkg -s only).
tools-apt:
	@set -e; missing=""; \
	for p in $(EXAMPLES_APT_PACKAGES); do \
	  dpkg -s "$$p" >/dev/null 2>&1 || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if ! command -v apt-get >/dev/null 2>&1; then \
	  echo "tools-apt: missing Debian packages:$$missing, and apt-get is not available" >&2; exit 1; \
	fi; \
	sudo=""; if [ "$$(id -u)" != 0 ]; then \
	  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else \
	    echo "tools-apt: need root (or sudo) to install:$$missing" >&2; exit 1; fi; \
	fi; \
	echo "tools-apt: installing$$missing"; \
	$$sudo apt-get update -qq; \
	DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	echo "tools-apt: done"

tools-npm: $(NPM_STAMP)
$(NPM_STAMP): $(EXAMPLES_ROOT)/$(NPM_DIR)/package.json $(EXAMPLES_ROOT)/$(NPM_DIR)/package-lock.json
	@set -e; cd "$(EXAMPLES_ROOT)/$(NPM_DIR)"; \
	command -v npm >/dev/null 2>&1 || { echo "tools-npm: npm not found (node 20+ is needed)" >&2; exit 1; }; \
	echo "tools-npm: npm ci in $(NPM_DIR)"; \
	npm ci --no-audit --no-fund --loglevel=error; \
	touch "$@"

tools-python: $(PY_STAMP)
$(PY_STAMP):
	@set -e; \
	command -v $(EXAMPLES_PYTHON) >/dev/null 2>&1 || { echo "tools-python: $(EXAMPLES_PYTHON) not found" >&2; exit 1; }; \
	echo "tools-python: venv with componentize-py==$(COMPONENTIZE_PY_VERSION) in $(PY_VENV)"; \
	rm -rf "$(PY_VENV)"; mkdir -p "$(TOOLCACHE)"; \
	$(EXAMPLES_PYTHON) -m venv "$(PY_VENV)"; \
	"$(PY_VENV)/bin/python" -m pip install --quiet --disable-pip-version-check \
	  "componentize-py==$(COMPONENTIZE_PY_VERSION)"; \
	"$(COMPONENTIZE_PY)" --version; \
	touch "$@"

tools-cargo: $(WASM_TOOLS_STAMP) $(WIT_BINDGEN_STAMP)
# Other fragments can depend on $(WASM_TOOLS) / $(WIT_BINDGEN) directly.
$(WASM_TOOLS): $(WASM_TOOLS_STAMP)
$(WIT_BINDGEN): $(WIT_BINDGEN_STAMP)
$(WASM_TOOLS_STAMP):
	@set -e; \
	command -v cargo >/dev/null 2>&1 || { echo "tools-cargo: cargo not found" >&2; exit 1; }; \
	echo "tools-cargo: cargo install wasm-tools@$(WASM_TOOLS_VERSION) into $(CARGO_TOOLS_ROOT) (compiles from source, takes minutes)"; \
	mkdir -p "$(CARGO_TOOLS_ROOT)"; \
	cargo install --quiet --locked --force --root "$(CARGO_TOOLS_ROOT)" \
	  --no-default-features --features "$(WASM_TOOLS_FEATURES)" "wasm-tools@$(WASM_TOOLS_VERSION)"; \
	"$(WASM_TOOLS)" --version; \
	rm -f "$(CARGO_TOOLS_ROOT)"/.wasm-tools-*.stamp; touch "$@"
$(WIT_BINDGEN_STAMP):
	@set -e; \
	command -v cargo >/dev/null 2>&1 || { echo "tools-cargo: cargo not found" >&2; exit 1; }; \
	echo "tools-cargo: cargo install wit-bindgen-cli@$(WIT_BINDGEN_CLI_VERSION) into $(CARGO_TOOLS_ROOT) (compiles from source, takes minutes)"; \
	mkdir -p "$(CARGO_TOOLS_ROOT)"; \
	cargo install --quiet --locked --force --root "$(CARGO_TOOLS_ROOT)" "wit-bindgen-cli@$(WIT_BINDGEN_CLI_VERSION)"; \
	"$(WIT_BINDGEN)" --version; \
	rm -f "$(CARGO_TOOLS_ROOT)"/.wit-bindgen-cli-*.stamp; touch "$@"

# --- Rust: the wasm32-wasip2 target, added to the active toolchain by rustup ---------
# The stamp is per toolchain (rustc's commit), so a new toolchain gets the target too;
# flock keeps two makes from running rustup at once.
RUST_COMMIT := $(shell rustc -vV 2>/dev/null | sed -n 's/^commit-hash: //p' | cut -c1-12)
RUST_HOST := $(shell rustc -vV 2>/dev/null | sed -n 's/^host: //p')
RUST_WASM_STAMP := $(TOOLCACHE)/rust/wasm32-wasip2-$(or $(RUST_COMMIT),none).stamp
tools-rust: $(RUST_WASM_STAMP)
$(RUST_WASM_STAMP):
	@set -e; \
	command -v rustup >/dev/null 2>&1 && command -v cargo >/dev/null 2>&1 || { \
	  echo "tools-rust: rustup and cargo are needed (https://rustup.rs); the wasm32-wasip2 target comes from rustup" >&2; exit 1; }; \
	mkdir -p "$(TOOLCACHE)/rust"; \
	flock "$(TOOLCACHE)/rust/.lock" sh -c ' \
	  if rustup target list --installed | grep -qx wasm32-wasip2; then exit 0; fi; \
	  echo "tools-rust: rustup target add wasm32-wasip2"; \
	  rustup target add wasm32-wasip2'; \
	rustup target list --installed | grep -qx wasm32-wasip2 || { \
	  echo "tools-rust: rustup target add wasm32-wasip2 did not install the target" >&2; exit 1; }; \
	rm -f "$(TOOLCACHE)"/rust/wasm32-wasip2-*.stamp; touch "$@"

# ---------------------------------------------------------------------------------
# Examples
# ---------------------------------------------------------------------------------

# Absolute paths of the artifacts (the variables above are relative to the root).
EX_OUT := $(EXAMPLES_ROOT)/$(EXAMPLES_DIR)
EX_WIT := $(EXAMPLES_ROOT)/wit/plugin.wit

examples: example-js example-python example-c example-legacy example-rust example-ts
	@echo "examples: built in $(EXAMPLES_DIR)/:"; cd "$(EXAMPLES_ROOT)" && ls -l $(EXAMPLES_DIR)/*.wasm

# --- JavaScript: componentize-js, world driftless:plugin/plugin --------------------
example-js: $(EXAMPLES_ROOT)/$(JS_PLUGIN_WASM)
$(EXAMPLES_ROOT)/$(JS_PLUGIN_WASM): $(EXAMPLES_ROOT)/examples/js-plugin/src/plugin.js $(EX_WIT) \
		$(EXAMPLES_ROOT)/$(NPM_DIR)/componentize.mjs $(NPM_STAMP)
	@set -e; cd "$(EXAMPLES_ROOT)"; \
	echo "example-js: componentize-js examples/js-plugin -> $(JS_PLUGIN_WASM)"; \
	node $(NPM_DIR)/componentize.mjs --source examples/js-plugin/src/plugin.js \
	  --wit wit --world plugin --out $(JS_PLUGIN_WASM).tmp; \
	mv $(JS_PLUGIN_WASM).tmp $(JS_PLUGIN_WASM)

# --- Python: componentize-py, world of its own (examples/python-plugin/wit) --------
# app.py is built from a copy under build/ (componentize-py writes __pycache__ beside it).
# --stub-wasi: componentize-py's CPython always imports wasi:sockets/*, which the host
# refuses; stubbing WASI leaves only the driftless:plugin imports (see its README).
example-python: $(EXAMPLES_ROOT)/$(PY_PLUGIN_WASM)
$(EXAMPLES_ROOT)/$(PY_PLUGIN_WASM): $(EXAMPLES_ROOT)/examples/python-plugin/app.py \
		$(EXAMPLES_ROOT)/examples/python-plugin/wit/world.wit $(EX_WIT) $(PY_STAMP)
	@set -e; cd "$(EXAMPLES_ROOT)"; src=$(EXAMPLES_DIR)/python-plugin/src; \
	echo "example-python: componentize-py examples/python-plugin -> $(PY_PLUGIN_WASM)"; \
	rm -rf $$src; mkdir -p $$src; cp examples/python-plugin/app.py $$src/; \
	"$(COMPONENTIZE_PY)" -q -d wit -d examples/python-plugin/wit \
	  -w driftless-examples:python-plugin/python-plugin@0.1.0 \
	  componentize --stub-wasi -p $$src app -o $(PY_PLUGIN_WASM).tmp; \
	mv $(PY_PLUGIN_WASM).tmp $(PY_PLUGIN_WASM)

# --- C component: wit-bindgen c + clang/wasi-libc + wasm-tools component new -------
C_PLUGIN_WORK := $(EXAMPLES_DIR)/c-plugin
example-c: $(EXAMPLES_ROOT)/$(C_PLUGIN_WASM)
$(EXAMPLES_ROOT)/$(C_PLUGIN_WASM): $(EXAMPLES_ROOT)/examples/c-plugin/plugin.c \
		$(EXAMPLES_ROOT)/examples/c-plugin/wit/world.wit $(EX_WIT) \
		$(WASM_TOOLS_STAMP) $(WIT_BINDGEN_STAMP) $(NPM_STAMP) | tools-apt
	@set -e; cd "$(EXAMPLES_ROOT)"; w=$(C_PLUGIN_WORK); \
	echo "example-c: wit-bindgen c + clang (wasm32-wasi) + wasm-tools component new -> $(C_PLUGIN_WASM)"; \
	rm -rf $$w; mkdir -p $$w/wit/deps/driftless-plugin $$w/gen; \
	cp examples/c-plugin/wit/world.wit $$w/wit/; cp wit/plugin.wit $$w/wit/deps/driftless-plugin/; \
	out="$$("$(WIT_BINDGEN)" c --world driftless-examples:c-plugin/c-plugin@0.1.0 --out-dir $$w/gen $$w/wit 2>&1)" \
	  || { echo "$$out" >&2; echo "example-c: wit-bindgen c failed" >&2; exit 1; }; \
	$(EXAMPLES_CLANG) --target=wasm32-wasi -mexec-model=reactor -O2 -Wall -Wextra -Werror \
	  -I$$w/gen -o $$w/core.wasm examples/c-plugin/plugin.c $$w/gen/c_plugin.c \
	  $$w/gen/c_plugin_component_type.o; \
	test -f "$(WASI_REACTOR_ADAPTER)" || { echo "example-c: missing $(WASI_REACTOR_ADAPTER) (jco)" >&2; exit 1; }; \
	"$(WASM_TOOLS)" component new $$w/core.wasm \
	  --adapt wasi_snapshot_preview1="$(WASI_REACTOR_ADAPTER)" -o $(C_PLUGIN_WASM).tmp; \
	"$(WASM_TOOLS)" validate $(C_PLUGIN_WASM).tmp; \
	mv $(C_PLUGIN_WASM).tmp $(C_PLUGIN_WASM)

# --- legacy JSON-ABI core module: freestanding C, no WASI ---------------------------
example-legacy: $(EXAMPLES_ROOT)/$(LEGACY_PLUGIN_WASM)
$(EXAMPLES_ROOT)/$(LEGACY_PLUGIN_WASM): $(EXAMPLES_ROOT)/examples/legacy-plugin/plugin.c | tools-apt
	@set -e; cd "$(EXAMPLES_ROOT)"; mkdir -p $(EXAMPLES_DIR); \
	echo "example-legacy: clang --target=wasm32 -nostdlib -> $(LEGACY_PLUGIN_WASM)"; \
	$(EXAMPLES_CLANG) --target=wasm32 -nostdlib -ffreestanding -fno-builtin -mbulk-memory -O2 -Wall -Wextra -Werror \
	  -Wl,--no-entry -Wl,-z,stack-size=65536 -Wl,--strip-debug \
	  -o $(LEGACY_PLUGIN_WASM).tmp examples/legacy-plugin/plugin.c; \
	mv $(LEGACY_PLUGIN_WASM).tmp $(LEGACY_PLUGIN_WASM)

# --- Rust: wit-bindgen guest, world driftless:plugin/plugin -------------------------
# Always runs cargo (cargo knows what is up to date); crates come from crates.io at the
# versions of Cargo.lock (--locked) and are cached in cargo's own registry cache.
RUST_TARGET_DIR := build/rust-plugin-target
example-rust: $(RUST_WASM_STAMP)
	@set -e; cd "$(EXAMPLES_ROOT)"; \
	echo "example-rust: cargo build examples/rust-plugin (wasm32-wasip2) -> $(RUST_PLUGIN_WASM)"; \
	cargo build --quiet --release --locked --manifest-path examples/rust-plugin/Cargo.toml \
	  --target wasm32-wasip2 --target-dir $(RUST_TARGET_DIR); \
	mkdir -p $(EXAMPLES_DIR); \
	cp $(RUST_TARGET_DIR)/wasm32-wasip2/release/rust_plugin.wasm $(RUST_PLUGIN_WASM).tmp; \
	mv $(RUST_PLUGIN_WASM).tmp $(RUST_PLUGIN_WASM)

# Its unit tests run on the build machine's own target (the host imports are replaced
# by test doubles there, see examples/rust-plugin/src/host.rs).
examples-test: example-rust-test
example-rust-test:
	@set -e; cd "$(EXAMPLES_ROOT)"; \
	command -v cargo >/dev/null 2>&1 || { echo "example-rust-test: cargo not found" >&2; exit 1; }; \
	echo "example-rust-test: cargo test examples/rust-plugin ($(RUST_HOST))"; \
	cargo test --quiet --locked --manifest-path examples/rust-plugin/Cargo.toml \
	  --target $(RUST_HOST) --target-dir $(RUST_TARGET_DIR)

# --- TypeScript: jco guest-types + tsc (pinned in tools/npm) + componentize-js ----------
# World of its own (examples/ts-plugin/wit/world.wit), with the contract as a dependency
# as in the C example. A type error stops the build at tsc (tools/npm/build-ts.mjs).
TS_PLUGIN_WORK := $(EXAMPLES_DIR)/ts-plugin
example-ts: $(EXAMPLES_ROOT)/$(TS_PLUGIN_WASM)
$(EXAMPLES_ROOT)/$(TS_PLUGIN_WASM): $(wildcard $(EXAMPLES_ROOT)/examples/ts-plugin/src/*.ts) \
		$(EXAMPLES_ROOT)/examples/ts-plugin/tsconfig.json $(EXAMPLES_ROOT)/examples/ts-plugin/wit/world.wit \
		$(EX_WIT) $(EXAMPLES_ROOT)/$(NPM_DIR)/build-ts.mjs $(EXAMPLES_ROOT)/$(NPM_DIR)/componentize.mjs $(NPM_STAMP)
	@set -e; cd "$(EXAMPLES_ROOT)"; w=$(TS_PLUGIN_WORK); \
	echo "example-ts: jco guest-types + tsc + componentize-js examples/ts-plugin -> $(TS_PLUGIN_WASM)"; \
	rm -rf $$w; mkdir -p $$w/wit/deps/driftless-plugin; \
	cp examples/ts-plugin/wit/world.wit $$w/wit/; cp wit/plugin.wit $$w/wit/deps/driftless-plugin/; \
	node $(NPM_DIR)/build-ts.mjs --project examples/ts-plugin --wit $$w/wit --world ts-plugin \
	  --js-dir $$w/js --out $(TS_PLUGIN_WASM).tmp; \
	mv $(TS_PLUGIN_WASM).tmp $(TS_PLUGIN_WASM)

examples-clean:
	cd "$(EXAMPLES_ROOT)" && rm -rf $(EXAMPLES_DIR) $(RUST_TARGET_DIR)

# Go plugins built with the standard Go toolchain: example-go, go-adapter.
include $(EXAMPLES_ROOT)/mk/goguest.mk

ifeq ($(EX_STANDALONE),yes)
.DEFAULT_GOAL := examples
else
.DEFAULT_GOAL := $(EX_SAVED_DEFAULT_GOAL)
endif
