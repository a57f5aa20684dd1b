# WireLab — make targets. `make lesson-1` on a fresh machine; `make test` runs every test.
SWIFT ?= swift
DEBUG_BIN := .build/debug/wirelab
RELEASE_BIN := .build/release/wirelab
PYTHON ?= python3

.PHONY: build release test unit interop deps serve bench bench-perf tables clean

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

bench: release bench-perf
	$(PYTHON) Tests/Bench/bench.py --bin $(RELEASE_BIN)

# Performance against reference implementations (a C broadcaster, nginx), as ratios measured
# side by side: Tests/Bench/perf/README.md. The C programs are built here, never committed.
bench-perf: release
	@mkdir -p .build/bench
	cc -O2 -o .build/bench/ws_fanout_client Tests/Bench/perf/ws_fanout_client.c
	cc -O2 -o .build/bench/c_broadcaster Tests/Bench/perf/c_broadcaster.c
	$(PYTHON) Tests/Bench/perf/run_perf.py --bin $(RELEASE_BIN) --work .build/bench

lesson-%: release
	$(RELEASE_BIN) lesson $*

# Reruns every lesson and writes Lessons/results/ (Markdown, CSV, JSON, SVG) and the README tables.
tables: release
	$(RELEASE_BIN) lesson --tables

clean:
	rm -rf .build
