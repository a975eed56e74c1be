# smartcar-sandbox. `make run` starts the sandbox on the embedded fixtures; `make test` installs
# what the tests need (when missing) and runs every test suite.
GO ?= go
BIN := bin

.PHONY: run test test-go test-e2e build lint docker bench demo demo-reset clean

run:
	$(GO) run ./cmd/smartcar-sandbox

test:
	bash scripts/test.sh

# Only the Go tests, without the browser and Node SDK suites' installs.
test-go:
	$(GO) vet ./...
	$(GO) test -race ./...

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN)/ ./cmd/...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# The offline tutorial: sandbox + tutorial backend with the demo app (docs/tutorial.md,
# docs/workshop.md). Ctrl-C stops both; their state stays in demo-data/ (ignored by git), so
# running it again keeps every phone connected.
demo:
	bash scripts/demo.sh

# Forget the demo's state (users, grants, keys, sessions): the next `make demo` starts clean.
demo-reset:
	rm -rf demo-data
	@echo "demo state removed; the next \`make demo\` starts clean"

# Only the end-to-end suites (headless Chromium, the Node SDK), verbose.
test-e2e:
	$(GO) test -race -count=1 -v ./e2e

# Load benchmark: builds the sandbox, starts it on loopback and prints a table (a few
# minutes; see BENCHMARKS.md). Not part of `make test`.
bench:
	$(GO) run ./cmd/sandbox-bench

docker:
	docker build -t smartcar-sandbox .

clean:
	rm -rf $(BIN) artifacts
