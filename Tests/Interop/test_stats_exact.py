"""/stats counts TCP payload bytes exactly (PROTOCOL.md §2): a raw-socket client counts every byte it
sends and receives per transport, tagged client=NAME, and /stats?client=NAME must agree to the byte.

The server runs with --rate 0 and events are published over an untagged /publish connection, so
nothing is written to a tagged socket after the client stops reading (no race at close).
"""
import json
import re
import time
import unittest

from wirelab_server import WirelabServer
from wire_raw import Counted, RawWS, close_payload, OP_CLOSE, OP_PING, OP_PONG, OP_TEXT


def get(path):
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: wirelab-interop\r\n\r\n".encode()


class TestStatsExact(unittest.TestCase):
    def setUp(self):
        self.srv = WirelabServer("--rate", "0").start()
        for i in range(5):
            self.srv.publish(f"seed{i + 1}")

    def tearDown(self):
        rc = self.srv.stop()
        self.assertEqual(rc, 0)

    def wait_for_stats(self, name, done, timeout=5.0):
        """The server's counters for `name` once `done(counters)` holds (or after `timeout` s):
        the test waits for the server to have handled what it sent, never for a fixed sleep."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.srv.stats(name)
            if done(got) or time.monotonic() > deadline:
                return got
            time.sleep(0.01)

    def assert_counts(self, name, conn, requests, events, connections=1):
        want = {"connections": connections, "requests": requests, "bytes_in": conn.sent,
                "bytes_out": conn.received, "events_sent": events}
        got = self.wait_for_stats(name, lambda g: g == want)
        self.assertEqual(got, want, f"/stats?client={name}")
        return got

    def wait_parked(self, name, requests=1):
        """Until the server has counted `requests` requests of `name` (a long poll is parked)."""
        got = self.wait_for_stats(name, lambda g: g["requests"] >= requests)
        self.assertEqual(got["requests"], requests, f"{name}: the request did not reach the server")

    def test_exact_poll_keepalive(self):
        c = Counted(self.srv.port)
        events = 0
        try:
            for since in (0, 3, 5):
                c.send(get(f"/poll?client=exact-poll&since={since}"))
                status, _, body, _ = c.read_response()
                self.assertEqual(status, 200)
                events += len(json.loads(body)["events"])
        finally:
            c.close()
        self.assertEqual(events, 5 + 2 + 0)
        self.assert_counts("exact-poll", c, 3, events)

    def test_exact_poll_pipelined_and_http10(self):
        c = Counted(self.srv.port)
        events = 0
        try:
            c.send(get("/poll?client=exact-pipe&since=0&limit=2") + get("/poll?client=exact-pipe&since=2")
                   + get("/poll?client=exact-pipe"))
            for _ in range(3):
                status, _, body, _ = c.read_response()
                self.assertEqual(status, 200)
                events += len(json.loads(body)["events"])
        finally:
            c.close()
        self.assert_counts("exact-pipe", c, 3, events)
        c = Counted(self.srv.port)
        try:
            c.send(b"GET /poll?client=exact-10&since=1 HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            c.wait_eof(3)   # HTTP/1.0 without keep-alive: the server closes
        finally:
            c.close()
        self.assert_counts("exact-10", c, 1, 4)

    def test_exact_longpoll(self):
        c = Counted(self.srv.port)
        try:
            c.send(get("/longpoll?client=exact-lp&since=5&timeout=10"))
            self.wait_parked("exact-lp")
            self.srv.publish("for the long poll")
            status, _, body, _ = c.read_response()
            self.assertEqual(status, 200)
            self.assertEqual([e["id"] for e in json.loads(body)["events"]], [6])
        finally:
            c.close()
        got = self.assert_counts("exact-lp", c, 1, 1)
        self.assertEqual(self.srv.stats()["transports"]["longpoll"], got)

    def test_exact_sse(self):
        c = Counted(self.srv.port)
        t0 = time.monotonic()
        try:
            c.send(get("/sse?client=exact-sse&since=4"))
            seen = c.read_until(b"\r\n\r\n")
            while b"id: 5\n" not in seen:            # the replay, before anything live
                seen += c.read_for(0.1)
                self.assertLess(time.monotonic() - t0, 5, f"SSE replay did not arrive: {seen!r}")
            self.srv.publish("sse one")
            while b"id: 6\n" not in seen:
                seen += c.read_for(0.1)
                self.assertLess(time.monotonic() - t0, 5, f"SSE events did not arrive: {seen!r}")
            self.srv.publish("sse two")
            while b"id: 7\n" not in seen:
                seen += c.read_for(0.1)
                self.assertLess(time.monotonic() - t0, 5, f"SSE events did not arrive: {seen!r}")
            seen += c.read_for(max(0.0, 1.0 - (time.monotonic() - t0)))
        finally:
            c.close()
        got = self.assert_counts("exact-sse", c, 1, 3)   # event 5 replayed, 6 and 7 live
        self.assertEqual(self.srv.stats()["transports"]["sse"], got)

    def test_exact_ws(self):
        c = RawWS(self.srv.port, "/ws?client=exact-ws&since=4")
        events = []
        try:
            def next_frame(wanted):
                while True:
                    fin, rsv, op, masked, payload = c.read_frame(5)
                    if op == OP_TEXT:
                        obj = json.loads(payload)
                        if "id" in obj:
                            events.append(obj["id"])
                    if op == wanted:
                        return payload
            self.assertEqual(json.loads(next_frame(OP_TEXT))["id"], 5)
            self.srv.publish("ws live")
            self.assertEqual(json.loads(next_frame(OP_TEXT))["id"], 6)
            c.send_frame(OP_PING, b"exact")
            self.assertEqual(next_frame(OP_PONG), b"exact")
            c.send_frame(OP_TEXT, b'{"type":"publish","data":"from ws"}')
            ev = json.loads(next_frame(OP_TEXT))
            self.assertEqual((ev["id"], ev["data"]), (7, "from ws"))
            c.send_frame(OP_CLOSE, close_payload(1000, b"done"))
            code, _, before = c.read_until_close(5)
            self.assertEqual(code, 1000)
            self.assertEqual(before, [])
            c.wait_eof(3)
        finally:
            c.close()
        self.assertEqual(events, [5, 6, 7])
        got = self.assert_counts("exact-ws", c, 1, 3)
        self.assertEqual(self.srv.stats()["transports"]["ws"], got)

    def test_exact_bad_requests_counted(self):
        """A 400 to a tagged request is still that client's bytes; so is a server-side WebSocket close."""
        total_requests = 0
        conns = []
        c = Counted(self.srv.port)
        conns.append(c)
        try:
            for q in ("since=abc", "limit=-1", "since=0"):
                c.send(get(f"/poll?client=exact-bad&{q}"))
                status, headers, body, _ = c.read_response()
                total_requests += 1
                self.assertEqual(status, 200 if q == "since=0" else 400)
                if headers.get("connection", "").lower() == "close":
                    c.wait_eof(3)
                    c.close()
                    c = Counted(self.srv.port)
                    conns.append(c)
        finally:
            c.close()
        got = self.wait_for_stats("exact-bad", lambda g: (g["bytes_in"], g["bytes_out"])
                                  == (sum(x.sent for x in conns), sum(x.received for x in conns)))
        self.assertEqual(got["bytes_in"], sum(x.sent for x in conns))
        self.assertEqual(got["bytes_out"], sum(x.received for x in conns))
        self.assertEqual((got["requests"], got["connections"], got["events_sent"]), (3, len(conns), 5))

        w = RawWS(self.srv.port, "/ws?client=exact-wserr")
        try:
            w.send(b"\x81\x02hi")          # unmasked: the server fails the connection with 1002
            code, _, _ = w.read_until_close(3)
            self.assertEqual(code, 1002)
            w.wait_eof(3)
        finally:
            w.close()
        self.assert_counts("exact-wserr", w, 1, 0)

    def test_exact_longpoll_with_pipelined_poll(self):
        c = Counted(self.srv.port)
        try:
            c.send(get("/longpoll?client=exact-lpp&since=5&timeout=10") + get("/poll?client=exact-lpp&since=4"))
            self.wait_parked("exact-lpp")       # the pipelined poll waits behind the long poll
            self.srv.publish("wake")
            s1, _, b1, _ = c.read_response()
            s2, _, b2, _ = c.read_response()
            self.assertEqual((s1, s2), (200, 200))
            self.assertEqual([e["id"] for e in json.loads(b1)["events"]], [6])
            self.assertEqual([e["id"] for e in json.loads(b2)["events"]], [5, 6])
        finally:
            c.close()
        self.assert_counts("exact-lpp", c, 2, 3)

    def test_exact_all_clients_in_stats(self):
        """The per-client view in /stats equals /stats?client=NAME, for several clients at once."""
        conns = {}
        for name in ("multi-a", "multi-b"):
            c = Counted(self.srv.port)
            c.send(get(f"/poll?client={name}&since=0"))
            c.read_response()
            c.close()
            conns[name] = c
        for name, c in conns.items():
            self.wait_for_stats(name, lambda g, c=c: (g["bytes_in"], g["bytes_out"]) == (c.sent, c.received))
        s = self.srv.stats()
        for name, c in conns.items():
            self.assertEqual(s["clients"][name]["bytes_in"], c.sent)
            self.assertEqual(s["clients"][name]["bytes_out"], c.received)
            self.assertEqual(s["clients"][name], self.srv.stats(name))


if __name__ == "__main__":
    unittest.main()
