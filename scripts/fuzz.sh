#!/usr/bin/env bash
# scripts/fuzz.sh [FUZZTIME]: a short run (default 20s) of every fuzz target
# of the module; `make fuzz` calls it.
#
# A target fails the run when it finds something: a failing input (go test
# writes it to the package's testdata/fuzz/TARGET/ and says so), a crash, a
# failed check. Go 1.26's fuzzing coordinator can also fail a target that
# found nothing: a bare "context deadline exceeded" at the -fuzztime
# boundary, when a worker is still busy as the deadline fires
# (golang/go#75804, fixed in Go 1.27). Such a failure, with no failing input
# written, runs the target once more; a second failure fails the run.
set -euo pipefail
fuzztime=${1:-20s}
go=${GO:-go}
for pkg in $("$go" list ./...); do
	for target in $("$go" test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
		corpus="$("$go" list -f '{{.Dir}}' "$pkg")/testdata/fuzz/$target"
		for attempt in 1 2; do
			echo "fuzz $pkg $target"
			before=$(ls "$corpus" 2>/dev/null || true)
			if out=$("$go" test -run '^$' -fuzz "^$target\$" -fuzztime "$fuzztime" "$pkg" 2>&1); then
				printf '%s\n' "$out"
				break
			fi
			printf '%s\n' "$out"
			after=$(ls "$corpus" 2>/dev/null || true)
			if [ "$attempt" = 1 ] && [ "$before" = "$after" ] &&
				grep -q 'context deadline exceeded' <<<"$out" && ! grep -q 'Failing input written' <<<"$out"; then
				echo "fuzz: $target stopped at the -fuzztime boundary having found nothing (Go's coordinator, golang/go#75804): running it again"
				continue
			fi
			echo "fuzz: $target failed"
			exit 1
		done
	done
done
