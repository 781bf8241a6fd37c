# Tacho — build, run, test. Every target installs what it needs on a fresh Debian box.
SWIFT        ?= swift
CONFIG       ?= release
INBOX        ?= ./inbox
STORE        ?= ./tacho-data
SUDO         := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
TACHO        := .build/$(CONFIG)/tacho

.PHONY: deps build run test bench clean

## deps: install libzstd-dev (the only system library Tacho links) when its header is missing
deps:
	@if [ ! -f /usr/include/zstd.h ] || ! pkg-config --exists libzstd 2>/dev/null; then \
		echo "installing libzstd-dev and pkg-config"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq libzstd-dev pkg-config >/dev/null; \
	fi

## build: release build of the tacho binary
build: deps
	$(SWIFT) build -c $(CONFIG) --product tacho

## run: watch ./inbox and ingest into ./tacho-data (Ctrl-C stops cleanly)
run: build
	@mkdir -p $(INBOX)
	$(TACHO) run --inbox $(INBOX) --store $(STORE)

## test: the whole test suite (unit, property, crash and end-to-end tests)
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

## bench: generate >= 1 M rows, ingest, query; prints one JSON object
bench: deps
	bash tools/bench

clean:
	rm -rf .build
