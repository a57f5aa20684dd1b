"""Counts that must be exact, on a server that generates nothing (`--rate 0`): every event is one
the test published, so "nothing was published" and "exactly N" are assertions that can fail.

- a 413 (and every other rejected POST /publish) publishes nothing: the latest id is unchanged;
- `limit` is capped at 1000 (PROTOCOL.md §2) with more than 1,000 events retained;
- POST /control validates its body and its caller.
"""
import http.client
import json
import socket
import unittest

from wirelab_server import WirelabServer
from wire_raw import http_request


def keepalive_publisher(port):
    """A keep-alive HTTP connection that publishes quickly (one connection for many events)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    def publish(text):
        conn.request("POST", "/publish", body=text.encode(), headers={"Content-Type": "text/plain"})
        resp = conn.getresponse()
        body = resp.read()
        assert resp.status == 200, (resp.status, body[:200])
        return json.loads(body)["id"]
    return conn, publish


class TestRejectedPublishPublishesNothing(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = WirelabServer("--rate", "0").start()

    @classmethod
    def tearDownClass(cls):
        assert cls.srv.stop() == 0

    def assert_nothing_published(self, raw, status, label):
        before = self.srv.latest()
        got, _, body, _ = http_request(self.srv.port, raw, check_close=False)
        self.assertEqual(got, status, f"{label}: {body[:200]!r}")
        self.assertEqual(self.srv.latest(), before, f"{label} published an event")

    def test_413_publishes_nothing(self):
        self.srv.publish("first")          # latest is 1 from here on, not 0 by accident
        body = b"a" * (64 * 1024 + 1)
        self.assert_nothing_published(
            b"POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n" % len(body) + body,
            413, "Content-Length 65537")
        chunk = b"a" * 40000
        self.assert_nothing_published(
            b"POST /publish HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            + (b"%x\r\n" % len(chunk) + chunk + b"\r\n") * 2 + b"0\r\n\r\n", 413, "chunked 80,000 bytes")
        self.assert_nothing_published(
            b"POST /publish HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n", 413, "announced 1 GB")
        # The boundary itself is accepted and publishes exactly one event with exactly its bytes.
        before = self.srv.latest()
        ok = b"b" * 65536
        got, _, answer, _ = http_request(
            self.srv.port, b"POST /publish HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            + b"%x\r\n" % 32768 + ok[:32768] + b"\r\n" + b"%x\r\n" % 32768 + ok[32768:] + b"\r\n0\r\n\r\n",
            check_close=False)
        self.assertEqual(got, 200, answer[:200])
        self.assertEqual(json.loads(answer)["id"], before + 1)
        self.assertEqual(self.srv.latest(), before + 1)
        events = self.srv.get_json(f"/poll?since={before}")["events"]
        self.assertEqual([(e["id"], len(e["data"])) for e in events], [(before + 1, 65536)])

    def test_bad_bodies_and_heads_publish_nothing(self):
        self.srv.publish("anchor")
        for raw, status, label in [
            (b"POST /publish HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400, "Content-Length abc"),
            (b"POST /publish HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", 400, "Content-Length -5"),
            (b"POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n\xff\xfe", 400, "invalid UTF-8"),
            (b"POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 9\r\n\r\n{\"data\":5", 400, "invalid JSON"),
            (b"POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{\"data\":5}", 400, "non-string data"),
            (b"GET /publish HTTP/1.1\r\nHost: x\r\n\r\n", 405, "GET /publish"),
        ]:
            with self.subTest(label=label):
                self.assert_nothing_published(raw, status, label)


class TestLimitCap(unittest.TestCase):
    """PROTOCOL.md §2: a polling answer holds at most 1000 events; `limit` above 1000 is clamped."""
    N = 1005

    @classmethod
    def setUpClass(cls):
        cls.srv = WirelabServer("--rate", "0").start()
        conn, publish = keepalive_publisher(cls.srv.port)
        try:
            for i in range(cls.N):
                publish(f"m{i + 1}")
        finally:
            conn.close()

    @classmethod
    def tearDownClass(cls):
        assert cls.srv.stop() == 0

    def test_more_than_1000_retained(self):
        self.assertEqual(self.srv.latest(), self.N)
        tail = self.srv.get_json("/poll?since=1000")
        self.assertEqual([e["id"] for e in tail["events"]], list(range(1001, self.N + 1)))

    def test_poll_answers_at_most_1000(self):
        for q in ["since=0", "since=0&limit=1000", "since=0&limit=1001", "since=0&limit=5000"]:
            with self.subTest(q=q):
                b = self.srv.get_json(f"/poll?{q}")
                self.assertEqual([e["id"] for e in b["events"]], list(range(1, 1001)))
                self.assertEqual((b["next"], b["missed"]), (1000, 0))
        b = self.srv.get_json("/poll?since=0&limit=999")
        self.assertEqual(len(b["events"]), 999)

    def test_longpoll_answers_at_most_1000(self):
        b = self.srv.get_json("/longpoll?since=2&limit=100000&timeout=1")
        self.assertEqual([e["id"] for e in b["events"]], list(range(3, 1003)))
        self.assertEqual(b["next"], 1002)


class TestControl(unittest.TestCase):
    """POST /control: the body is validated and nothing changes on a bad one."""

    @classmethod
    def setUpClass(cls):
        cls.srv = WirelabServer("--rate", "0").start()

    @classmethod
    def tearDownClass(cls):
        assert cls.srv.stop() == 0

    def post(self, body, headers=None):
        h = {"Content-Type": "application/json"}
        h.update(headers or {})
        return self.srv.request("POST", "/control", body=body, headers=h)

    def test_invalid_bodies_are_400_and_change_nothing(self):
        for body in [b"", b"{", b"[]", b"{}", b'{"rate":-1}', b'{"rate":100001}', b'{"rate":"fast"}',
                     b'{"size":-1}', b'{"size":1048577}', b'{"size":1.5}', b'{"speed":3}']:
            with self.subTest(body=body):
                status, headers, answer = self.post(body)
                self.assertEqual(status, 400, answer[:200])
                self.assertIn("error", json.loads(answer))
        # The generator stayed off: nothing was published by any of them.
        self.assertEqual(self.srv.latest(), 0)

    def test_valid_body_changes_the_rate(self):
        status, _, answer = self.post(b'{"rate":50,"size":3}')
        self.assertEqual(status, 200, answer[:200])
        try:
            latest = self.srv.wait_for_latest(3, timeout=10)
            events = self.srv.get_json("/poll?since=0")["events"]
            self.assertGreaterEqual(latest, 3)
            self.assertTrue(all(e["topic"] == "tick" and len(e["data"]) == 3 for e in events), events[:3])
        finally:
            self.assertEqual(self.post(b'{"rate":0}')[0], 200)

    def test_wrong_token_from_loopback_is_still_loopback(self):
        # Loopback callers need no token (PROTOCOL.md §2); a wrong one does not take that away.
        # The wrong token from a remote caller is a unit test (ServerIntegrationTests), where
        # loopback trust can be turned off.
        status, _, answer = self.post(b'{"size":5}', {"Authorization": "Bearer wrong"})
        self.assertEqual(status, 200, answer[:200])
