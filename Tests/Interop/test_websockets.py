"""Python `websockets` (a real RFC 6455 client) against /ws, /echo and an upgrade to / (PROTOCOL.md §2)."""
import asyncio
import json
import os
import re
import time
import unittest

try:
    import websockets
    from websockets.asyncio.client import connect as _connect
    from websockets.exceptions import ConnectionClosed
except ImportError:  # a missing tool fails the tests (make test installs it), never skips them
    websockets = None

from wirelab_server import WirelabServer
from wire_raw import (Counted, RawWS, accept_for, build_frame, make_key, parse_head, upgrade_request,
                      OP_PING, OP_PONG, OP_TEXT)

EVENT_RE = re.compile(r'^\{"id":(\d+),"ts":(\d+),"topic":"(tick|chat)","data":"((?:[^"\\]|\\.)*)"\}$')


def connect(uri, **kw):
    """websockets' client, never through a proxy from the environment (only 127.0.0.1)."""
    return _connect(uri, proxy=None, **kw)


def run(coro, timeout=15):
    return asyncio.run(asyncio.wait_for(coro, timeout))


class WSCase(unittest.TestCase):
    def setUp(self):
        if websockets is None:
            self.fail("Python package 'websockets' is not installed (make test installs it)")

    def assert_event(self, msg, topic=None):
        self.assertIsInstance(msg, str, "events are text messages")
        self.assertIsNotNone(EVENT_RE.match(msg), f"not an exact §1 event: {msg!r}")
        ev = json.loads(msg)
        if topic:
            self.assertEqual(ev["topic"], topic)
        return ev


