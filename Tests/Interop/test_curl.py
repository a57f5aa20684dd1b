"""Real curl against /poll, /longpoll, /sse, /publish, /stats, /time, /healthz (PROTOCOL.md §1, §2)."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest

from wirelab_server import WirelabServer

EVENT_RE = re.compile(r'^\{"id":(\d+),"ts":(\d+),"topic":"(tick|chat)","data":"((?:[^"\\]|\\.)*)"\}$')
TICK_DATA_RE = re.compile(r"^[\x20-\x7e]*$")


def curl_bin():
    path = shutil.which("curl")
    if not path:
        raise AssertionError("curl is not installed (make test installs it)")
    return path


def curl(*args, timeout=15, check_rc=True):
    """Runs curl -sS ARGS; returns CompletedProcess (stdout bytes)."""
    p = subprocess.run([curl_bin(), "-sS", "--noproxy", "*", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    if check_rc and p.returncode != 0:
        raise AssertionError(f"curl {' '.join(args)} exited {p.returncode}: {p.stderr.decode(errors='replace')}")
    return p


def curl_full(*args, **kw):
    """curl -i: (status, headers lowercase dict, body bytes)."""
    p = curl("-i", *args, **kw)
    return split_response(p.stdout)


def split_response(raw):
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers, body


def compact(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)



def wait_parked(srv, client, timeout=10.0):
    """Until the server has counted the long poll tagged `client` (it is parked): a condition,
    not a sleep, so a slow start of curl cannot reorder the test."""
    deadline = time.monotonic() + timeout
    while srv.stats(client)["requests"] < 1:
        if time.monotonic() > deadline:
            raise AssertionError(f"the long poll of {client} never reached the server")
        time.sleep(0.01)

class CurlCase(unittest.TestCase):
    def assert_event(self, ev_text, topic=None, size=None):
        """ev_text: the JSON of one event as it appears on the wire (PROTOCOL.md §1)."""
        m = EVENT_RE.match(ev_text)
        self.assertIsNotNone(m, f"event is not exactly {{\"id\",\"ts\",\"topic\",\"data\"}} compact JSON: {ev_text!r}")
        ev = json.loads(ev_text)
        self.assertEqual(list(ev.keys()), ["id", "ts", "topic", "data"])
        now = time.time() * 1e6
        self.assertTrue(abs(ev["ts"] - now) < 120e6, f"ts {ev['ts']} is not microseconds near now {now:.0f}")
        if topic:
            self.assertEqual(ev["topic"], topic)
        if size is not None and ev["topic"] == "tick":
            self.assertEqual(len(ev["data"]), size)
            self.assertRegex(ev["data"], TICK_DATA_RE)
        return ev

    def assert_poll_body(self, raw):
        """The body is exactly {"events":[...],"next":M,"missed":K}, compact, keys in order."""
        text = raw.decode("utf-8")
        body = json.loads(text)
        self.assertEqual(list(body.keys()), ["events", "next", "missed"], text[:200])
        self.assertEqual(compact(body), text, "poll body is not compact JSON with the contract's key order")
        for ev in body["events"]:
            self.assert_event(compact(ev))
        return body


class TestPoll(CurlCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = WirelabServer("--rate", "0", "--history", "5").start()
        for i in range(8):
            cls.srv.publish(f"m{i + 1}")   # ids 1..8; ids 1..3 fall out of history 5

    @classmethod
    def tearDownClass(cls):
        rc = cls.srv.stop()
        assert rc == 0, f"serve exited {rc}"

    def poll(self, query):
        status, headers, body = curl_full(f"{self.srv.base}/poll{query}")
        self.assertEqual(status, 200, body)
        self.assertTrue(headers.get("content-type", "").startswith("application/json"), headers)
        return self.assert_poll_body(body)

    def test_poll_without_since(self):
        p = curl(f"{self.srv.base}/poll")
        self.assertEqual(p.stdout, b'{"events":[],"next":8,"missed":0}')

    def test_poll_since_missed_next(self):
        b = self.poll("?since=0")
        self.assertEqual([e["id"] for e in b["events"]], [4, 5, 6, 7, 8])
        self.assertEqual(b["next"], 8)
        self.assertEqual(b["missed"], 3)
        self.assertEqual(b["events"][0]["data"], "m4")
        self.assertEqual(b["events"][0]["topic"], "chat")
        b = self.poll("?since=2")
        self.assertEqual([e["id"] for e in b["events"]], [4, 5, 6, 7, 8])
        self.assertEqual(b["missed"], 1)
        b = self.poll("?since=3")
        self.assertEqual(b["missed"], 0)
        b = self.poll("?since=6")
        self.assertEqual([e["id"] for e in b["events"]], [7, 8])
        self.assertEqual((b["next"], b["missed"]), (8, 0))

    def test_poll_limit(self):
        b = self.poll("?since=4&limit=2")
        self.assertEqual([e["id"] for e in b["events"]], [5, 6])
        self.assertEqual(b["next"], 6)
        b = self.poll("?since=4&limit=0")
        self.assertEqual(b["events"], [])
        self.assertEqual(b["next"], 4, "next is N when nothing is returned")
        b = self.poll("?since=4&limit=5000")   # clamped, not an error
        self.assertEqual([e["id"] for e in b["events"]], [5, 6, 7, 8])

    def test_poll_caught_up(self):
        b = self.poll("?since=8")
        self.assertEqual(b, {"events": [], "next": 8, "missed": 0})

    def test_poll_since_beyond_latest_is_since_0(self):
        b0 = self.poll("?since=0")
        b = self.poll("?since=1000")
        self.assertEqual(b, b0)


class TestPollTicks(CurlCase):
    def test_poll_tick_events_shape(self):
        with WirelabServer("--rate", "50", "--size", "17") as srv:
            srv.wait_for_latest(5)
            p = curl(f"{srv.base}/poll?since=0&limit=5")
            body = self.assert_poll_body(p.stdout)
            self.assertEqual([e["id"] for e in body["events"]], [1, 2, 3, 4, 5])
            ts = [e["ts"] for e in body["events"]]
            self.assertEqual(ts, sorted(ts))
            for e in body["events"]:
                self.assert_event(compact(e), topic="tick", size=17)


class TestLongPoll(CurlCase):
    def test_longpoll_answers_at_once_when_an_event_exists(self):
        with WirelabServer("--rate", "0") as srv:
            srv.publish("a")
            t0 = time.monotonic()
            p = curl(f"{srv.base}/longpoll?since=0&timeout=10")
            self.assertLess(time.monotonic() - t0, 1.0)
            body = self.assert_poll_body(p.stdout)
            self.assertEqual([e["id"] for e in body["events"]], [1])
            self.assertEqual(body["next"], 1)

    def test_longpoll_timeout_1(self):
        with WirelabServer("--rate", "0") as srv:
            srv.publish("a")
            t0 = time.monotonic()
            p = curl(f"{srv.base}/longpoll?since=1&timeout=1")
            dt = time.monotonic() - t0
            self.assertEqual(p.stdout, b'{"events":[],"next":1,"missed":0}')
            # Not early; how late is the machine's business (the exact deadline is checked at
            # virtual times in LongPollVirtualTimeTests).
            self.assertGreaterEqual(dt, 0.9, f"timeout=1 answered after {dt:.2f} s")

    def test_longpoll_waits_for_publish(self):
        with WirelabServer("--rate", "0") as srv:
            srv.publish("a")
            proc = subprocess.Popen([curl_bin(), "-sS", "--noproxy", "*", "--max-time", "10",
                                     f"{srv.base}/longpoll?since=1&timeout=5&client=lp-wait"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            wait_parked(srv, "lp-wait")
            self.assertIsNone(proc.poll(), "longpoll answered before any new event")
            srv.publish("b")
            out, err = proc.communicate(timeout=10)
            # Answered by the publish, not by the 5 s timeout: the body holds the event.
            body = self.assert_poll_body(out)
            self.assertEqual([(e["id"], e["data"]) for e in body["events"]], [(2, "b")])

    def test_longpoll_without_since_waits_for_next(self):
        with WirelabServer("--rate", "0") as srv:
            srv.publish("old1")
            srv.publish("old2")
            proc = subprocess.Popen([curl_bin(), "-sS", "--noproxy", "*", "--max-time", "10",
                                     f"{srv.base}/longpoll?timeout=5&client=lp-next"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            wait_parked(srv, "lp-next")     # else "new" could be published before curl asks
            self.assertIsNone(proc.poll(), "longpoll without since answered at once")
            srv.publish("new")
            out, _ = proc.communicate(timeout=10)
            body = self.assert_poll_body(out)
            self.assertEqual([(e["id"], e["data"]) for e in body["events"]], [(3, "new")])
            self.assertEqual(body["next"], 3)

    def test_longpoll_since_beyond_latest(self):
        with WirelabServer("--rate", "0") as srv:
            srv.publish("a")
            srv.publish("b")
            t0 = time.monotonic()
            p = curl(f"{srv.base}/longpoll?since=50&timeout=3")
            self.assertLess(time.monotonic() - t0, 1.0, "since > latest must be answered as since=0 (at once)")
            body = self.assert_poll_body(p.stdout)
            self.assertEqual([e["id"] for e in body["events"]], [1, 2])


def parse_sse(text):
    """Splits an SSE stream into blocks (strings without the trailing blank line)."""
    return [b for b in text.split("\n\n") if b]


class TestSSE(CurlCase):
    def sse(self, srv, path, seconds, headers=()):
        args = ["-N", "-i", "--max-time", str(seconds)]
        for h in headers:
            args += ["-H", h]
        p = curl(*args, f"{srv.base}{path}", check_rc=False, timeout=seconds + 10)
        self.assertIn(p.returncode, (0, 28), p.stderr)   # 28: --max-time reached (a stream never ends)
        return split_response(p.stdout)

    def test_sse_headers_and_blocks(self):
        with WirelabServer("--rate", "20", "--size", "10") as srv:
            status, headers, body = self.sse(srv, "/sse", 1.0)
            self.assertEqual(status, 200)
            self.assertEqual(headers.get("content-type", "").split(";")[0].strip(), "text/event-stream")
            self.assertEqual(headers.get("cache-control"), "no-store")
            self.assertEqual(headers.get("x-accel-buffering"), "no")
            text = body.decode("utf-8", "replace")
            blocks = parse_sse(text)
            if not text.endswith("\n\n"):
                blocks = blocks[:-1]   # --max-time may cut the last block
            self.assertGreaterEqual(len(blocks), 5, text[:300])
            ids = []
            for b in blocks:
                m = re.fullmatch(r"id: (\d+)\nevent: (tick|chat)\ndata: (.*)", b)
                self.assertIsNotNone(m, f"block is not 'id: N\\nevent: tick\\ndata: <json>': {b!r}")
                ev = self.assert_event(m.group(3), topic="tick", size=10)
                self.assertEqual(ev["id"], int(m.group(1)))
                self.assertEqual(m.group(2), ev["topic"])
                ids.append(ev["id"])
            self.assertEqual(ids, list(range(ids[0], ids[0] + len(ids))), "ids not consecutive")

    def test_sse_last_event_id_wins_and_replays(self):
        with WirelabServer("--rate", "0") as srv:
            for i in range(5):
                srv.publish(f"c{i + 1}")
            status, _, body = self.sse(srv, "/sse?since=4", 1.0, headers=["Last-Event-ID: 2"])
            self.assertEqual(status, 200)
            blocks = parse_sse(body.decode())
            ids = [int(re.match(r"id: (\d+)", b).group(1)) for b in blocks if b.startswith("id:")]
            self.assertEqual(ids, [3, 4, 5])
            self.assertTrue(all("\nevent: chat\n" in b for b in blocks if b.startswith("id:")))

    def test_sse_resume_beyond_latest_starts_over(self):
        with WirelabServer("--rate", "0") as srv:
            for i in range(3):
                srv.publish(f"c{i + 1}")
            for args in (["/sse", ["Last-Event-ID: 500"]], ["/sse?since=500", []]):
                with self.subTest(args=args):
                    _, _, body = self.sse(srv, args[0], 0.7, headers=args[1])
                    ids = [int(re.match(r"id: (\d+)", b).group(1)) for b in parse_sse(body.decode()) if b.startswith("id:")]
                    self.assertEqual(ids, [1, 2, 3], "a resume point beyond the latest id means the server restarted")

    def test_sse_since_replays(self):
        with WirelabServer("--rate", "0") as srv:
            for i in range(3):
                srv.publish(f"c{i + 1}")
            _, _, body = self.sse(srv, "/sse?since=1", 0.8)
            ids = [int(re.match(r"id: (\d+)", b).group(1)) for b in parse_sse(body.decode()) if b.startswith("id:")]
            self.assertEqual(ids, [2, 3])

    def test_sse_heartbeat(self):
        with WirelabServer("--rate", "0", "--heartbeat", "0.3") as srv:
            _, _, body = self.sse(srv, "/sse", 1.3)
            text = body.decode()
            self.assertGreaterEqual(text.count(": hb\n\n"), 2, f"expected ': hb' heartbeats: {text!r}")
            self.assertEqual(text.replace(": hb\n\n", ""), "", f"unexpected stream content {text!r}")

    def test_sse_http10(self):
        with WirelabServer("--rate", "0") as srv:
            srv.publish("one")
            p = curl("-0", "-N", "-i", "--max-time", "1", f"{srv.base}/sse?since=0", check_rc=False)
            self.assertIn(p.returncode, (0, 28), p.stderr)
            status, headers, body = split_response(p.stdout)
            self.assertEqual(status, 200)
            self.assertNotIn("chunked", headers.get("transfer-encoding", ""), "HTTP/1.0 has no chunked coding")
            self.assertTrue(body.startswith(b"id: 1\nevent: chat\ndata: {"), body[:100])


class TestPublish(CurlCase):
    def setUp(self):
        self.srv = WirelabServer("--rate", "0").start()

    def tearDown(self):
        rc = self.srv.stop()
        self.assertEqual(rc, 0)

    def post(self, body, content_type="text/plain", extra=()):
        with tempfile.NamedTemporaryFile(delete=False) as f:
            f.write(body)
            name = f.name
        try:
            return curl_full("-X", "POST", "-H", f"Content-Type: {content_type}", "--data-binary", f"@{name}",
                             *extra, f"{self.srv.base}/publish")
        finally:
            os.unlink(name)

    def test_publish_text_plain(self):
        status, headers, body = self.post(b"hello world")
        self.assertEqual(status, 200, body)
        self.assertEqual(body, b'{"id":1}')
        p = curl(f"{self.srv.base}/poll?since=0")
        m = re.fullmatch(rb'\{"events":\[\{"id":1,"ts":(\d+),"topic":"chat","data":"hello world"\}\],"next":1,"missed":0\}',
                         p.stdout)
        self.assertIsNotNone(m, p.stdout)

    def test_publish_json(self):
        status, _, body = self.post(b'{"data":"say \\"hi\\" \\\\ now"}', "application/json")
        self.assertEqual(status, 200, body)
        self.assertEqual(body, b'{"id":1}')
        status, _, body = self.post('{"data":"caf\u00e9 \u2603"}'.encode(), "application/json; charset=utf-8")
        self.assertEqual(status, 200, body)
        p = curl(f"{self.srv.base}/poll?since=0")
        b = self.assert_poll_body_loose(p.stdout)
        self.assertEqual([(e["topic"], e["data"]) for e in b["events"]],
                         [("chat", 'say "hi" \\ now'), ("chat", "caf\u00e9 \u2603")])
        first = p.stdout.decode().split('"events":[', 1)[1]
        self.assertTrue(re.match(r'\{"id":1,"ts":\d+,"topic":"chat","data":"say \\"hi\\" \\\\ now"\}', first), first)

    def assert_poll_body_loose(self, raw):
        body = json.loads(raw)
        self.assertEqual(list(body.keys()), ["events", "next", "missed"])
        for e in body["events"]:
            self.assertEqual(list(e.keys()), ["id", "ts", "topic", "data"])
        return body

    def test_publish_utf8_text(self):
        status, _, body = self.post("gr\u00fc\u00dfe \U0001F600".encode(), "text/plain; charset=utf-8")
        self.assertEqual(status, 200, body)
        b = self.assert_poll_body_loose(curl(f"{self.srv.base}/poll?since=0").stdout)
        self.assertEqual(b["events"][0]["data"], "gr\u00fc\u00dfe \U0001F600")

    def test_publish_rejects_bad_bodies(self):
        bad = [
            (b"\xff\xfe bad utf-8", "text/plain"),
            (b"caf\xc3", "text/plain"),
            (b'{"data":"\xff"}', "application/json"),
            (b'{"data":', "application/json"),
            (b"not json", "application/json"),
            (b'{"data":5}', "application/json"),
            (b'{"data":null}', "application/json"),
            (b'{"data":["x"]}', "application/json"),
            (b'{"other":"x"}', "application/json"),
        ]
        for body, ct in bad:
            with self.subTest(body=body, content_type=ct):
                status, _, resp = self.post(body, ct)
                self.assertEqual(status, 400, f"{body!r} as {ct}: {status} {resp!r}")
                self.assertIn("error", json.loads(resp))
        self.assertEqual(curl(f"{self.srv.base}/poll").stdout, b'{"events":[],"next":0,"missed":0}',
                         "a rejected body published something")

    def test_publish_control_characters_escaped_everywhere(self):
        text = 'line1\nline2\r\t\x01\x1f "quoted" back\\slash </script> \u2028'
        status, _, body = self.post(text.encode(), "text/plain; charset=utf-8")
        self.assertEqual(status, 200, body)
        raw = curl(f"{self.srv.base}/poll?since=0").stdout
        self.assertNotIn(b"\n", raw)
        self.assertEqual(json.loads(raw)["events"][0]["data"], text)
        p = curl("-N", "--max-time", "0.7", f"{self.srv.base}/sse?since=0", check_rc=False)
        blocks = parse_sse(p.stdout.decode())
        self.assertEqual(len(blocks), 1, f"a raw newline inside data breaks the SSE block: {p.stdout!r}")
        lines = blocks[0].split("\n")
        self.assertEqual(len(lines), 3, blocks[0])
        self.assertEqual(json.loads(lines[2][len("data: "):])["data"], text)

    def test_publish_with_expect_100_continue(self):
        # RFC 9110 §10.1.1: curl sends `Expect: 100-continue` and holds the body until the server's
        # `100 Continue` (here up to 10 s: --expect100-timeout); without it the publish would hit
        # --max-time 5 (exit 28).
        body = "e" * 3000
        with tempfile.NamedTemporaryFile(delete=False) as f:
            f.write(body.encode())
        try:
            t0 = time.monotonic()
            p = curl("--max-time", "5", "--expect100-timeout", "10", "-H", "Expect: 100-continue",
                     "-H", "Content-Type: text/plain", "--data-binary", f"@{f.name}", f"{self.srv.base}/publish")
            self.assertLess(time.monotonic() - t0, 5.0)
        finally:
            os.unlink(f.name)
        published = json.loads(p.stdout)["id"]
        poll = json.loads(curl(f"{self.srv.base}/poll?since={published - 1}").stdout)
        self.assertEqual([e["data"] for e in poll["events"]], [body])

    def test_expect_100_continue_on_a_transport_gets_no_interim_answer_and_exact_counts(self):
        # Only the endpoints that take a body answer `100 Continue`; a transport request that asks
        # for it (a GET with a body, odd but legal) gets no interim answer (RFC 9110 §10.1.1 lets
        # a server skip it): the client sends its body after its own expect timeout, gets the
        # final answer, and its counters in /stats hold exactly the bytes its socket carried.
        import select
        import socket
        head = (b"GET /poll?client=expect-x HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                b"Content-Length: 2\r\nConnection: close\r\n\r\n")
        with socket.create_connection(("127.0.0.1", self.srv.port), timeout=5) as c:
            c.sendall(head)
            readable, _, _ = select.select([c], [], [], 0.5)     # what curl's expect timeout waits for
            self.assertEqual(readable, [], "no 100 Continue for a transport endpoint")
            c.sendall(b"hi")
            answer = b""
            while True:
                try:
                    chunk = c.recv(4096)
                except ConnectionResetError:
                    break
                if not chunk:
                    break
                answer += chunk
        self.assertTrue(answer.startswith(b"HTTP/1.1 200 "), answer[:80])
        deadline = time.monotonic() + 5
        while True:
            x = self.srv.stats("expect-x")
            if x["bytes_out"] == len(answer) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(x["bytes_out"], len(answer), x)
        self.assertEqual(x["bytes_in"], len(head) + 2, x)
        self.assertEqual(x["requests"], 1, x)

    def test_publish_size_limit(self):
        status, _, body = self.post(b"a" * 65536)
        self.assertEqual(status, 200, body[:200])
        b = json.loads(curl(f"{self.srv.base}/poll?since=0").stdout)
        self.assertEqual(len(b["events"][0]["data"]), 65536)
        status, _, body = self.post(b"a" * 65537)
        self.assertEqual(status, 413, body[:200])
        self.assertEqual(curl(f"{self.srv.base}/poll").stdout, b'{"events":[],"next":1,"missed":0}')


STATS_KEYS = ["connections", "requests", "bytes_in", "bytes_out", "events_sent"]


class TestSmallEndpoints(CurlCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = WirelabServer("--rate", "0").start()

    @classmethod
    def tearDownClass(cls):
        rc = cls.srv.stop()
        assert rc == 0, f"serve exited {rc}"

    def test_stats_shape(self):
        curl(f"{self.srv.base}/poll?client=shape-1")
        status, headers, body = curl_full(f"{self.srv.base}/stats")
        self.assertEqual(status, 200)
        self.assertTrue(headers.get("content-type", "").startswith("application/json"))
        s = json.loads(body)
        self.assertEqual(list(s.keys()), ["uptime_s", "events_published", "transports", "http2", "clients"])
        self.assertIsInstance(s["uptime_s"], (int, float))
        self.assertIsInstance(s["events_published"], int)
        self.assertEqual(sorted(s["transports"].keys()), ["longpoll", "poll", "sse", "ws"])
        for name, c in s["transports"].items():
            self.assertEqual(list(c.keys()), STATS_KEYS, name)
            self.assertTrue(all(isinstance(v, int) and v >= 0 for v in c.values()), c)
        self.assertIn("shape-1", s["clients"])
        for name, c in s["clients"].items():
            self.assertEqual(list(c.keys()), STATS_KEYS, name)
        self.assertEqual(s["clients"]["shape-1"]["requests"], 1)
        one = json.loads(curl(f"{self.srv.base}/stats?client=shape-1").stdout)
        self.assertEqual(list(one.keys()), STATS_KEYS)
        self.assertEqual(one, s["clients"]["shape-1"])

    def test_time(self):
        status, headers, body = curl_full(f"{self.srv.base}/time")
        self.assertEqual(status, 200)
        self.assertRegex(body.decode(), r'^\{"ts":\d+\}$')
        ts = json.loads(body)["ts"]
        self.assertLess(abs(ts - time.time() * 1e6), 5e6, "ts is not wall-clock microseconds")

    def test_healthz(self):
        status, _, body = curl_full(f"{self.srv.base}/healthz")
        self.assertEqual((status, body), (200, b"ok"))

    def test_http10(self):
        for path in ["/healthz", "/poll", "/time", "/stats", "/poll?since=0"]:
            with self.subTest(path=path):
                p = curl("-0", "-i", "--max-time", "5", f"{self.srv.base}{path}")
                self.assertTrue(p.stdout.startswith(b"HTTP/1."), p.stdout[:50])
                status, _, body = split_response(p.stdout)
                self.assertEqual(status, 200)
                self.assertTrue(body)

    def test_https_to_the_http_port_fails_at_once(self):
        # `curl https://` to a plain-HTTP port: the server answers its ClientHello with a 400 at
        # once, which curl reports as a TLS error (exit 35), instead of waiting for the 10 s head
        # timeout (curl --max-time 5 would then exit 28).
        t0 = time.monotonic()
        p = curl("--max-time", "5", f"https://127.0.0.1:{self.srv.port}/healthz", check_rc=False)
        self.assertEqual(p.returncode, 35, f"curl exit {p.returncode}: {p.stderr!r}")
        self.assertLess(time.monotonic() - t0, 5.0)
        self.assertTrue(self.srv.healthy())

    def test_http10_longpoll(self):
        self.srv.publish("for 1.0")
        latest = self.srv.latest()
        p = curl("-0", "--max-time", "5", f"{self.srv.base}/longpoll?since={latest - 1}&timeout=3")
        b = json.loads(p.stdout)
        self.assertEqual([e["id"] for e in b["events"]], [latest])
        t0 = time.monotonic()
        p = curl("-0", "--max-time", "5", f"{self.srv.base}/longpoll?since={latest}&timeout=1")
        self.assertEqual(json.loads(p.stdout), {"events": [], "next": latest, "missed": 0})
        self.assertGreaterEqual(time.monotonic() - t0, 0.9)

    def test_connection_semantics(self):
        from wire_raw import Counted
        # HTTP/1.0 without keep-alive: answered, then closed.
        c = Counted(self.srv.port)
        try:
            c.send(b"GET /healthz HTTP/1.0\r\n\r\n")
            status, _, body, _ = c.read_response()
            self.assertEqual((status, body), (200, b"ok"))
            c.wait_eof(3)
        finally:
            c.close()
        # HTTP/1.0 with Connection: keep-alive: kept open, says so.
        c = Counted(self.srv.port)
        try:
            for _ in range(2):
                c.send(b"GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
                status, headers, body, _ = c.read_response()
                self.assertEqual((status, body), (200, b"ok"))
                self.assertEqual(headers.get("connection", "").lower(), "keep-alive")
        finally:
            c.close()
        # HTTP/1.1 with Connection: close: answered with Connection: close, then closed.
        c = Counted(self.srv.port)
        try:
            c.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            status, headers, body, _ = c.read_response()
            self.assertEqual((status, body), (200, b"ok"))
            self.assertEqual(headers.get("connection", "").lower(), "close")
            c.wait_eof(3)
        finally:
            c.close()
        # HTTP/1.1 default: keep-alive, several requests on one connection.
        c = Counted(self.srv.port)
        try:
            for path in (b"/healthz", b"/time", b"/poll", b"/stats"):
                c.send(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n\r\n")
                status, headers, _, _ = c.read_response()
                self.assertEqual(status, 200, path)
                self.assertNotEqual(headers.get("connection", "").lower(), "close")
        finally:
            c.close()

    def test_absolute_form_target(self):
        """RFC 9112 §3.2.2: "a server MUST accept the absolute-form in requests" (what a client
        configured to use this server as its proxy sends, e.g. curl --proxy)."""
        from wire_raw import http_request
        for target in (f"http://127.0.0.1:{self.srv.port}/healthz", "http://localhost/healthz"):
            with self.subTest(target=target):
                status, _, body, _ = http_request(
                    self.srv.port, f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{self.srv.port}\r\n\r\n".encode(),
                    check_close=False)
                self.assertEqual((status, body), (200, b"ok"), f"absolute-form {target}: {status} {body!r}")

    def test_keep_alive_reuse(self):
        p = curl("-v", f"{self.srv.base}/poll?client=ka-two", f"{self.srv.base}/poll?client=ka-two&since=0")
        self.assertIn(b"Re-using existing connection", p.stderr, p.stderr.decode(errors="replace")[-500:])
        s = json.loads(curl(f"{self.srv.base}/stats?client=ka-two").stdout)
        self.assertEqual(s["requests"], 2)
        self.assertEqual(s["connections"], 1, "two requests on one keep-alive connection count one connection")


if __name__ == "__main__":
    unittest.main()
