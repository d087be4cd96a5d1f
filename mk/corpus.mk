# mk/corpus.mk: a corpus of WIT and components this project did not write, for the
# tests of internal/corpus (issue 17). Included by the top-level Makefile (after
# mk/examples.mk, whose tools it uses); `make corpus` builds it into build/corpus/:
#
#   src/<crate>-<version>/...  test suites of crates.io packages, pinned by
#                              tools/corpus/sources/Cargo.lock and fetched with cargo:
#                              wit-bindgen-cli tests/runtime and tests/codegen,
#                              wit-component tests/components, wit-parser tests/ui
#   rust/<test>-<world>.wasm   wit-bindgen's runtime test guests (test.rs, runner.rs),
#                              built from those sources with cargo for wasm32-wasip2
#                              (skipped, like example-rust, without that target)
#   bin/wasm-tools             the wasm-tools of mk/examples.mk, which the tests run
#                              (component embed --dummy, component new, component wit)
#
# Everything else (dummy components from WIT, components from wit-component's
# text) the tests build at test time. A warm machine makes no network access.
# build/corpus/go.mod makes the corpus a module of its own, which `go build
# ./...` and `go vet ./...` of this one do not enter (wit-bindgen's tests hold
# Go guests).

CORPUS_DIR := build/corpus
CORPUS_ABS := $(EXAMPLES_ROOT)/$(CORPUS_DIR)
CORPUS_MANIFEST := $(EXAMPLES_ROOT)/tools/corpus/sources/Cargo.toml
CORPUS_LOCK := $(EXAMPLES_ROOT)/tools/corpus/sources/Cargo.lock
# crate-version: the directories of its package unpacked into src/.
CORPUS_CRATES := wit-bindgen-cli-0.63.0:tests/runtime,tests/codegen \
	wit-component-0.263.0:tests/components \
	wit-parser-0.263.0:tests/ui
CORPUS_SRC_STAMP := $(CORPUS_ABS)/src/.stamp
CORPUS_RUST_STAMP := $(CORPUS_ABS)/rust/.stamp
# wit-bindgen's runtime tests with a test.rs and a runner.rs and no async, futures,
# streams, maps or fixed-size lists (which wasmtime's C API here cannot carry).
CORPUS_RUST_TESTS := demo flavorful gated-features list-in-variant lists lists-alias \
	many-arguments numbers options package-with-version records strings strings-alias \
	symbol-conflicts unused-types variants versions \
	resource-borrow resource_aggregates resource_alias resource_alias_redux \
	resource_borrow_in_record

.PHONY: corpus corpus-src corpus-rust corpus-clean

corpus: corpus-src corpus-rust $(CORPUS_ABS)/bin/wasm-tools

$(CORPUS_ABS)/bin/wasm-tools: $(WASM_TOOLS_STAMP)
	@mkdir -p "$(dir $@)"; ln -sf "$(WASM_TOOLS)" "$@"

# cargo fetch downloads every pinned package into cargo's cache
# ($CARGO_HOME/registry/cache/<index>/NAME-VERSION.crate, a gzipped tar); the
# directories the corpus needs are unpacked from there.
corpus-src: $(CORPUS_SRC_STAMP)
$(CORPUS_SRC_STAMP): $(CORPUS_MANIFEST) $(CORPUS_LOCK)
	@set -e; \
	command -v cargo >/dev/null 2>&1 || { echo "corpus: cargo not found" >&2; exit 1; }; \
	echo "corpus: cargo fetch (tools/corpus/sources) and unpack test suites into $(CORPUS_DIR)/src"; \
	cargo fetch --quiet --locked --manifest-path "$(CORPUS_MANIFEST)" 2>&1 \
	  | grep -v "ignoring invalid dependency .wit-bindgen-cli." >&2 || true; \
	cache="$${CARGO_HOME:-$$HOME/.cargo}/registry/cache"; \
	rm -rf "$(CORPUS_ABS)/src"; mkdir -p "$(CORPUS_ABS)/src"; \
	printf 'module driftless.test/corpus\n' > "$(CORPUS_ABS)/go.mod"; \
	for spec in $(CORPUS_CRATES); do \
	  crate="$${spec%%:*}"; dirs="$${spec#*:}"; \
	  file="$$(ls "$$cache"/*/"$$crate.crate" 2>/dev/null | head -n 1)"; \
	  test -n "$$file" || { echo "corpus: $$crate.crate is not in $$cache after cargo fetch" >&2; exit 1; }; \
	  paths=""; for d in $$(echo "$$dirs" | tr ',' ' '); do paths="$$paths $$crate/$$d"; done; \
	  tar -xzf "$$file" -C "$(CORPUS_ABS)/src" $$paths; \
	done; \
	touch "$@"