class TestWsEvents(WSCase):
    def test_ws_receives_tick_events(self):
        with WirelabServer("--rate", "20", "--size", "12") as srv:
            async def go():
                async with connect(f"{srv.ws_base}/ws") as ws:
                    evs = [self.assert_event(await ws.recv(), "tick") for _ in range(4)]
                    ids = [e["id"] for e in evs]
                    self.assertEqual(ids, list(range(ids[0], ids[0] + 4)))
                    self.assertTrue(all(len(e["data"]) == 12 for e in evs))
            run(go())

    def test_ws_since_0_replays(self):
        with WirelabServer("--rate", "0") as srv:
            for i in range(3):
                srv.publish(f"r{i + 1}")
            async def go():
                async with connect(f"{srv.ws_base}/ws?since=0") as ws:
                    evs = [self.assert_event(await ws.recv(), "chat") for _ in range(3)]
                    self.assertEqual([(e["id"], e["data"]) for e in evs], [(1, "r1"), (2, "r2"), (3, "r3")])
                    srv.publish("live")
                    ev = self.assert_event(await ws.recv(), "chat")
                    self.assertEqual((ev["id"], ev["data"]), (4, "live"))
            run(go())

    def test_ws_since_beyond_latest_starts_over(self):
        with WirelabServer("--rate", "0") as srv:
            for i in range(2):
                srv.publish(f"r{i + 1}")
            async def go():
                async with connect(f"{srv.ws_base}/ws?since=77") as ws:
                    evs = [self.assert_event(await asyncio.wait_for(ws.recv(), 3)) for _ in range(2)]
                    self.assertEqual([e["id"] for e in evs], [1, 2])
                async with connect(f"{srv.ws_base}/ws") as ws:
                    await ws.send('{"type":"since","since":77}')
                    evs = [self.assert_event(await asyncio.wait_for(ws.recv(), 3)) for _ in range(2)]
                    self.assertEqual([e["id"] for e in evs], [1, 2])
            run(go())

    def test_ws_no_since_starts_live(self):
        with WirelabServer("--rate", "0") as srv:
            srv.publish("old")
            async def go():
                async with connect(f"{srv.ws_base}/ws") as ws:
                    with self.assertRaises(asyncio.TimeoutError):
                        await asyncio.wait_for(ws.recv(), 0.4)
                    srv.publish("new")
                    ev = self.assert_event(await asyncio.wait_for(ws.recv(), 3), "chat")
                    self.assertEqual((ev["id"], ev["data"]), (2, "new"))
            run(go())

    def test_ws_publish_command(self):
        with WirelabServer("--rate", "0") as srv:
            async def go():
                async with connect(f"{srv.ws_base}/ws") as ws, connect(f"{srv.ws_base}/ws") as other:
                    await ws.send(json.dumps({"type": "publish", "data": "hi"}))
                    for c in (ws, other):
                        ev = self.assert_event(await asyncio.wait_for(c.recv(), 3), "chat")
                        self.assertEqual((ev["id"], ev["data"]), (1, "hi"))
            run(go())
            b = srv.get_json("/poll?since=0")
            self.assertEqual([(e["topic"], e["data"]) for e in b["events"]], [("chat", "hi")])

    def test_ws_since_command_replays(self):
        with WirelabServer("--rate", "0") as srv:
            for i in range(4):
                srv.publish(f"s{i + 1}")
            async def go():
                async with connect(f"{srv.ws_base}/ws") as ws:
                    await ws.send('{"type":"since","since":2}')
                    evs = [self.assert_event(await asyncio.wait_for(ws.recv(), 3)) for _ in range(2)]
                    self.assertEqual([e["id"] for e in evs], [3, 4])
                    srv.publish("s5")
                    self.assertEqual(self.assert_event(await asyncio.wait_for(ws.recv(), 3))["id"], 5)
            run(go())

    def test_ws_bad_commands_get_error_and_stay_open(self):
        with WirelabServer("--rate", "0") as srv:
            bad = ["not json", "{", "[]", "42", '{"type":"nope"}', '{"type":"publish"}',
                   '{"type":"publish","data":5}', '{"type":"since"}', '{"type":"since","since":"x"}',
                   '{"type":"since","since":-1}', '{"no":"type"}']
            async def go():
                async with connect(f"{srv.ws_base}/ws") as ws:
                    for cmd in bad:
                        await ws.send(cmd)
                        reply = await asyncio.wait_for(ws.recv(), 3)
                        self.assertIsInstance(reply, str, cmd)
                        obj = json.loads(reply)
                        self.assertEqual(list(obj.keys()), ["type", "error"], f"{cmd!r} -> {reply!r}")
                        self.assertEqual(obj["type"], "error")
                        self.assertIsInstance(obj["error"], str)
                        self.assertTrue(obj["error"])
                    await ws.send('{"type":"publish","data":"still here"}')
                    ev = self.assert_event(await asyncio.wait_for(ws.recv(), 3), "chat")
                    self.assertEqual(ev["data"], "still here")
            run(go())
            self.assertEqual(srv.latest(), 1, "a bad command published something")

    def test_upgrade_to_root_is_ws(self):
        with WirelabServer("--rate", "0") as srv:
            srv.publish("root")
            async def go():
                async with connect(f"{srv.ws_base}/?since=0") as ws:
                    ev = self.assert_event(await asyncio.wait_for(ws.recv(), 3), "chat")
                    self.assertEqual(ev["data"], "root")
                    await ws.send('{"type":"publish","data":"via root"}')
                    ev = self.assert_event(await asyncio.wait_for(ws.recv(), 3), "chat")
                    self.assertEqual(ev["data"], "via root")
                async with connect(f"{srv.ws_base}/") as ws:
                    srv.publish("live")
                    ev = self.assert_event(await asyncio.wait_for(ws.recv(), 3), "chat")
                    self.assertEqual(ev["data"], "live")
            run(go())
            status, headers, body = srv.get("/")
            self.assertEqual(status, 200)
            self.assertIn("text/html", headers.get("content-type", ""))


