# WireLab — make targets. `make lesson-1` on a fresh machine; `make test` runs every test.
SWIFT ?= swift
DEBUG_BIN := .build/debug/wirelab
RELEASE_BIN := .build/release/wirelab
PYTHON ?= python3
# A hung test (a child whose exit was missed, a wait without a deadline) fails the run with a
# message instead of running into CI's limit. coreutils' timeout; none on a Mac without it.
TEST_TIMEOUT := $(shell command -v timeout >/dev/null 2>&1 && echo timeout 1800)

.PHONY: build release test unit interop deps serve bench bench-perf bench-proxy soak tables fuzz clean lesson-12 nginx

build:
	$(SWIFT) build

release:
	$(SWIFT) build -c release

# Every test: unit tests, then interop tests with real clients (curl, Python websockets, Chromium),
# once on the default selector backend (epoll on Linux) and once on poll(). A skipped or missing
# peer fails the run.
test: deps
	$(SWIFT) build --build-tests
	$(TEST_TIMEOUT) $(SWIFT) test --skip-build || { rc=$$?; if [ $$rc -eq 124 ]; then echo "make test: swift test ran over 30 min (a hang?) and was stopped" >&2; fi; exit $$rc; }
	$(PYTHON) Tests/Interop/run_all.py --bin $(DEBUG_BIN)
	$(PYTHON) Tests/Interop/run_all.py --bin $(DEBUG_BIN) --selector poll

unit:
	$(SWIFT) test

interop: deps build
	$(PYTHON) Tests/Interop/run_all.py --bin $(DEBUG_BIN)

# Installs what the tests need, only when missing.
deps:
	@bash Tests/Interop/install-deps.sh

serve: release
	$(RELEASE_BIN) serve

bench: release bench-perf bench-proxy
	$(PYTHON) Tests/Bench/bench.py --bin $(RELEASE_BIN)
	$(PYTHON) Tests/Bench/timing.py --bin $(RELEASE_BIN)

# Performance against reference implementations (a C broadcaster, nginx), as ratios measured
# side by side: Tests/Bench/perf/README.md. The C programs are built here, never committed.
bench-perf: release
	@mkdir -p .build/bench
	cc -O2 -o .build/bench/ws_fanout_client Tests/Bench/perf/ws_fanout_client.c
	cc -O2 -o .build/bench/c_broadcaster Tests/Bench/perf/c_broadcaster.c -lpthread
	$(PYTHON) Tests/Bench/perf/run_perf.py --bin $(RELEASE_BIN) --work .build/bench

# `wirelab proxy`: WebSocket fan-out direct vs through the proxy vs through --delay 50 (ratios),
# and --bandwidth 800 carrying 1 MB in 10 s. Tests/Bench/proxy_bench.py.
bench-proxy: release
	@mkdir -p .build/bench
	cc -O2 -o .build/bench/ws_fanout_client Tests/Bench/perf/ws_fanout_client.c
	$(PYTHON) Tests/Bench/proxy_bench.py --bin $(RELEASE_BIN) --client .build/bench/ws_fanout_client

# Not in `make test`: 10,000 WebSockets, 1,000 SSE streams and 500 long pollers at 10 events/s,
# 1% reconnecting every second, for SOAK_MINUTES (Tests/Bench/soak.py); then the slow bound tests
# (a fragmented WebSocket message stalled 30 s gets 1008).
SOAK_MINUTES ?= 10
soak: release
	@mkdir -p .build/bench
	cc -O2 -o .build/bench/soak_client Tests/Bench/soak_client.c
	$(PYTHON) Tests/Bench/soak.py --bin $(RELEASE_BIN) --client .build/bench/soak_client --minutes $(SOAK_MINUTES)
	WIRELAB_SLOW=1 $(PYTHON) Tests/Interop/run_all.py --bin $(RELEASE_BIN) -k TestSlowFragmentTimeout

# Lesson 12 drives headless Chromium, nginx and openssl (Lessons/12-http2/seven_streams.py):
# installed first when missing, as `make test` does.
lesson-12: release deps
	$(RELEASE_BIN) lesson 12

lesson-%: release
	$(RELEASE_BIN) lesson $*

