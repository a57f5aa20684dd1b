# WireLab — make targets. `make lesson-1` on a fresh machine; `make test` runs every test.
SWIFT ?= swift
DEBUG_BIN := .build/debug/wirelab
RELEASE_BIN := .build/release/wirelab
PYTHON ?= python3

.PHONY: build release test unit interop deps serve bench tables clean

build:
	$(SWIFT) build

release:
	$(SWIFT) build -c release

# Every test: unit tests, then interop tests with real clients (curl, Python websockets, Chromium).
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	$(PYTHON) Tests/Interop/run_all.py --bin $(DEBUG_BIN)

unit:
	$(SWIFT) test

interop: deps build
	$(PYTHON) Tests/Interop/run_all.py --bin $(DEBUG_BIN)

# Installs what the tests need, only when missing.
deps:
	@bash Tests/Interop/install-deps.sh

serve: release
	$(RELEASE_BIN) serve

bench: release
	$(PYTHON) Tests/Bench/bench.py --bin $(RELEASE_BIN)

lesson-%: release
	$(RELEASE_BIN) lesson $*

# Reruns every lesson and writes Lessons/results/ (Markdown, CSV, JSON, SVG) and the README tables.
tables: release
	$(RELEASE_BIN) lesson --tables

clean:
	rm -rf .build