# One cargo workspace, one member per guest: its library is the test suite's own
# test.rs or runner.rs (so `mod alloc;` finds its sibling), and a shared build
# script points BINDINGS at what `wit-bindgen rust` generated for its world, as
# wit-bindgen's test runner does. The bindings get the cabi_realloc of
# tools/corpus/guest-realloc.rs appended (see there). The lockfile starts from the Rust example's, so
# wit-bindgen's dependencies keep their pinned versions.
corpus-rust: $(CORPUS_RUST_STAMP)
$(CORPUS_RUST_STAMP): $(CORPUS_SRC_STAMP) $(WIT_BINDGEN_STAMP) $(EXAMPLES_ROOT)/mk/corpus.mk \
		$(EXAMPLES_ROOT)/examples/rust-plugin/Cargo.lock $(EXAMPLES_ROOT)/tools/corpus/guest-build.rs \
		$(EXAMPLES_ROOT)/tools/corpus/guest-realloc.rs
	@set -e; \
	if ! command -v rustup >/dev/null 2>&1; then \
	  echo "corpus: rust guests skipped: rustup is not installed"; exit 0; fi; \
	case " $$(rustup target list --installed 2>/dev/null | tr '\n' ' ') " in \
	  *" wasm32-wasip2 "*) ;; \
	  *) echo "corpus: rust guests skipped: Rust target wasm32-wasip2 is not installed"; exit 0;; \
	esac; \
	rt="$(CORPUS_ABS)/src/wit-bindgen-cli-0.63.0/tests/runtime"; ws="$(CORPUS_ABS)/rust-build"; \
	echo "corpus: wit-bindgen rust + cargo build (wasm32-wasip2): $(words $(CORPUS_RUST_TESTS)) runtime tests, test and runner guests"; \
	rm -rf "$$ws" "$(CORPUS_ABS)/rust"; mkdir -p "$$ws/bindings" "$(CORPUS_ABS)/rust"; \
	cp "$(EXAMPLES_ROOT)/examples/rust-plugin/Cargo.lock" "$$ws/Cargo.lock"; \
	cp "$(EXAMPLES_ROOT)/tools/corpus/guest-build.rs" "$$ws/build.rs"; \
	members=""; \
	for t in $(CORPUS_RUST_TESTS); do \
	  for world in test runner; do \
	    src="$$rt/$$t/$$world.rs"; test -f "$$src" || continue; \
	    name="$$(echo "corpus-$$t-$$world" | tr '_' '-')"; \
	    args="$$(sed -n "s/^\/\/@ *args *= *'\(.*\)'.*/\1/p" "$$src" | head -n 1)"; \
	    wit="$$rt/$$t/test.wit"; if [ -d "$$rt/$$t/deps" ]; then wit="$$rt/$$t"; fi; \
	    mkdir -p "$$ws/bindings/$$name"; \
	    "$(WIT_BINDGEN)" rust --generate-all --world "$$world" $$args \
	      --out-dir "$$ws/bindings/$$name" "$$wit" >/dev/null 2>"$$ws/bindings/$$name.log" \
	      || { cat "$$ws/bindings/$$name.log" >&2; exit 1; }; \
	    cat "$(EXAMPLES_ROOT)/tools/corpus/guest-realloc.rs" >> "$$ws/bindings/$$name/$$world.rs"; \
	    mkdir -p "$$ws/$$name"; \
	    printf '[package]\nname = "%s"\nversion = "0.0.0"\nedition = "2021"\npublish = false\nbuild = "../build.rs"\n\n[lib]\npath = "%s"\ncrate-type = ["cdylib"]\n\n[dependencies]\nwit-bindgen = "=0.63.0"\n' \
	      "$$name" "$$src" > "$$ws/$$name/Cargo.toml"; \
	    members="$$members \"$$name\","; \
	  done; \
	done; \
	printf '[workspace]\nresolver = "2"\nmembers = [%s]\n\n[profile.dev]\ndebug = false\n' "$$members" > "$$ws/Cargo.toml"; \
	cargo build --quiet --manifest-path "$$ws/Cargo.toml" --target wasm32-wasip2 --workspace \
	  --target-dir "$$ws/target"; \
	for d in "$$ws"/corpus-*/; do \
	  name="$$(basename "$$d")"; \
	  cp "$$ws/target/wasm32-wasip2/debug/$$(echo "$$name" | tr '-' '_').wasm" "$(CORPUS_ABS)/rust/$${name#corpus-}.wasm"; \
	done; \
	rm -rf "$$ws/target"; \
	touch "$@"

corpus-clean:
	cd "$(EXAMPLES_ROOT)" && rm -rf $(CORPUS_DIR)
