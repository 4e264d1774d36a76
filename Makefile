# offkit — build, test and developer tasks. Requires GNU make and bash.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
BIN     := bin/offkit
PKG     := github.com/offkit/offkit
LDFLAGS := -X $(PKG)/internal/version.Version=$(VERSION)

# Test tools (cosign) are installed here by scripts/tools.sh.
TOOLS_BIN := $(CURDIR)/.cache/bin
TOOLS_ENV := PATH="$(TOOLS_BIN):$$PATH"

# staticcheck 2026.2.2 = module v0.8.2: newest on the module proxy, built for
# Go 1.26. Skipped (with a note) if it cannot be fetched.
STATICCHECK_VERSION ?= v0.8.2
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

FUZZTIME ?= 10s
# Minimising each new input may take a minute by default: keep short runs fuzzing.
FUZZMINIMIZETIME ?= 2s
DEMO_DIR := .cache/demo
PREFIX ?= /usr/local

.PHONY: all build tools test lint fuzz bench demo interop install tidy-check clean distclean

all: build

build:
	CGO_ENABLED=0 go build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/offkit

tools:
	scripts/tools.sh

# Packages whose code runs goroutines get the race detector too.
RACE_PKGS := ./bundle/ ./verify/ ./publish/ ./store/ ./unpack/ ./images/

test: tools
	$(TOOLS_ENV) OFFKIT_REQUIRE_INTEROP=1 go test -count=1 -timeout 30m ./...
	$(TOOLS_ENV) OFFKIT_REQUIRE_INTEROP=1 go test -race -count=1 -timeout 30m $(RACE_PKGS)
	@# offkit must keep building where auditors and sites run it.
	GOOS=darwin go build ./...
	GOOS=windows go build ./...

lint:
	@out="$$(gofmt -l .)"; \
	if [[ -n "$$out" ]]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	go vet ./...
	@if go run $(STATICCHECK) -version >/dev/null 2>&1; then \
		echo "go run $(STATICCHECK) ./..."; \
		go run $(STATICCHECK) ./...; \
	elif [[ -n "$${CI:-}" ]]; then \
		echo "lint: staticcheck $(STATICCHECK_VERSION) cannot be fetched, and CI is set: that is a failure" >&2; exit 1; \
	else \
		echo "lint: staticcheck $(STATICCHECK_VERSION) unavailable; skipped (set CI=1 to make this a failure)" >&2; \
	fi

# Discovers every Fuzz* target in every package and fuzzes each for FUZZTIME.
fuzz:
	@targets="$$(go test -list '^Fuzz' ./... | awk ' \
		/^Fuzz/ { names = names " " $$1; next } \
		/^ok/   { if (names != "") print $$2 names; names = "" }')"; \
	if [[ -z "$$targets" ]]; then echo "fuzz: no fuzz targets found"; exit 0; fi; \
	while read -r pkg names; do \
		for name in $$names; do \
			echo "go test -run '^\$$' -fuzz '^$$name\$$' -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME) $$pkg"; \
			go test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME) "$$pkg"; \
		done; \
	done <<< "$$targets"

bench: build tools
	OFFKIT="$(CURDIR)/$(BIN)" scripts/bench.sh

# The main job on the example kit, with the tools a fresh machine has; the
# cosign CLI's checks run too when it is installed (make interop).
demo: build
	OFFKIT=$(BIN) scripts/demo.sh

# The demo with the cosign CLI required (installed first: a few minutes).
interop: build tools
	$(TOOLS_ENV) OFFKIT=$(BIN) scripts/demo.sh --require-cosign

# Installs the offkit binary into $(PREFIX)/bin (default /usr/local/bin).
install: build
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/offkit

tidy-check:
	go mod tidy
	git diff --exit-code go.mod go.sum

clean:
	rm -rf bin $(DEMO_DIR) .cache/bench

# Also drops the tool cache (cosign takes minutes to rebuild).
distclean: clean
	rm -rf .cache
