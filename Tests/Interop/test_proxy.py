"""`wirelab proxy` (PROTOCOL.md §7): every impairment measured through a real proxy process, with
real clients (curl, Python websockets, raw sockets) and small upstreams of our own.

Timing on a loaded machine: lower bounds are strict (the network the flag describes can never be
faster), upper bounds are generous, and we wait for conditions rather than sleep.
"""
import asyncio
import os
import random
import re
import select
import signal
import socket
import statistics
import subprocess
import threading
import time
import unittest

try:
    import websockets
    from websockets.asyncio.client import connect as _connect
    from websockets.exceptions import ConnectionClosed, InvalidStatus
except ImportError:  # a missing tool fails the tests (make test installs it), never skips them
    websockets = None

from test_curl import curl, curl_full
from wirelab_proxy import Upstream, WirelabProxy, echo, free_port, http_blob
from wirelab_server import WirelabServer, wirelab_bin


def connect_ws(uri, **kw):
    return _connect(uri, proxy=None, **kw)


def dial(port, timeout=5.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def recv_exactly(sock, n, timeout=15.0):
    sock.settimeout(timeout)
    out = bytearray()
    while len(out) < n:
        chunk = sock.recv(min(65536, n - len(out)))
        if not chunk:
            raise AssertionError(f"connection closed after {len(out)} of {n} bytes")
        out += chunk
    return bytes(out)


def read_head(sock, timeout=5.0):
    """Reads up to the end of an HTTP head; returns (status, head text, bytes after the head)."""
    sock.settimeout(timeout)
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(4096)
        if not chunk:
            raise AssertionError(f"closed inside a head: {buf!r}")
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), head.decode("latin-1"), rest


def wait_closed(sock, timeout):
    """Reads until EOF or reset; returns ('eof'|'reset', seconds waited) or fails after `timeout`."""
    t0 = time.monotonic()
    sock.settimeout(0.2)
    while time.monotonic() - t0 < timeout:
        try:
            if not sock.recv(65536):
                return "eof", time.monotonic() - t0
        except socket.timeout:
            continue
        except ConnectionResetError:
            return "reset", time.monotonic() - t0
    raise AssertionError(f"connection still open after {timeout} s")


BROWSER_UPGRADE = (b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
                   b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                   b"Origin: http://127.0.0.1\r\n\r\n")


class TestProxyCLI(unittest.TestCase):
    def test_first_line_then_one_json_line_at_sigterm(self):
        with Upstream(echo) as up:
            px = WirelabProxy(up.url).start()
            self.assertEqual(px.shown_upstream, up.url)
            s = dial(px.port)
            s.sendall(b"hello")
            self.assertEqual(recv_exactly(s, 5), b"hello")
            s.close()
            self.assertEqual(px.stop(signal.SIGINT), 0)
        c = px.counters
        self.assertEqual(c["connections"], 1)
        self.assertEqual(c["downstream"], {"bytes_in": 5, "bytes_out": 5})
        self.assertEqual(c["upstream"], {"bytes_in": 5, "bytes_out": 5})
        for key in ("delay", "bandwidth", "stall", "buffer", "idle_timeout", "strip_upgrade", "kill_ws", "cut"):
            self.assertEqual(c["fired"][key], 0, key)

    def test_bad_flags_are_usage_errors_naming_the_flag(self):
        cases = [
            ([], "--upstream"),
            (["--upstream", "ftp://x"], "--upstream"),
            (["--upstream", "http://127.0.0.1:1", "--delay", "-1"], "--delay"),
            (["--upstream", "http://127.0.0.1:1", "--jitter", "x"], "--jitter"),
            (["--upstream", "http://127.0.0.1:1", "--bandwidth", "0"], "--bandwidth"),
            (["--upstream", "http://127.0.0.1:1", "--stall-every", "1"], "--stall-every"),
            (["--upstream", "http://127.0.0.1:1", "--stall-ms", "10"], "--stall-ms"),
            (["--upstream", "http://127.0.0.1:1", "--stall-every", "0.1", "--stall-ms", "200"], "--stall-ms"),
            (["--upstream", "http://127.0.0.1:1", "--buffer", "1.5"], "--buffer"),
            (["--upstream", "http://127.0.0.1:1", "--idle-timeout", "0"], "--idle-timeout"),
            (["--upstream", "http://127.0.0.1:1", "--kill-ws-after", "soon"], "--kill-ws-after"),
            (["--upstream", "http://127.0.0.1:1", "--cut-every", "-2"], "--cut-every"),
            (["--upstream", "http://127.0.0.1:1", "--port", "70000"], "--port"),
            (["--upstream", "http://127.0.0.1:1", "--strip-upgrades"], "--strip-upgrades"),
        ]
        for args, flag in cases:
            with self.subTest(args=args):
                p = subprocess.run([wirelab_bin(), "proxy", *args], capture_output=True, timeout=10)
                self.assertEqual(p.returncode, 2, p.stderr)
                err = p.stderr.decode()
                self.assertEqual(len(err.strip().splitlines()), 1, err)
                self.assertIn(flag, err)
                self.assertEqual(p.stdout, b"")

    def test_help_teaches_each_impairment(self):
        p = subprocess.run([wirelab_bin(), "proxy", "--help"], capture_output=True, timeout=10)
        self.assertEqual(p.returncode, 0)
        text = p.stdout.decode()
        for flag in ("--delay", "--jitter", "--bandwidth", "--stall-every", "--stall-ms", "--buffer",
                     "--idle-timeout", "--strip-upgrade", "--kill-ws-after", "--cut-every"):
            self.assertGreaterEqual(text.count(flag), 2, f"{flag}: an option line and what it models")

    def test_unreachable_upstream_gives_502_and_the_proxy_keeps_serving(self):
        with WirelabProxy(f"http://127.0.0.1:{free_port()}") as px:
            for _ in range(3):
                status, _, body = curl_full(f"{px.base}/poll")
                self.assertEqual(status, 502)
                self.assertIn(b"unreachable", body)
            self.assertTrue(px.alive())
        self.assertEqual(px.counters["upstream_failures"], 3)


