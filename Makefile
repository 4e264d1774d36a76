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
DEMO_PASSWORD := offkit-demo-password

.PHONY: all build tools test lint fuzz bench demo tidy-check clean distclean

all: build

build:
	CGO_ENABLED=0 go build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/offkit

tools:
	scripts/tools.sh

test: tools
	$(TOOLS_ENV) OFFKIT_REQUIRE_INTEROP=1 go test -count=1 -timeout 30m ./...
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
	else \
		echo "lint: staticcheck $(STATICCHECK_VERSION) unavailable; skipped" >&2; \
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

demo: build tools
	@rm -rf $(DEMO_DIR); mkdir -p $(DEMO_DIR)/extracted; \
	export COSIGN_PASSWORD='$(DEMO_PASSWORD)' TUF_ROOT="$(CURDIR)/$(DEMO_DIR)/tuf" $(TOOLS_ENV); \
	export SOURCE_DATE_EPOCH="$$(git log -1 --format=%ct 2>/dev/null || echo 1700000000)"; \
	echo "+ SOURCE_DATE_EPOCH=$$SOURCE_DATE_EPOCH  # the last commit's time: a reproducible kit"; \
	run() { echo "+ $$*"; "$$@"; }; \
	run $(BIN) keygen --output-key-prefix $(DEMO_DIR)/demo; \
	run $(BIN) build testdata/example/kit.yaml -o $(DEMO_DIR)/example.tar.zst --key $(DEMO_DIR)/demo.key; \
	run $(BIN) verify $(DEMO_DIR)/example.tar.zst --key $(DEMO_DIR)/demo.pub; \
	run $(BIN) inspect $(DEMO_DIR)/example.tar.zst; \
	echo "# The air-gapped site: unpack all or nothing, remembering the version accepted"; \
	mkdir -p $(DEMO_DIR)/site $(DEMO_DIR)/state; \
	run $(BIN) unpack $(DEMO_DIR)/example.tar.zst -C $(DEMO_DIR)/site --key $(DEMO_DIR)/demo.pub --state-dir $(DEMO_DIR)/state; \
	echo "# The cutover gate: the example still has a pending component, so the policy refuses it (exit 4)"; \
	status=0; run $(BIN) verify $(DEMO_DIR)/example.tar.zst --key $(DEMO_DIR)/demo.pub --policy testdata/example/policy.yaml || status=$$?; \
	if [[ $$status != 4 ]]; then echo "demo: expected exit 4 from the policy gate, got $$status" >&2; exit 1; fi; \
	echo "# exit 4, as expected: not cutover-ready until object-store-seeds is delivered"; \
	echo "# The same checks with stock tools only: GNU tar, sha256sum, cosign"; \
	run tar -xf $(DEMO_DIR)/example.tar.zst -C $(DEMO_DIR)/extracted; \
	cd $(DEMO_DIR)/extracted/concelier-lnm-21.101.0; \
	run sha256sum --check --strict SHA256SUMS; \
	run cosign verify-blob --key ../../demo.pub --signature SHA256SUMS.sig --insecure-ignore-tlog SHA256SUMS 2>&1 | grep -v '^WARNING'; \
	run cosign verify-blob-attestation --key ../../demo.pub --signature manifest.dsse.json \
		--type https://offkit.dev/kit-manifest/v1 --insecure-ignore-tlog migrations/21-101/apply.sh 2>&1 | grep -v '^WARNING'

tidy-check:
	go mod tidy
	git diff --exit-code go.mod go.sum

clean:
	rm -rf bin $(DEMO_DIR) .cache/bench

# Also drops the tool cache (cosign takes minutes to rebuild).
distclean: clean
	rm -rf .cache
