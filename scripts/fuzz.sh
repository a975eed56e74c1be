#!/usr/bin/env bash
# Runs every fuzz target in the module briefly (FUZZTIME each, default 10s), one at a time
# as `go test -fuzz` requires. Targets are found by grepping for `func FuzzXxx(`, so a new
# one is fuzzed in CI without editing this file. New crashers land in the package's
# testdata/fuzz/<Target>/; commit them with the fix so they stay regression seeds.
#   FUZZTIME=30s scripts/fuzz.sh          # longer
#   scripts/fuzz.sh ./internal/scapi       # only some packages
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-10s}"
dirs=("${@:-./...}")

found=0
for pkgdir in $(go list -f '{{.Dir}}' "${dirs[@]}"); do
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*(' "$pkgdir"/*_test.go 2>/dev/null | sed 's/^func //; s/($//' | sort -u); do
    found=$((found + 1))
    rel="./${pkgdir#"$PWD"/}"
    echo "== fuzz $rel $target ($fuzztime)"
    out=$(mktemp)
    if ! go test -run "^${target}\$" -fuzz "^${target}\$" -fuzztime "$fuzztime" "$rel" 2>&1 | tee "$out"; then
      # Go's fuzzing engine sometimes stops with a bare "context deadline exceeded" when a
      # worker is slow to stop as -fuzztime runs out on a loaded machine: that is the engine's
      # timing, not a finding (a finding writes a crasher under testdata/fuzz). Run that
      # target once more then; anything else, or a second failure, fails.
      if grep -q "context deadline exceeded" "$out" && ! grep -q "Failing input written" "$out"; then
        echo "== fuzz $rel $target: the engine timed out stopping (no crasher); once more"
        go test -run "^${target}\$" -fuzz "^${target}\$" -fuzztime "$fuzztime" "$rel"
      else
        rm -f "$out"
        exit 1
      fi
    fi
    rm -f "$out"
  done
done
if [ "$found" -eq 0 ]; then echo "no fuzz targets found"; exit 1; fi
echo "== $found fuzz targets passed"