class TestProxyBytes(unittest.TestCase):
    def test_unimpaired_bytes_out_equal_bytes_in_to_the_byte(self):
        payload = random.Random(1).randbytes(1_000_000)
        with Upstream(echo) as up, WirelabProxy(up.url) as px:
            s = dial(px.port)
            got = bytearray()

            def reader():
                got.extend(recv_exactly(s, len(payload), timeout=30))

            t = threading.Thread(target=reader)
            t.start()
            for i in range(0, len(payload), 7919):      # odd-sized writes
                s.sendall(payload[i:i + 7919])
            t.join(40)
            s.shutdown(socket.SHUT_WR)
            self.assertEqual(wait_closed(s, 5)[0], "eof", "the half-close is passed on, and back")
            s.close()
        self.assertTrue(bytes(got) == payload, "every byte, in order, both ways")
        c = px.counters
        n = len(payload)
        self.assertEqual((c["downstream"]["bytes_in"], c["upstream"]["bytes_out"]), (n, n))
        self.assertEqual((c["upstream"]["bytes_in"], c["downstream"]["bytes_out"]), (n, n))

    def test_small_messages_one_at_a_time_come_back_in_order_and_counted(self):
        # The relay's fast path: each 64-byte message is its own read, written straight on, with
        # nothing queued. Every message must still come back whole, in order, and be counted.
        count, size = 2000, 64
        with Upstream(echo) as up, WirelabProxy(up.url) as px:
            s = dial(px.port)
            got = bytearray()
            for i in range(count):
                msg = (b"%08d" % i) * (size // 8)
                s.sendall(msg)
                if i % 50 == 49:                 # read back as we go: small reads, no backlog
                    got += recv_exactly(s, (i + 1) * size - len(got))
            got += recv_exactly(s, count * size - len(got))
            s.close()
        want = b"".join((b"%08d" % i) * (size // 8) for i in range(count))
        self.assertTrue(bytes(got) == want, "every message back, whole and in order")
        c = px.counters
        self.assertEqual((c["downstream"]["bytes_in"], c["upstream"]["bytes_out"]), (count * size,) * 2)
        self.assertEqual((c["upstream"]["bytes_in"], c["downstream"]["bytes_out"]), (count * size,) * 2)

    def test_a_response_still_in_the_delay_line_when_the_server_closes_arrives_whole(self):
        size = 300_000
        with Upstream(http_blob(size)) as up, WirelabProxy(up.url, "--delay", "40") as px:
            s = dial(px.port)
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            status, _, rest = read_head(s)
            body = rest + recv_exactly(s, size - len(rest))
            self.assertEqual((status, len(body)), (200, size))
            self.assertEqual(wait_closed(s, 5)[0], "eof", "then the server's close is passed on")
            s.close()

    def test_a_client_that_does_not_read_makes_the_proxy_stop_reading_backpressure(self):
        total = 64 * 1024 * 1024
        sent = [0]

        def blast(sock):
            chunk = b"y" * 65536
            while sent[0] < total:
                sock.sendall(chunk)          # blocks once the proxy stops reading
                sent[0] += len(chunk)
            sock.shutdown(socket.SHUT_WR)

        with Upstream(blast) as up, WirelabProxy(up.url) as px:
            s = dial(px.port)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
            time.sleep(1.5)                  # not reading
            stalled_at = sent[0]
            rss_kb = int(re.search(r"VmRSS:\s+(\d+)", open(f"/proc/{px.proc.pid}/status").read()).group(1))
            self.assertLess(stalled_at, 40 * 1024 * 1024, "the upstream was held back, not drained into memory")
            self.assertLess(rss_kb, 200 * 1024, f"the proxy holds a bounded queue (RSS {rss_kb} KiB)")
            got = 0
            s.settimeout(20)
            while True:
                data = s.recv(1 << 20)
                if not data:
                    break
                got += len(data)
            s.close()
        self.assertEqual(got, total, "reading again drains everything, nothing lost")

    def test_jitter_never_reorders_ten_thousand_sequenced_chunks(self):
        with Upstream(echo) as up, WirelabProxy(up.url, "--delay", "3", "--jitter", "3") as px:
            s = dial(px.port)
            count = 10_000
            got = bytearray()
            t = threading.Thread(target=lambda: got.extend(recv_exactly(s, 8 * count, timeout=60)))
            t.start()
            for seq in range(count):
                s.send(seq.to_bytes(8, "big"))
                if seq % 20 == 0:
                    time.sleep(0.0005)                 # let the proxy read separate chunks
            t.join(70)
            s.close()
        seqs = [int.from_bytes(got[i:i + 8], "big") for i in range(0, len(got), 8)]
        self.assertEqual(seqs, list(range(count)), "byte order is kept, as TCP keeps it")
        self.assertGreater(px.counters["fired"]["delay"], 100, "chunks really went through the jittered line")


class TestProxyTiming(unittest.TestCase):
    def test_a_round_trip_through_delay_50_takes_at_least_100_ms(self):
        with Upstream(echo) as up, WirelabProxy(up.url, "--delay", "50") as px:
            s = dial(px.port)
            rtts = []
            for i in range(5):
                t0 = time.monotonic()
                s.sendall(b"ping%d" % i)
                recv_exactly(s, len(b"ping%d" % i))
                rtts.append((time.monotonic() - t0) * 1000)
            s.close()
        self.assertGreaterEqual(min(rtts), 100.0, f"each direction holds 50 ms: {rtts}")
        self.assertLess(statistics.median(rtts), 200.0, f"generous upper bound (100-130 expected): {rtts}")

    def test_bandwidth_800_kbit_carries_200_kb_in_2_s(self):
        size = 200_000        # the 1 MB / 10 s run is in `make bench`
        with Upstream(http_blob(size)) as up, WirelabProxy(up.url, "--bandwidth", "800") as px:
            s = dial(px.port)
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            status, _, rest = read_head(s)
            t0 = time.monotonic()
            body = rest + recv_exactly(s, size - len(rest), timeout=30)
            elapsed = time.monotonic() - t0
            s.close()
        self.assertEqual(len(body), size)
        expected = size / 100_000     # 800 kbit/s = 100,000 bytes/s
        self.assertGreaterEqual(elapsed, expected * 0.9, f"{elapsed:.2f} s")
        self.assertLessEqual(elapsed, expected * 1.1, f"{elapsed:.2f} s")
        self.assertGreater(px.counters["fired"]["bandwidth"], 0)

    def test_stall_holds_bytes_and_counts_it(self):
        with Upstream(echo) as up, WirelabProxy(up.url, "--stall-every", "0.5", "--stall-ms", "200") as px:
            s = dial(px.port)
            worst = 0.0
            t_end = time.monotonic() + 1.5
            i = 0
            while time.monotonic() < t_end:
                t0 = time.monotonic()
                s.sendall(b"%08d" % i)
                self.assertEqual(recv_exactly(s, 8), b"%08d" % i)
                worst = max(worst, time.monotonic() - t0)
                i += 1
                time.sleep(0.01)
            s.close()
        self.assertGreater(worst, 0.05, "some round trip waited for a stall window")
        self.assertGreater(px.counters["fired"]["stall"], 0)


class TestProxyMiddleboxes(unittest.TestCase):
    def test_buffer_holds_an_sse_stream_until_the_threshold(self):
        with WirelabServer("--rate", "20", "--size", "100", "--heartbeat", "60") as srv, \
                WirelabProxy(srv.base, "--buffer", "2") as px:
            s = dial(px.port)
            s.sendall(b"GET /sse HTTP/1.1\r\nHost: x\r\n\r\n")
            t_head = time.monotonic()
            status, head, rest = read_head(s)
            self.assertEqual(status, 200, "the head is not held")
            self.assertLess(time.monotonic() - t_head, 1.0, "the head is not held")
            body = bytearray(rest)
            s.settimeout(10)
            if not body:
                body += s.recv(65536)
            t_first = time.monotonic()
            s.settimeout(0.1)                      # what arrives together with the first bytes
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    body += chunk
            except socket.timeout:
                pass
            s.close()
        self.assertGreaterEqual(len(body), 2048, "the first body bytes come as one buffer of 2 KiB")
        # 20 events/s of ~190 bytes: 2 KiB pile up in ~0.5 s; direct, the first event comes in 50 ms.
        self.assertGreater(t_first - t_head, 0.2, "events were held, not streamed")
        self.assertGreater(px.counters["fired"]["buffer"], 0)

    def test_idle_timeout_cuts_an_idle_connection_and_spares_a_heartbeating_one(self):
        with WirelabServer("--rate", "0", "--heartbeat", "0.3") as srv, \
                WirelabProxy(srv.base, "--idle-timeout", "1") as px:
            idle = dial(px.port)
            stream = dial(px.port)
            stream.sendall(b"GET /sse HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertEqual(read_head(stream)[0], 200)
            how, waited = wait_closed(idle, 6)
            self.assertEqual(how, "eof", "closed like a load balancer closes: FIN")
            self.assertGreaterEqual(waited, 0.9)
            # The SSE stream gets `: hb` every 0.3 s: after 2.5 s it is still open.
            t_end = time.monotonic() + 2.5
            stream.settimeout(1.0)
            heartbeats = 0
            while time.monotonic() < t_end:
                chunk = stream.recv(4096)
                self.assertTrue(chunk, "the heartbeating stream was cut")
                heartbeats += chunk.count(b": hb")
            self.assertGreaterEqual(heartbeats, 3)
            stream.close()
        self.assertEqual(px.counters["fired"]["idle_timeout"], 1)

    def test_strip_upgrade_turns_a_browser_upgrade_into_426(self):
        with WirelabServer("--rate", "0") as srv, WirelabProxy(srv.base, "--strip-upgrade") as px:
            s = dial(px.port)
            s.sendall(BROWSER_UPGRADE)
            status, head, _ = read_head(s)
            s.close()
            self.assertEqual(status, 426)
            self.assertRegex(head.lower(), r"\r\nupgrade: websocket")

            async def go():
                with self.assertRaises(InvalidStatus) as ctx:
                    async with connect_ws(f"{px.ws_base}/ws"):
                        pass
                self.assertEqual(ctx.exception.response.status_code, 426)
            asyncio.run(asyncio.wait_for(go(), 10))
            self.assertEqual(curl(f"{px.base}/healthz").stdout, b"ok", "plain requests still pass")
        self.assertEqual(px.counters["fired"]["strip_upgrade"], 2)

    def test_kill_ws_after_resets_after_the_101(self):
        with WirelabServer("--rate", "20") as srv, WirelabProxy(srv.base, "--kill-ws-after", "300") as px:
            s = dial(px.port)
            s.sendall(BROWSER_UPGRADE)
            t0 = time.monotonic()
            status, _, _ = read_head(s)
            self.assertEqual(status, 101, "the handshake succeeds")
            how, waited = wait_closed(s, 5)
            self.assertEqual(how, "reset", "the middlebox resets (RST), it does not close")
            self.assertGreaterEqual(time.monotonic() - t0, 0.3 - 0.05)

            async def go():
                async with connect_ws(f"{px.ws_base}/ws") as ws:
                    await ws.recv()
                    with self.assertRaises(ConnectionClosed):
                        while True:
                            await ws.recv()
            asyncio.run(asyncio.wait_for(go(), 10))
        self.assertEqual(px.counters["fired"]["kill_ws"], 2)

    def test_cut_every_cuts_every_connection_at_once(self):
        with WirelabServer("--rate", "5", "--heartbeat", "60") as srv, WirelabProxy(srv.base, "--cut-every", "1.5") as px:
            socks = []
            for _ in range(5):
                s = dial(px.port)
                s.sendall(b"GET /sse HTTP/1.1\r\nHost: x\r\n\r\n")
                self.assertEqual(read_head(s)[0], 200)
                socks.append(s)
            closed_at = []
            for s in socks:
                wait_closed(s, 5)
                closed_at.append(time.monotonic())
                s.close()
        self.assertLess(max(closed_at) - min(closed_at), 0.3, "all at once")
        self.assertGreaterEqual(px.counters["fired"]["cut"], 5)


class TestProxyMany(unittest.TestCase):
    def test_five_hundred_streams_through_one_proxy_all_get_events(self):
        import selectors
        n = 500
        with WirelabServer("--rate", "5", "--heartbeat", "60") as srv, WirelabProxy(srv.base, "--delay", "10") as px:
            sel = selectors.DefaultSelector()
            got = {}
            for i in range(n):
                s = dial(px.port)
                s.sendall(b"GET /sse HTTP/1.1\r\nHost: x\r\n\r\n")
                s.setblocking(False)
                sel.register(s, selectors.EVENT_READ, i)
                got[i] = b""
            deadline = time.monotonic() + 20
            waiting = set(range(n))
            while waiting and time.monotonic() < deadline:
                for key, _ in sel.select(0.5):
                    data = key.fileobj.recv(65536)
                    self.assertTrue(data, f"stream {key.data} closed")
                    got[key.data] += data
                    if b"\nid: " in got[key.data] or got[key.data].count(b"id: ") > 0:
                        waiting.discard(key.data)
            for key in list(sel.get_map().values()):
                key.fileobj.close()
        self.assertEqual(waiting, set(), f"{len(waiting)} of {n} streams got no event")
        self.assertEqual(px.counters["connections"], n)


class TestProxyRealClients(unittest.TestCase):
    def test_curl_poll_and_sse_through_a_delayed_proxy(self):
        with WirelabServer("--rate", "10") as srv, WirelabProxy(srv.base, "--delay", "20", "--jitter", "10") as px:
            status, headers, body = curl_full(f"{px.base}/poll?since=0")
            self.assertEqual(status, 200)
            self.assertIn(b'"events":[', body)
            p = curl("-N", "--max-time", "1.5", f"{px.base}/sse", check_rc=False)
            self.assertEqual(p.returncode, 28, "curl ends by its own --max-time: the stream stayed open")
            ids = [int(m) for m in re.findall(rb"^id: (\d+)$", p.stdout, re.M)]
            self.assertGreaterEqual(len(ids), 5)
            self.assertEqual(ids, list(range(ids[0], ids[0] + len(ids))), "in order, none missing")

    def test_python_websockets_echo_through_a_jittery_proxy(self):
        if websockets is None:
            self.fail("Python package 'websockets' is not installed (make test installs it)")
        with WirelabServer("--rate", "0") as srv, WirelabProxy(srv.base, "--delay", "5", "--jitter", "5") as px:
            async def go():
                async with connect_ws(f"{px.ws_base}/echo") as ws:
                    for i in range(50):
                        await ws.send(f"text {i}")
                        await ws.send(bytes([i]) * (i * 100))
                    for i in range(50):
                        self.assertEqual(await ws.recv(), f"text {i}")
                        self.assertEqual(await ws.recv(), bytes([i]) * (i * 100))
            asyncio.run(asyncio.wait_for(go(), 20))


if __name__ == "__main__":
    unittest.main()
