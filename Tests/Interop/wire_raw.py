"""Raw-socket HTTP/1.1 and WebSocket (RFC 6455) client pieces for the interop tests.

Everything is written by hand with `socket` and `struct` so a test controls (and counts) every
byte: malformed requests, bad frames, exact byte accounting. Only talks to 127.0.0.1.
"""
import base64
import hashlib
import os
import select
import socket
import struct
import time

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


class Counted:
    """A TCP connection to 127.0.0.1 that counts every byte sent and received."""

    def __init__(self, port, timeout=10.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sent = 0
        self.received = 0
        self.buf = b""
        self.eof = False

    def send(self, data):
        self.sock.sendall(data)
        self.sent += len(data)

    def _fill(self, timeout):
        """Reads once (waiting at most `timeout`); returns False on timeout, True otherwise."""
        if self.eof:
            return True
        r, _, _ = select.select([self.sock], [], [], max(0.0, timeout))
        if not r:
            return False
        try:
            chunk = self.sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            self.eof = True
        self.received += len(chunk)
        self.buf += chunk
        return True

    def read_until(self, marker, timeout=5.0):
        deadline = time.monotonic() + timeout
        while marker not in self.buf:
            if self.eof:
                raise AssertionError(f"EOF before {marker!r}; have {self.buf[:300]!r}")
            if not self._fill(deadline - time.monotonic()):
                raise AssertionError(f"timeout waiting for {marker!r}; have {self.buf[:300]!r}")
        i = self.buf.index(marker) + len(marker)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def read_exact(self, n, timeout=5.0):
        deadline = time.monotonic() + timeout
        while len(self.buf) < n:
            if self.eof:
                raise AssertionError(f"EOF after {len(self.buf)} of {n} bytes")
            if not self._fill(deadline - time.monotonic()):
                raise AssertionError(f"timeout after {len(self.buf)} of {n} bytes")
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_for(self, seconds):
        """Reads whatever arrives for `seconds` (or until EOF); returns it."""
        deadline = time.monotonic() + seconds
        while not self.eof and time.monotonic() < deadline:
            self._fill(deadline - time.monotonic())
        out, self.buf = self.buf, b""
        return out

    def wait_eof(self, timeout=5.0):
        """Reads until the peer closes; returns the bytes read meanwhile, or raises on timeout."""
        deadline = time.monotonic() + timeout
        while not self.eof:
            if time.monotonic() >= deadline:
                raise AssertionError(f"connection not closed by the server within {timeout} s")
            self._fill(deadline - time.monotonic())
        out, self.buf = self.buf, b""
        return out

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    # -- HTTP ----------------------------------------------------------------------------------
    def read_response(self, timeout=5.0):
        """One HTTP/1.x response with Content-Length (or none): (status, headers, body, raw bytes)."""
        head = self.read_until(b"\r\n\r\n", timeout)
        status, headers = parse_head(head)
        n = int(headers.get("content-length", "0"))
        body = self.read_exact(n, timeout) if n else b""
        return status, headers, body, head + body


def parse_head(head):
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/"):
        raise AssertionError(f"bad status line {lines[0]!r}")
    headers = {}
    for line in lines[1:]:
        if not line:
            continue
        name, _, value = line.partition(":")
        key = name.strip().lower()
        if key in headers:
            headers[key] += ", " + value.strip()
        else:
            headers[key] = value.strip()
    return int(parts[1]), headers


def http_request(port, raw, timeout=5.0, check_close=True):
    """Sends raw bytes on a fresh connection; returns (status, headers, body, closed_after).
    closed_after: the server closed the connection within 2 s after the response (None when
    check_close is False: not waited for)."""
    c = Counted(port, timeout)
    try:
        try:
            c.send(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close before it has read everything
        status, headers, body, _ = c.read_response(timeout)
        closed = None
        if not check_close:
            return status, headers, body, closed
        try:
            c.wait_eof(2.0)
            closed = True
        except AssertionError:
            closed = False
        return status, headers, body, closed
    finally:
        c.close()


# -- WebSocket ---------------------------------------------------------------------------------
def make_key():
    return base64.b64encode(os.urandom(16)).decode()


def accept_for(key):
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


def upgrade_request(path, key=None, extra="", version="13"):
    key = key or make_key()
    req = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: {version}\r\n{extra}\r\n")
    return req.encode(), key


def build_frame(opcode, payload=b"", fin=True, rsv=0, mask=True, mask_key=None):
    if isinstance(payload, str):
        payload = payload.encode()
    b0 = (0x80 if fin else 0) | ((rsv & 7) << 4) | (opcode & 0xF)
    n = len(payload)
    mbit = 0x80 if mask else 0
    if n < 126:
        head = struct.pack("!BB", b0, mbit | n)
    elif n < 65536:
        head = struct.pack("!BBH", b0, mbit | 126, n)
    else:
        head = struct.pack("!BBQ", b0, mbit | 127, n)
    if not mask:
        return head + payload
    key = mask_key if mask_key is not None else os.urandom(4)
    masked = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return head + key + masked


def close_payload(code, reason=b""):
    return struct.pack("!H", code) + reason


class RawWS(Counted):
    """A hand-written WebSocket client on a counted socket."""

    def __init__(self, port, path="/echo", extra="", timeout=10.0):
        super().__init__(port, timeout)
        req, key = upgrade_request(path, extra=extra)
        self.send(req)
        head = self.read_until(b"\r\n\r\n", timeout)
        status, headers = parse_head(head)
        if status != 101:
            raise AssertionError(f"upgrade to {path}: status {status}, head {head!r}")
        if headers.get("sec-websocket-accept") != accept_for(key):
            raise AssertionError(f"bad Sec-WebSocket-Accept in {head!r}")
        self.handshake_response = head

    def send_frame(self, opcode, payload=b"", **kw):
        self.send(build_frame(opcode, payload, **kw))

    def read_frame(self, timeout=5.0):
        """(fin, rsv, opcode, masked, payload)."""
        b0, b1 = self.read_exact(2, timeout)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self.read_exact(2, timeout))[0]
        elif n == 127:
            n = struct.unpack("!Q", self.read_exact(8, timeout))[0]
        masked = bool(b1 & 0x80)
        key = self.read_exact(4, timeout) if masked else None
        payload = self.read_exact(n, timeout) if n else b""
        if masked:
            payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
        return bool(b0 & 0x80), (b0 >> 4) & 7, b0 & 0xF, masked, payload

    def read_until_close(self, timeout=5.0, answer_pings=False):
        """Reads frames until a close frame: (code or None, reason bytes, frames before it)."""
        deadline = time.monotonic() + timeout
        before = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no close frame within {timeout} s (frames: {before[:5]})")
            fin, rsv, op, masked, payload = self.read_frame(left)
            if masked:
                raise AssertionError("server frame is masked (RFC 6455 §5.1 forbids it)")
            if op == OP_CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                return code, payload[2:], before
            if op == OP_PING and answer_pings:
                self.send_frame(OP_PONG, payload)
            before.append((op, payload))
