#!/usr/bin/env bash
# make demo: the whole system in one command, on the bundled JavaScript
# example plugin, in a throwaway plugin home.
#   scripts/demo.sh DRIFTLESS_BINARY JS_PLUGIN_WASM
set -euo pipefail

bin=$(realpath "$1")
wasm=$(realpath "$2")
example=$(realpath "$(dirname "$0")/../examples/js-plugin")

home=$(mktemp -d "${TMPDIR:-/tmp}/driftless-demo.XXXXXX")
trap 'rm -rf "$home"' EXIT
export DRIFTLESS_HOME=$home
# Reuse compiled code between demo runs: compiling the 12 MB component takes seconds.
mkdir -p "${XDG_CACHE_HOME:-$HOME/.cache}/driftless/demo-cache"
ln -s "${XDG_CACHE_HOME:-$HOME/.cache}/driftless/demo-cache" "$home/cache"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { step "driftless ${*@Q}"; "$bin" "$@"; }

run plugins install "$wasm"
run plugins list
run task run js-plugin.echo --config '{"message":"hello from the demo"}'
run task run js-plugin.set-value --config '{"key":"motd","value":"welcome","current":"old"}' --check
step "driftless template render greeting.tmpl    (in $example)"
(cd "$example" && "$bin" template render greeting.tmpl)
step "driftless logs run pipeline.toml --stats   (in $example)"
(cd "$example" && "$bin" logs run pipeline.toml --stats)
printf '\nDemo done: plugin home was %s (removed).\n' "$home"