# Lesson 10 puts Debian's nginx in front of the server (it starts it itself, as you, on
# 127.0.0.1 with a configuration under .build/wirelab-nginx/): installed here when missing.
lesson-10: nginx
tables: nginx deps
nginx:
	@command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || { \
	  echo "lesson 10: installing nginx with apt-get"; \
	  SUDO=""; [ "$$(id -u)" -eq 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq nginx >/dev/null; }

# Reruns every lesson and writes Lessons/results/ (Markdown, CSV, JSON, SVG) and the README tables.
tables: release
	$(RELEASE_BIN) lesson --tables

# libFuzzer on the HTTP request parser, the WebSocket frame decoder, the HPACK decoder and the
# HTTP/2 frame decoder + connection (Tests/Fuzz/), each for
# FUZZ_SECONDS; any bytes must give values or a typed error, never a trap. Seeds are written fresh.
# A compile error stops the target (the old binary is removed first, so a stale one never runs).
FUZZ_SECONDS ?= 30
# A target that crashes must hand the crash to libFuzzer (which writes crash-<sha1> and exits),
# not to Swift's backtracer: under ASan, swift-backtrace stayed attached and `make fuzz` never
# returned (checked with a target that calls fatalError: 0.4 s with this, a hang without).
fuzz: export SWIFT_BACKTRACE = enable=no
FUZZ_FLAGS = -O -sanitize=fuzzer,address -parse-as-library -module-name WireCodec
fuzz:
	@mkdir -p .build/fuzz/corpus-http .build/fuzz/corpus-websocket .build/fuzz/corpus-hpack .build/fuzz/corpus-http2
	printf 'GET /poll?since=1 HTTP/1.1\r\nHost: a\r\n\r\n' > .build/fuzz/corpus-http/seed-get
	printf '\005POST /publish HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n' > .build/fuzz/corpus-http/seed-chunked
	printf '\001\201\205\067\372\041\075\177\237\115\121\130' > .build/fuzz/corpus-websocket/seed-rfc6455-masked-hello
	printf '\020\202\206\204\101\214\361\343\302\345\362\072\153\240\253\220\364\377\377\202\206\204\276\130\206\250\353\020\144\234\277' > .build/fuzz/corpus-hpack/seed-rfc7541-c4
	printf '\011\000\000\005\001\005\000\000\000\001\202\206\204\101\000\000\000\002\000\001\000\000\000\001\150\151\000\000\004\010\000\000\000\000\001\000\000\001\000' > .build/fuzz/corpus-http2/seed-request
	rm -f .build/fuzz/http
	swiftc $(FUZZ_FLAGS) Sources/WireCodec/*.swift Tests/Fuzz/FuzzHTTPRequestParser.swift -o .build/fuzz/http 2> .build/fuzz/http.log; \
	  status=$$?; grep -v 'Cannot export' .build/fuzz/http.log >&2; exit $$status
	rm -f .build/fuzz/websocket
	swiftc $(FUZZ_FLAGS) Sources/WireCodec/*.swift Tests/Fuzz/FuzzWebSocketFrameDecoder.swift -o .build/fuzz/websocket 2> .build/fuzz/websocket.log; \
	  status=$$?; grep -v 'Cannot export' .build/fuzz/websocket.log >&2; exit $$status
	rm -f .build/fuzz/hpack
	swiftc $(FUZZ_FLAGS) Sources/WireCodec/*.swift Tests/Fuzz/FuzzHPACKDecoder.swift -o .build/fuzz/hpack 2> .build/fuzz/hpack.log; \
	  status=$$?; grep -v 'Cannot export' .build/fuzz/hpack.log >&2; exit $$status
	rm -f .build/fuzz/http2
	swiftc $(FUZZ_FLAGS) Sources/WireCodec/*.swift Tests/Fuzz/FuzzHTTP2FrameDecoder.swift -o .build/fuzz/http2 2> .build/fuzz/http2.log; \
	  status=$$?; grep -v 'Cannot export' .build/fuzz/http2.log >&2; exit $$status
	.build/fuzz/http -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 .build/fuzz/corpus-http
	.build/fuzz/websocket -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 .build/fuzz/corpus-websocket
	.build/fuzz/hpack -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 .build/fuzz/corpus-hpack
	.build/fuzz/http2 -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 .build/fuzz/corpus-http2

clean:
	rm -rf .build
