#!/usr/bin/env bash
# The one test command (README: `make test`; CI: .ci/run). It installs what the suites need
# when it is missing, so a fresh machine needs nothing else typed.
set -euo pipefail
cd "$(dirname "$0")/.."

# as_root runs a command as root: directly when we are root (CI containers), else through sudo.
as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

echo "== tools for the end-to-end suites (e2e/)"
# Headless Chromium for the browser suite (e2e/browser_test.go): Debian's package.
if ! command -v chromium >/dev/null 2>&1 && [ -z "${CHROMIUM_PATH:-}" ]; then
	echo "installing chromium (apt-get)"
	as_root apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
command -v chromium >/dev/null 2>&1 && chromium --version 2>/dev/null || true
# curl for cmd/smartcar-sandbox's TestCIRecipe, which runs docs/ci.md's shell steps as written.
if ! command -v curl >/dev/null 2>&1; then
	echo "installing curl (apt-get)"
	as_root apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends curl ca-certificates >/dev/null
fi
# PostgreSQL's server binaries for the store's PostgreSQL suites (internal/store/pgtest starts
# its own cluster from them on a unix socket): Debian's package.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && [ -z "${SANDBOX_PG_BIN:-}" ]; then
	echo "installing postgresql (apt-get)"
	as_root apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi
# The official Smartcar Node SDK for e2e/node_sdk_test.go, exactly as locked.
if [ ! -d e2e/node/node_modules ] || [ e2e/node/package-lock.json -nt e2e/node/node_modules ]; then
	echo "installing e2e/node dependencies (npm ci)"
	npm ci --prefix e2e/node --no-audit --no-fund --loglevel=error
	touch e2e/node/node_modules
fi
# The official @smartcar/auth browser SDK for e2e/websdk_test.go, exactly as locked.
if [ ! -d e2e/web/node_modules ] || [ e2e/web/package-lock.json -nt e2e/web/node_modules ]; then
	echo "installing e2e/web dependencies (npm ci)"
	npm ci --prefix e2e/web --no-audit --no-fund --loglevel=error
	touch e2e/web/node_modules
fi

echo "== gofmt / go vet"
unformatted=$(gofmt -l $(git ls-files '*.go') 2>/dev/null || true)
if [ -n "$unformatted" ]; then echo "gofmt needed:"; echo "$unformatted"; exit 1; fi
go vet ./...

echo "== go test -race ./..."
# CI=true makes the e2e and PostgreSQL suites fail, not skip, when a tool above is still missing.
go test -race -count=1 ./...

echo "== fuzz (FUZZTIME each, default 10s)"
scripts/fuzz.sh
