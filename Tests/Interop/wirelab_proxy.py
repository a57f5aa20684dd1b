"""Starts and stops `wirelab proxy` for the interop tests, plus small upstreams of our own.

    with WirelabProxy("http://127.0.0.1:8080", "--delay", "50") as px:
        px.base  # http://127.0.0.1:PORT
    px.counters  # the JSON line printed at exit (PROTOCOL.md §7)

The first stdout line is `wirelab proxy listening on http://HOST:PORT -> UPSTREAM`; leaving the
`with` block sends SIGTERM, asserts exit code 0 and parses the one JSON line that follows.
Only ever talks to 127.0.0.1.
"""
import json
import re
import signal
import socket
import socketserver
import subprocess
import tempfile
import threading

from wirelab_server import LineReader, _die_with_parent, wirelab_bin

PROXY_RE = re.compile(r"^wirelab proxy listening on http://([^:/]+|\[[^\]]+\]):(\d+) -> (\S+)$")


class WirelabProxy:
    def __init__(self, upstream, *flags):
        self.upstream = upstream
        self.flags = [str(f) for f in flags]
        self.proc = None
        self.counters = None
        self.returncode = None

    def start(self, timeout=5.0):
        self.stderr_file = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([wirelab_bin(), "proxy", "--upstream", self.upstream, *self.flags],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self.stderr_file,
                                     preexec_fn=_die_with_parent)
        self.stdout = LineReader(self.proc.stdout)
        try:
            self.first_line = self.stdout.readline(timeout)
            m = PROXY_RE.match(self.first_line)
            if not m:
                raise AssertionError(f"first stdout line is not 'wirelab proxy listening on http://HOST:PORT -> UPSTREAM': {self.first_line!r}")
            self.host, self.port, self.shown_upstream = m.group(1), int(m.group(2)), m.group(3)
        except BaseException:
            self.kill()
            raise
        return self

    @property
    def base(self):
        return f"http://{self.host}:{self.port}"

    @property
    def ws_base(self):
        return f"ws://{self.host}:{self.port}"

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.returncode = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"wirelab proxy did not exit within {timeout} s")
        line = self.stdout.readline(2.0)
        self.counters = json.loads(line)
        self.proc.stdout.close()
        return self.returncode

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    def stderr_text(self):
        self.stderr_file.seek(0)
        return self.stderr_file.read().decode("utf-8", "replace")

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self.kill()
            return False
        rc = self.stop()
        if rc != 0:
            raise AssertionError(f"wirelab proxy exited {rc} after SIGTERM: {self.stderr_text()}")
        return False


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class Upstream:
    """A raw TCP upstream on 127.0.0.1 running `handler(sock)` per connection, in a thread."""

    def __init__(self, handler):
        outer = handler

        class H(socketserver.BaseRequestHandler):
            def handle(self):
                self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                try:
                    outer(self.request)
                except OSError:
                    pass

        self.server = _Server(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        return False


def echo(sock):
    """Sends back every byte it reads until EOF, then half-closes."""
    while True:
        data = sock.recv(65536)
        if not data:
            sock.shutdown(socket.SHUT_WR)
            return
        sock.sendall(data)


def http_blob(size):
    """An upstream that answers any request with `size` bytes (Content-Length), then closes."""
    def handle(sock):
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = sock.recv(4096)
            if not chunk:
                return
            buf += chunk
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % size)
        sock.sendall(b"x" * size)
        sock.shutdown(socket.SHUT_WR)
        while sock.recv(4096):
            pass
    return handle


def free_port():
    """A port nobody listens on (bound, then closed)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port
