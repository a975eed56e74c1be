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
    go test -run "^${target}\$" -fuzz "^${target}\$" -fuzztime "$fuzztime" "$rel"
  done
done
if [ "$found" -eq 0 ]; then echo "no fuzz targets found"; exit 1; fi
echo "== $found fuzz targets passed"
