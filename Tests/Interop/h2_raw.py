"""A hand-driven HTTP/2 client for the interop tests: raw frames on a counted socket.

Frames are laid out here by hand (RFC 9113 §4.1: length 24, type 8, flags 8, R + stream 31),
so a test can send what no well-behaved library would; header blocks are HPACK-encoded by the
`hpack` package (installed with Python `h2`), and `H2Raw.h2_connection()` gives a python-h2
state machine on the same counted socket for the well-behaved flows.
Only ever talks to 127.0.0.1.
"""
import socket
import struct
import time

import hpack

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = range(10)
END_STREAM, ACK, END_HEADERS, PADDED, PRIORITY_FLAG = 0x1, 0x1, 0x4, 0x8, 0x20

# RFC 9113 §7
NO_ERROR, PROTOCOL_ERROR, INTERNAL_ERROR, FLOW_CONTROL_ERROR, SETTINGS_TIMEOUT, STREAM_CLOSED, \
    FRAME_SIZE_ERROR, REFUSED_STREAM, CANCEL, COMPRESSION_ERROR, CONNECT_ERROR, ENHANCE_YOUR_CALM = range(12)
CODE_NAMES = ["NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR", "SETTINGS_TIMEOUT",
              "STREAM_CLOSED", "FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL", "COMPRESSION_ERROR",
              "CONNECT_ERROR", "ENHANCE_YOUR_CALM"]

SETTINGS_ENABLE_PUSH, SETTINGS_MAX_CONCURRENT_STREAMS, SETTINGS_INITIAL_WINDOW_SIZE = 0x2, 0x3, 0x4
SETTINGS_MAX_FRAME_SIZE, SETTINGS_ENABLE_CONNECT_PROTOCOL = 0x5, 0x8


