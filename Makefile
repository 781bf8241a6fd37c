# Tacho — build, run, test. Every target installs what it needs on a fresh Debian box.
SWIFT        ?= swift
CONFIG       ?= release
INBOX        ?= ./inbox
STORE        ?= ./tacho-data
SUDO         := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
TACHO        := .build/$(CONFIG)/tacho

.PHONY: deps test-deps build build-tacho run test bench clean static deb deb-test install

## deps: install libzstd-dev (the only system library Tacho links) when its header is missing
deps:
	@if [ ! -f /usr/include/zstd.h ] || ! pkg-config --exists libzstd 2>/dev/null; then \
		echo "installing libzstd-dev and pkg-config"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq libzstd-dev pkg-config >/dev/null; \
	fi

## build: release build of tacho and of tacho-net (shipping, tacho serve), which tacho execs
build: build-tacho
	$(SWIFT) build -c $(CONFIG) --product tacho-net

build-tacho: deps
	$(SWIFT) build -c $(CONFIG) --product tacho

## run: watch ./inbox and ingest into ./tacho-data (Ctrl-C stops cleanly); builds tacho only
## (the daemon needs no network stack; `make build` adds tacho-net for ship and serve)
run: build-tacho
	@mkdir -p $(INBOX)
	$(TACHO) run --inbox $(INBOX) --store $(STORE)

## test-deps: tools the packaging tests use (PackageTests, SystemdTests): lintian, debootstrap, dpkg-dev;
## .venv-test (tools/pyenv: pyarrow, duckdb from PyPI) that the Parquet export tests read files with, and
## .venv-spark (tools/pyenv --spark: pyspark; Java 17+) for the fleet-query test; a JRE when java is missing;
## .venv-s3 (tools/pyenv --s3: moto[server]), the S3 API tools/s3-test-server runs for the shipping tests;
## .venv-openapi (tools/pyenv --openapi: schemathesis), which tools/openapi-check runs against the HTTP server;
## chromium and chromium-driver (Debian's) and .venv-browser (tools/pyenv --browser: selenium) for the console's browser test
test-deps:
	@need=""; \
	command -v lintian >/dev/null || need="$$need lintian"; \
	command -v debootstrap >/dev/null || [ -x /usr/sbin/debootstrap ] || need="$$need debootstrap"; \
	command -v dpkg-shlibdeps >/dev/null || need="$$need dpkg-dev"; \
	python3 -c 'import ensurepip, venv' 2>/dev/null || need="$$need python3-venv"; \
	command -v java >/dev/null || need="$$need default-jre-headless"; \
	command -v chromium >/dev/null || need="$$need chromium"; \
	command -v chromedriver >/dev/null || need="$$need chromium-driver"; \
	if [ -n "$$need" ]; then echo "installing$$need"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$need >/dev/null; fi
	@bash tools/pyenv >/dev/null
	@bash tools/pyenv --spark >/dev/null
	@bash tools/pyenv --s3 >/dev/null
	@bash tools/pyenv --openapi >/dev/null
	@bash tools/pyenv --browser >/dev/null

## test: the whole test suite (unit, property, crash and end-to-end tests; the package test
## installs the static binary's .deb in a Debian root without Swift)
## The HTTP suites run in a test process of their own: their servers and clients run on Swift's
## cooperative pool (one thread per core), which the other suites' synchronous tests block while
## they wait for child processes; on 2 cores that starved them into timeouts in full runs.
test: deps test-deps static
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --skip TachoHTTPTests
	$(SWIFT) test --skip-build --filter TachoHTTPTests

## bench: generate >= 1 M rows, ingest, query; prints one JSON object
bench: deps
	bash tools/bench

## static: the shipped binary: Swift runtime linked in (--static-swift-stdlib), no $$ORIGIN run path;
## needs only libc6, libstdc++6, libgcc-s1 and libzstd1 at run time; BIND_NOW (lintian hardening)
STATIC_TACHO := .build-static/release/tacho
static: deps
	$(SWIFT) build -c release --product tacho --static-swift-stdlib --disable-local-rpath -Xlinker -z -Xlinker now --scratch-path .build-static
	$(SWIFT) build -c release --product tacho-net --static-swift-stdlib --disable-local-rpath -Xlinker -z -Xlinker now --scratch-path .build-static

## deb: dist/tacho_VERSION_ARCH.deb with dpkg-deb (tools/deb-build), then lintian (no errors allowed)
deb: static test-deps
	bash tools/deb-build --binary $(STATIC_TACHO) > .deb-path
	lintian --fail-on error "$$(cat .deb-path)"
	@echo "package: $$(cat .deb-path)"; rm -f .deb-path

## deb-test: install, query, upgrade, remove and purge the .deb in a root without Swift (tools/deb-test)
deb-test: deb
	bash tools/deb-test "$$(ls -t dist/tacho_*.deb | head -1)"

## install: binary, completions and man page under PREFIX (default /usr/local; DESTDIR for staging)
PREFIX  ?= /usr/local
DESTDIR ?=
install: static
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/zsh/site-functions \
		$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 0755 -s $(STATIC_TACHO) $(DESTDIR)$(PREFIX)/bin/tacho
	$(STATIC_TACHO) --generate-completion-script bash | sed '1{/^#!/d}' > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/tacho
	$(STATIC_TACHO) --generate-completion-script zsh > $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_tacho
	$(STATIC_TACHO) --generate-completion-script fish > $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/tacho.fish
	bash tools/deb-manpage $(STATIC_TACHO) $(DESTDIR)$(PREFIX)/share/man/man1/tacho.1

clean:
	rm -rf .build .build-static .build-manual dist