class TestEcho(WSCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = WirelabServer("--rate", "5").start()

    @classmethod
    def tearDownClass(cls):
        rc = cls.srv.stop()
        assert rc == 0, f"serve exited {rc}"

    def echo(self, messages, max_size=2 ** 20 + 1024):
        async def go():
            out = []
            async with connect(f"{self.srv.ws_base}/echo", max_size=max_size) as ws:
                for m in messages:
                    await ws.send(m)
                    out.append(await asyncio.wait_for(ws.recv(), 10))
            return out
        return run(go())

    def test_echo_text_and_binary(self):
        msgs = ["hello", "", "caf\u00e9 \U0001F600", b"\x00\x01\xff", b"", "{\"type\":\"publish\"}"]
        got = self.echo(msgs)
        for m, g in zip(msgs, got):
            self.assertEqual(type(m), type(g), f"{m!r} came back as {g!r}")
            self.assertEqual(m, g)

    def test_echo_gets_no_events(self):
        async def go():
            async with connect(f"{self.srv.ws_base}/echo") as ws:
                with self.assertRaises(asyncio.TimeoutError):
                    await asyncio.wait_for(ws.recv(), 0.5)   # rate 5: an event would have come
        run(go())

    def test_echo_fragmented(self):
        async def go():
            async with connect(f"{self.srv.ws_base}/echo") as ws:
                await ws.send(["frag", "men", "ted \u00e9"])
                self.assertEqual(await asyncio.wait_for(ws.recv(), 5), "fragmented \u00e9")
                await ws.send([b"\x01\x02", b"", b"\x03"])
                self.assertEqual(await asyncio.wait_for(ws.recv(), 5), b"\x01\x02\x03")
                await ws.send(["x" * 1000, "y" * 70000, "z"])
                self.assertEqual(await asyncio.wait_for(ws.recv(), 5), "x" * 1000 + "y" * 70000 + "z")
        run(go())
        # A UTF-8 sequence split across fragments is still valid text (raw frames: websockets
        # cannot split a character).
        euro = "\u20ac".encode()
        c = RawWS(self.srv.port, "/echo")
        try:
            c.send_frame(OP_TEXT, b"a" + euro[:1], fin=False)
            c.send_frame(0x0, euro[1:2], fin=False)
            c.send_frame(0x0, euro[2:] + b"b", fin=True)
            fin, rsv, op, masked, payload = c.read_frame(3)
            self.assertEqual((fin, op, payload), (True, OP_TEXT, b"a" + euro + b"b"))
        finally:
            c.close()

    def test_echo_64k_and_1m(self):
        big_text = "t" * 65536
        big_bin = os.urandom(65536)
        mib = bytes(range(256)) * 4096          # exactly 1 MiB = the default --max-message
        got = self.echo([big_text, big_bin, mib], max_size=None)
        self.assertEqual(got[0], big_text)
        self.assertEqual(got[1], big_bin)
        self.assertEqual(got[2], mib)

    def test_ping_gets_pong(self):
        async def go():
            async with connect(f"{self.srv.ws_base}/echo") as ws:
                t0 = time.monotonic()
                waiter = await ws.ping(b"ping-data")
                await asyncio.wait_for(waiter, 3)
                self.assertLess(time.monotonic() - t0, 3)
            async with connect(f"{self.srv.ws_base}/ws") as ws:
                await asyncio.wait_for(await ws.ping(), 3)
        run(go())

    def test_close_handshake_codes(self):
        for path in ["/echo", "/ws"]:
            for code in [1000, 4000, 3001]:
                with self.subTest(path=path, code=code):
                    async def go():
                        ws = await connect(f"{self.srv.ws_base}{path}")
                        await ws.close(code=code, reason="bye")
                        self.assertIsNotNone(ws.protocol.close_rcvd, "server sent no close frame")
                        self.assertEqual(ws.protocol.close_rcvd.code, code)
                    run(go())

    def test_close_without_code_answered_1000(self):
        c = RawWS(self.srv.port, "/echo")
        try:
            c.send_frame(0x8, b"")
            code, reason, _ = c.read_until_close(3)
            self.assertEqual(code, 1000)
            c.wait_eof(3)
        finally:
            c.close()


class TestHandshakeInterop(WSCase):
    """Handshakes as browsers and libraries really send them."""

    def test_handshake_header_variants(self):
        with WirelabServer("--rate", "0") as srv:
            variants = {
                "firefox Connection: keep-alive, Upgrade": "Upgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n",
                "mixed case": "upgrade: WebSocket\r\nconnection: UPGRADE\r\n",
                "extensions and protocols offered": ("Upgrade: websocket\r\nConnection: Upgrade\r\n"
                                                     "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
                                                     "Origin: http://127.0.0.1\r\nUser-Agent: Mozilla/5.0\r\n"),
            }
            for name, lines in variants.items():
                with self.subTest(variant=name):
                    key = make_key()
                    c = Counted(srv.port)
                    try:
                        c.send((f"GET /echo HTTP/1.1\r\nHost: 127.0.0.1:{srv.port}\r\n{lines}"
                                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
                        status, headers = parse_head(c.read_until(b"\r\n\r\n"))
                        self.assertEqual(status, 101)
                        self.assertEqual(headers.get("sec-websocket-accept"), accept_for(key))
                        self.assertNotIn("sec-websocket-extensions", headers, "no extension is supported")
                        self.assertIn("websocket", headers.get("upgrade", "").lower())
                        self.assertIn("upgrade", headers.get("connection", "").lower())
                    finally:
                        c.close()

    def test_frames_in_same_write_as_handshake(self):
        with WirelabServer("--rate", "0") as srv:
            c = Counted(srv.port)
            try:
                req, _ = upgrade_request("/echo")
                c.send(req + build_frame(OP_TEXT, b"early one") + build_frame(0x2, b"early two"))
                status, _ = parse_head(c.read_until(b"\r\n\r\n"))
                self.assertEqual(status, 101)
                self.assertEqual(c.read_exact(2 + 9), b"\x81\x09early one")
                self.assertEqual(c.read_exact(2 + 9), b"\x82\x09early two")
            finally:
                c.close()

    def test_byte_by_byte(self):
        with WirelabServer("--rate", "0") as srv:
            c = Counted(srv.port)
            try:
                req, _ = upgrade_request("/echo")
                data = req + build_frame(OP_TEXT, b"slow" * 40) + build_frame(OP_PING, b"pp")
                for i in range(len(data)):
                    c.send(data[i:i + 1])
                status, _ = parse_head(c.read_until(b"\r\n\r\n"))
                self.assertEqual(status, 101)
                self.assertEqual(c.read_exact(4 + 160), b"\x81\x7e\x00\xa0" + b"slow" * 40)
                self.assertEqual(c.read_exact(4), b"\x8a\x02pp")
            finally:
                c.close()

    def test_control_frame_inside_fragmented_message(self):
        with WirelabServer("--rate", "0") as srv:
            c = RawWS(srv.port, "/echo")
            try:
                c.send_frame(OP_TEXT, b"part1-", fin=False)
                c.send_frame(OP_PING, b"mid")
                c.send_frame(0x0, b"part2", fin=True)
                fin, _, op, _, payload = c.read_frame(3)
                self.assertEqual((op, payload), (OP_PONG, b"mid"))
                fin, _, op, _, payload = c.read_frame(3)
                self.assertEqual((fin, op, payload), (True, OP_TEXT, b"part1-part2"))
            finally:
                c.close()


class TestOrdering(WSCase):
    def test_concurrent_publishers_arrive_in_order(self):
        import threading
        with WirelabServer("--rate", "0") as srv:
            async def go():
                async with connect(f"{srv.ws_base}/ws") as a, connect(f"{srv.ws_base}/ws") as b:
                    errors = []
                    def publisher(k):
                        try:
                            for i in range(25):
                                srv.publish(f"p{k}-{i}")
                        except Exception as e:   # noqa: BLE001
                            errors.append(e)
                    threads = [threading.Thread(target=publisher, args=(k,)) for k in range(4)]
                    for t in threads:
                        t.start()
                    got = {a: [], b: []}
                    for c in (a, b):
                        while len(got[c]) < 100:
                            got[c].append(self.assert_event(await asyncio.wait_for(c.recv(), 5), "chat"))
                    for t in threads:
                        t.join(10)
                    self.assertEqual(errors, [])
                    for c in (a, b):
                        self.assertEqual([e["id"] for e in got[c]], list(range(1, 101)))
                        ts = [e["ts"] for e in got[c]]
                        self.assertEqual(ts, sorted(ts), "ts must not decrease with id")
                    self.assertEqual(sorted(e["data"] for e in got[a]),
                                     sorted(f"p{k}-{i}" for k in range(4) for i in range(25)))
            run(go(), 30)


class TestLimits(WSCase):
    def test_max_message_exceeded_1009(self):
        with WirelabServer("--rate", "0", "--max-message", "1000") as srv:
            async def go():
                async with connect(f"{srv.ws_base}/echo") as ws:
                    await ws.send("a" * 1000)
                    self.assertEqual(await asyncio.wait_for(ws.recv(), 3), "a" * 1000)
                    await ws.send("b" * 1001)
                    with self.assertRaises(ConnectionClosed) as cm:
                        await asyncio.wait_for(ws.recv(), 3)
                    self.assertIsNotNone(cm.exception.rcvd, "no close frame from the server")
                    self.assertEqual(cm.exception.rcvd.code, 1009)
                async with connect(f"{srv.ws_base}/echo") as ws:
                    await ws.send(["c" * 600, "c" * 600])   # fragmented: the message counts
                    with self.assertRaises(ConnectionClosed) as cm:
                        await asyncio.wait_for(ws.recv(), 3)
                    self.assertEqual(cm.exception.rcvd.code, 1009)
            run(go())

    def test_heartbeat_closes_silent_client_1001(self):
        with WirelabServer("--rate", "0", "--heartbeat", "0.3") as srv:
            c = RawWS(srv.port, "/ws")   # never answers pings
            try:
                t0 = time.monotonic()
                code, _, before = c.read_until_close(5)
                dt = time.monotonic() - t0
                pings = [p for op, p in before if op == OP_PING]
                self.assertGreaterEqual(len(pings), 2, f"expected two pings before the close, got {before}")
                self.assertEqual(code, 1001)
                self.assertTrue(0.5 <= dt <= 3.0, f"closed after {dt:.2f} s with --heartbeat 0.3")
                c.wait_eof(3)
            finally:
                c.close()

    def test_heartbeat_keeps_answering_client(self):
        with WirelabServer("--rate", "0", "--heartbeat", "0.3") as srv:
            async def go():
                async with connect(f"{srv.ws_base}/ws", ping_interval=None) as ws:   # auto-pong stays on
                    await asyncio.sleep(1.6)
                    srv.publish("still open")
                    ev = self.assert_event(await asyncio.wait_for(ws.recv(), 3), "chat")
                    self.assertEqual(ev["data"], "still open")
            run(go())
            c = RawWS(srv.port, "/ws")   # a raw client that does answer
            try:
                deadline = time.monotonic() + 1.6
                pings = 0
                while time.monotonic() < deadline:
                    try:
                        _, _, op, _, payload = c.read_frame(deadline - time.monotonic())
                    except AssertionError:
                        break
                    self.assertNotEqual(op, 0x8, "closed although every ping was answered")
                    if op == OP_PING:
                        pings += 1
                        c.send_frame(OP_PONG, payload)
                self.assertGreaterEqual(pings, 3)
            finally:
                c.close()


if __name__ == "__main__":
    unittest.main()