def frame(ftype, flags, stream, payload=b""):
    return struct.pack("!I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack("!I", stream & 0x7FFFFFFF) + payload


def settings(pairs=(), ack=False):
    return frame(SETTINGS, ACK if ack else 0, 0, b"".join(struct.pack("!HI", k, v) for k, v in pairs))


def window_update(stream, increment):
    return frame(WINDOW_UPDATE, 0, stream, struct.pack("!I", increment))


def rst_stream(stream, code):
    return frame(RST_STREAM, 0, stream, struct.pack("!I", code))


def request_fields(path, method="GET", authority="127.0.0.1", extra=()):
    return [(":method", method), (":scheme", "http"), (":path", path), (":authority", authority), *extra]


class Frame:
    def __init__(self, ftype, flags, stream, payload):
        self.type, self.flags, self.stream, self.payload = ftype, flags, stream, payload

    @property
    def error_code(self):
        if self.type == GOAWAY:
            return struct.unpack("!I", self.payload[4:8])[0]
        if self.type == RST_STREAM:
            return struct.unpack("!I", self.payload[:4])[0]
        return None

    def __repr__(self):
        code = self.error_code
        extra = f" {CODE_NAMES[code] if code is not None and code < len(CODE_NAMES) else code}" if code is not None else ""
        return f"<frame type={self.type} flags={self.flags:#x} stream={self.stream} len={len(self.payload)}{extra}>"


class H2Raw:
    """A counted socket speaking HTTP/2 with prior knowledge."""

    def __init__(self, port, timeout=10.0, preface=True, client_settings=((SETTINGS_ENABLE_PUSH, 0),)):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sent = 0
        self.received = 0
        self.buf = b""
        self.encoder = hpack.Encoder()
        self.decoder = hpack.Decoder()
        self.decoder.max_allowed_table_size = 65536
        self.server_settings = {}
        self.eof = False
        if preface:
            self.send(PREFACE + settings(client_settings))

    def send(self, data):
        self.sock.sendall(data)
        self.sent += len(data)

    def _fill(self, timeout):
        self.sock.settimeout(max(0.01, timeout))
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            return False
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            self.eof = True
            return False
        self.received += len(chunk)
        self.buf += chunk
        return True

    def read_frame(self, timeout=5.0):
        """The next frame, or None at EOF / timeout. SETTINGS from the server are recorded and ACKed."""
        deadline = time.monotonic() + timeout
        while True:
            if len(self.buf) >= 9:
                length = int.from_bytes(self.buf[:3], "big")
                if len(self.buf) >= 9 + length:
                    ftype, flags = self.buf[3], self.buf[4]
                    stream = struct.unpack("!I", self.buf[5:9])[0] & 0x7FFFFFFF
                    payload = self.buf[9:9 + length]
                    self.buf = self.buf[9 + length:]
                    f = Frame(ftype, flags, stream, payload)
                    if ftype == HEADERS:
                        # Decode every field block, whichever stream: the HPACK table must stay in step.
                        f.fields = [(k.decode() if isinstance(k, bytes) else k, v.decode() if isinstance(v, bytes) else v)
                                    for k, v in self.decoder.decode(payload)]
                    if ftype == SETTINGS and not flags & ACK:
                        for i in range(0, len(payload) - len(payload) % 6, 6):
                            k, v = struct.unpack("!HI", payload[i:i + 6])
                            self.server_settings[k] = v
                    return f
            left = deadline - time.monotonic()
            if left <= 0 or self.eof or not self._fill(left):
                if self.eof or time.monotonic() >= deadline:
                    return None

    def frames_until(self, predicate, timeout=5.0):
        """Frames read until one satisfies predicate (returned last); raises at EOF/timeout."""
        deadline = time.monotonic() + timeout
        seen = []
        while True:
            f = self.read_frame(max(0.0, deadline - time.monotonic()))
            if f is None:
                raise AssertionError(f"no matching frame within {timeout} s (eof={self.eof}); got {seen[-10:]}")
            seen.append(f)
            if predicate(f):
                return seen

    def expect_goaway(self, code, timeout=5.0):
        frames = self.frames_until(lambda f: f.type == GOAWAY, timeout)
        got = frames[-1].error_code
        if got != code:
            raise AssertionError(f"GOAWAY {CODE_NAMES[got] if got < len(CODE_NAMES) else got}, expected {CODE_NAMES[code]}; debug {frames[-1].payload[8:]!r}")
        # §5.4.1: after GOAWAY for a connection error the server closes the connection.
        self.wait_eof()
        return frames[-1]

    def expect_rst(self, stream, code, timeout=5.0):
        frames = self.frames_until(lambda f: (f.type == RST_STREAM and f.stream == stream) or f.type == GOAWAY, timeout)
        last = frames[-1]
        if last.type != RST_STREAM or last.error_code != code:
            raise AssertionError(f"expected RST_STREAM {CODE_NAMES[code]} on stream {stream}, got {last!r}")
        return frames

    def wait_eof(self, timeout=5.0):
        deadline = time.monotonic() + timeout
        while not self.eof:
            if time.monotonic() >= deadline:
                raise AssertionError("server did not close the connection")
            self._fill(deadline - time.monotonic())
            self.buf = b""

    def headers(self, stream, fields, end_stream=True):
        block = self.encoder.encode(fields)
        self.send(frame(HEADERS, END_HEADERS | (END_STREAM if end_stream else 0), stream, block))

    def data(self, stream, payload, end_stream=False):
        self.send(frame(DATA, END_STREAM if end_stream else 0, stream, payload))

    def response(self, stream, timeout=5.0, already=()):
        """(status, headers dict, body) of a complete answer on `stream` (`already`: frames read before)."""
        status, hdrs, body = None, {}, b""
        deadline = time.monotonic() + timeout
        queue = list(already)
        while True:
            f = queue.pop(0) if queue else self.read_frame(max(0.0, deadline - time.monotonic()))
            if f is None:
                raise AssertionError(f"no complete response on stream {stream} within {timeout} s")
            if f.stream != stream:
                continue
            if f.type == HEADERS:
                for k, v in f.fields:
                    if k == ":status":
                        status = int(v)
                    else:
                        hdrs[k] = v
            elif f.type == DATA:
                body += f.payload
                if f.payload:
                    # give the window back, so long answers flow
                    self.send(window_update(0, len(f.payload)) + window_update(stream, len(f.payload)))
            elif f.type == RST_STREAM:
                raise AssertionError(f"stream {stream} reset: {f!r}")
            if f.flags & END_STREAM and f.type in (HEADERS, DATA):
                return status, hdrs, body

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
