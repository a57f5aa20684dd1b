"""`wirelab serve` as a process (PROTOCOL.md §4): its stdout lines, signals, usage errors, --help."""
import asyncio
import re
import shutil
import signal
import socket
import subprocess
import time
import unittest

try:
    from websockets.asyncio.client import connect as _connect
    from websockets.exceptions import ConnectionClosed
except ImportError:
    _connect = None

from wirelab_server import WirelabServer, wirelab_bin, LISTEN_RE, TOKEN_RE
from wire_raw import RawWS


def run_serve(*args, timeout=10):
    return subprocess.run([wirelab_bin(), "serve", *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout)


class TestServeOutput(unittest.TestCase):
    def test_two_lines_flushed_at_once(self):
        t0 = time.monotonic()
        srv = WirelabServer("--rate", "0").start(timeout=3)   # reading from a pipe: only a flush gets it here
        try:
            self.assertLess(time.monotonic() - t0, 3)
            self.assertRegex(srv.first_line, r"^wirelab listening on http://127\.0\.0\.1:\d+$")
            self.assertTrue(1 <= srv.port <= 65535)
            self.assertRegex(srv.second_line, r"^control token: \S+$")
            self.assertGreaterEqual(len(srv.token), 16, "a control token should be hard to guess")
            self.assertTrue(srv.healthy())
            other = WirelabServer("--rate", "0").start()
            try:
                self.assertNotEqual(other.port, srv.port)
                self.assertNotEqual(other.token, srv.token, "the token must be random per start")
            finally:
                self.assertEqual(other.stop(), 0)
        finally:
            self.assertEqual(srv.stop(), 0)
        self.assertEqual(srv.stdout.buf.strip(), b"", "serve printed more on stdout")

    def test_help_mentions_every_flag(self):
        p = subprocess.run([wirelab_bin(), "serve", "--help"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
        self.assertEqual(p.returncode, 0, p.stderr)
        text = p.stdout.decode()
        for flag in ["--host", "--port", "--rate", "--size", "--history", "--heartbeat", "--max-message",
                     "--allow-origin", "--max-queue", "--send-timeout", "--max-buffered", "--max-clients"]:
            self.assertIn(flag, text)
        p = subprocess.run([wirelab_bin(), "--help"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
        self.assertEqual(p.returncode, 0)
        self.assertIn("serve", p.stdout.decode())


    def test_help_option_columns_line_up(self):
        # Every subcommand's option table, --help row included, starts its descriptions in one column.
        for sub in ["serve", "race", "inspect", "lesson", "proxy"]:
            with self.subTest(sub=sub):
                p = subprocess.run([wirelab_bin(), sub, "--help"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
                self.assertEqual(p.returncode, 0, p.stderr)
                text = p.stdout.decode()
                table = text.split("\nOptions:\n", 1)[1].split("\n\n", 1)[0].split("\n")
                columns = {}
                for line in table:
                    m = re.match(r"^  --\S+(?: \S+)?( +)\S", line)
                    self.assertIsNotNone(m, f"{sub}: not an option row: {line!r}")
                    columns[line.split()[0]] = m.end() - 1
                self.assertIn("--help", columns)
                self.assertEqual(len(set(columns.values())), 1, f"{sub}: description columns differ: {columns}")

class TestUsageErrors(unittest.TestCase):
    def test_bad_flags_exit_2_one_line(self):
        cases = [(["--port", "abc"], "--port"), (["--port", "70000"], "--port"), (["--port", "-1"], "--port"),
                 (["--rate", "-1"], "--rate"), (["--rate", "abc"], "--rate"), (["--rate", "nan"], "--rate"),
                 (["--bogus"], "--bogus"), (["--size", "1.5"], "--size"), (["--history", "0"], "--history"),
                 (["--heartbeat", "0"], "--heartbeat"), (["--heartbeat", "x"], "--heartbeat"),
                 (["--max-message", "0"], "--max-message"), (["--port"], "--port"), (["--port="], "--port"),
                 (["--max-queue", "5"], "--max-queue"), (["--max-queue", "x"], "--max-queue"),
                 (["--send-timeout", "0"], "--send-timeout"), (["--send-timeout", "abc"], "--send-timeout"),
                 (["--max-buffered", "-1"], "--max-buffered"), (["--max-clients", "1.5"], "--max-clients")]
        for args, flag in cases:
            with self.subTest(args=args):
                p = run_serve(*args)
                err = p.stderr.decode()
                self.assertEqual(p.returncode, 2, f"{args}: exit {p.returncode}, stderr {err!r}, stdout {p.stdout[:200]!r}")
                self.assertEqual(p.stdout, b"", f"{args}: printed on stdout")
                lines = err.rstrip("\n").split("\n")
                self.assertEqual(len(lines), 1, f"{args}: stderr is not one line: {err!r}")
                self.assertIn(flag, lines[0], f"{args}: the line does not name {flag}: {err!r}")
                if flag != "--bogus":
                    self.assertRegex(lines[0], r"integer|number", f"{args}: the line does not say what is accepted")

    def test_allow_origin_that_is_not_an_origin_exit_2(self):
        # A browser's Origin is scheme://host[:port], never a path or a trailing slash: a value no
        # Origin can equal used to start a server on which the flag silently did nothing.
        for value in ["not a url", "http://a.example/", "http://a.example/app", "a.example:3000", "http://",
                      "http://a.example:99999", "http://user@a.example", "http://a.example?x=1", "*"]:
            with self.subTest(value=value):
                try:
                    p = run_serve("--port", "0", "--rate", "0", "--allow-origin", value, timeout=5)
                except subprocess.TimeoutExpired:
                    self.fail(f"--allow-origin {value!r}: the server started instead of exiting 2")
                err = p.stderr.decode()
                self.assertEqual(p.returncode, 2, f"{value!r}: exit {p.returncode}, stderr {err!r}")
                self.assertEqual(p.stdout, b"")
                lines = err.rstrip("\n").split("\n")
                self.assertEqual(len(lines), 1, f"{value!r}: stderr is not one line: {err!r}")
                self.assertIn("--allow-origin", lines[0])
                self.assertIn("scheme://host[:port]", lines[0], "the line does not say what is accepted")

    def test_allow_origin_is_compared_in_the_form_a_browser_sends(self):
        # RFC 6454 §6.2: browsers send lower case, no default port. The flag's value is taken the same way.
        with WirelabServer("--rate", "0", "--allow-origin", "HTTP://Good.Example:80",
                           "--allow-origin", "https://x.example:443", "--allow-origin", "http://p.example:8080",
                           "--allow-origin", "null") as srv:
            for origin, status in [("http://good.example", 200), ("https://x.example", 200),
                                   ("http://p.example:8080", 200), ("null", 200),
                                   ("http://p.example", 403), ("http://evil.example", 403)]:
                with self.subTest(origin=origin):
                    got, headers, body = srv.request("POST", "/publish", body=b"hi",
                                                     headers={"Origin": origin, "Content-Type": "text/plain"})
                    self.assertEqual(got, status, body)
                    if status == 200:
                        self.assertEqual(headers.get("access-control-allow-origin"), origin)

    def test_port_in_use_exit_1(self):
        blocker = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            blocker.bind(("127.0.0.1", 0))
            blocker.listen(1)
            port = blocker.getsockname()[1]
            p = run_serve("--port", str(port), "--rate", "0", timeout=10)
            self.assertEqual(p.returncode, 1, f"stdout {p.stdout!r} stderr {p.stderr!r}")
            self.assertTrue(p.stderr.strip(), "no message on stderr")
        finally:
            blocker.close()

    def test_port_in_use_by_another_wirelab_exit_1(self):
        with WirelabServer("--rate", "0") as first:
            proc = subprocess.Popen([wirelab_bin(), "serve", "--port", str(first.port), "--rate", "0"],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                out, err = proc.communicate(timeout=3)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGTERM)
                try:
                    out, err = proc.communicate(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    out, err = proc.communicate()
                self.fail(f"a second wirelab serve on port {first.port} (in use by another wirelab) started "
                          f"instead of exiting 1; stdout {out!r}")
            self.assertEqual(proc.returncode, 1, f"stdout {out!r} stderr {err!r}")


class TestSignals(unittest.TestCase):
    def setUp(self):
        if _connect is None:
            self.fail("Python package 'websockets' is not installed (make test installs it)")

    def shutdown_with_ws(self, sig):
        srv = WirelabServer("--rate", "10").start()
        try:
            async def go():
                async with _connect(f"{srv.ws_base}/ws", proxy=None) as ws, \
                        _connect(f"{srv.ws_base}/echo", proxy=None) as echo:
                    await asyncio.wait_for(ws.recv(), 3)
                    await echo.send("x")
                    await asyncio.wait_for(echo.recv(), 3)
                    srv.send_signal(sig)
                    codes = []
                    for c in (ws, echo):
                        try:
                            for _ in range(100):
                                await asyncio.wait_for(c.recv(), 5)
                        except ConnectionClosed as e:
                            codes.append(e.rcvd.code if e.rcvd else None)
                    return codes
            codes = asyncio.run(asyncio.wait_for(go(), 15))
            self.assertEqual(codes, [1001, 1001], "WebSockets must be closed with 1001 on shutdown")
            rc = srv.wait(5)
            self.assertEqual(rc, 0, f"exit {rc}; stderr {srv.stderr_text()[-1000:]}")
        finally:
            srv.kill()

    def test_sigterm_closes_ws_1001_exit_0(self):
        self.shutdown_with_ws(signal.SIGTERM)

    def test_sigint_closes_ws_1001_exit_0(self):
        self.shutdown_with_ws(signal.SIGINT)

    def test_sigterm_ends_sse_cleanly(self):
        curl = shutil.which("curl")
        self.assertIsNotNone(curl, "curl is not installed (make test installs it)")
        srv = WirelabServer("--rate", "10").start()
        try:
            p = subprocess.Popen([curl, "-sS", "--noproxy", "*", "-N", "--max-time", "10", f"{srv.base}/sse?client=sse-term"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            # Until the stream has carried a tick (a condition, not a sleep: curl may start slowly).
            deadline = time.monotonic() + 10
            while srv.stats("sse-term")["events_sent"] < 1 and time.monotonic() < deadline:
                time.sleep(0.02)
            srv.send_signal(signal.SIGTERM)
            out, err = p.communicate(timeout=10)
            self.assertEqual(p.returncode, 0, f"curl exit {p.returncode} ({err!r}): the stream did not end with "
                                              f"its terminating chunk")
            self.assertIn(b"event: tick", out)
            self.assertTrue(out.endswith(b"\n\n"), out[-100:])
            self.assertEqual(srv.wait(5), 0)
        finally:
            srv.kill()

    def test_sigterm_with_raw_ws_and_idle_connections(self):
        srv = WirelabServer("--rate", "0").start()
        try:
            c = RawWS(srv.port, "/ws")
            idle = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
            t0 = time.monotonic()
            srv.send_signal(signal.SIGTERM)
            code, _, _ = c.read_until_close(5)
            self.assertEqual(code, 1001)
            self.assertEqual(srv.wait(5), 0)
            self.assertLess(time.monotonic() - t0, 5)
            idle.close()
            c.close()
        finally:
            srv.kill()


if __name__ == "__main__":
    unittest.main()
