"""Starts and stops `wirelab serve` for the interop tests, plus small HTTP helpers.

    with WirelabServer("--rate", "0") as srv:
        status, headers, body = srv.get("/poll")

`serve --port 0` prints `wirelab listening on http://HOST:PORT`, then `control token: TOKEN`
(PROTOCOL.md §4). Leaving the `with` block sends SIGTERM and asserts exit code 0.
The binary comes from $WIRELAB_BIN (run_all.py sets it from --bin).
Only ever talks to 127.0.0.1.
"""
import http.client
import json
import os
import re
import select
import signal
import subprocess
import tempfile
import time

LISTEN_RE = re.compile(r"^wirelab listening on http://([^:/]+|\[[^\]]+\]):(\d+)$")
TOKEN_RE = re.compile(r"^control token: (\S+)$")


def wirelab_bin():
    path = os.environ.get("WIRELAB_BIN", ".build/debug/wirelab")
    if not os.path.exists(path):
        raise AssertionError(f"wirelab binary not found at {path} (run swift build, or pass --bin)")
    return os.path.abspath(path)


def _die_with_parent():
    """Child side of Popen: SIGKILL the server if the test runner dies (no stray servers)."""
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def _child_setup(nofile):
    """The Popen preexec function: die with the parent; with `nofile`, cap the open-file limit
    (soft and hard, so the server cannot raise it) to play a machine out of descriptors."""
    def setup():
        _die_with_parent()
        if nofile is not None:
            import resource
            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
    return setup


class LineReader:
    """Reads lines from a pipe with a deadline (no blocking forever)."""

    def __init__(self, pipe):
        self.fd = pipe.fileno()
        self.buf = b""

    def readline(self, timeout=5.0):
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no complete line within {timeout} s (got {self.buf!r})")
            r, _, _ = select.select([self.fd], [], [], left)
            if not r:
                continue
            chunk = os.read(self.fd, 4096)
            if not chunk:
                raise AssertionError(f"stdout closed before a complete line (got {self.buf!r})")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode("utf-8", "replace")


class WirelabServer:
    def __init__(self, *args, port="0", nofile=None):
        self.args = [str(a) for a in args]
        # run_all.py --selector poll: every server of the run on that backend.
        selector = os.environ.get("WIRELAB_SELECTOR")
        if selector and "--selector" not in self.args:
            self.args += ["--selector", selector]
        self.port_arg = str(port)
        self.nofile = nofile
        self.proc = None
        self.host = None
        self.port = None
        self.token = None
        self.first_line = None
        self.second_line = None
        self.returncode = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self, timeout=5.0):
        self.stderr_file = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [wirelab_bin(), "serve", "--port", self.port_arg, *self.args],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self.stderr_file,
            preexec_fn=_child_setup(self.nofile))
        self.stdout = LineReader(self.proc.stdout)
        try:
            self.first_line = self.stdout.readline(timeout)
            m = LISTEN_RE.match(self.first_line)
            if not m:
                raise AssertionError(f"first stdout line is not 'wirelab listening on http://HOST:PORT': {self.first_line!r}")
            self.host, self.port = m.group(1), int(m.group(2))
            self.second_line = self.stdout.readline(timeout)
            m = TOKEN_RE.match(self.second_line)
            if not m:
                raise AssertionError(f"second stdout line is not 'control token: TOKEN': {self.second_line!r}")
            self.token = m.group(1)
        except BaseException:
            self.kill()
            raise
        return self

    def stderr_text(self):
        try:
            self.stderr_file.seek(0)
            return self.stderr_file.read().decode("utf-8", "replace")
        except Exception:
            return ""

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def wait(self, timeout=5.0):
        try:
            self.returncode = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"wirelab serve did not exit within {timeout} s")
        return self.returncode

    def stop(self, sig=signal.SIGTERM, timeout=5.0):
        """Sends `sig`, waits for the exit; returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        rc = self.wait(timeout)
        try:
            self.proc.stdout.close()
        except Exception:
            pass
        return rc

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(5)
            except Exception:
                pass

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb):
        was_alive = self.alive()
        rc = self.stop()
        if exc_type is None:
            if not was_alive:
                raise AssertionError(f"wirelab serve died during the test (exit {rc}); stderr: {self.stderr_text()[-2000:]}")
            if rc != 0:
                raise AssertionError(f"wirelab serve exited {rc} after SIGTERM, expected 0; stderr: {self.stderr_text()[-2000:]}")
        return False

    # -- HTTP helpers --------------------------------------------------------------------------
    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_base(self):
        return f"ws://127.0.0.1:{self.port}"

    def request(self, method, path, body=None, headers=None, timeout=10.0):
        """One request on a fresh connection: (status, headers as lowercase dict, body bytes)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
            hdrs = {k.lower(): v for k, v in resp.getheaders()}
            return resp.status, hdrs, data
        finally:
            conn.close()

    def get(self, path, headers=None, timeout=10.0):
        return self.request("GET", path, headers=headers, timeout=timeout)

    def get_json(self, path):
        status, _, body = self.get(path)
        if status != 200:
            raise AssertionError(f"GET {path}: status {status}, body {body[:300]!r}")
        return json.loads(body)

    def publish(self, text, content_type="text/plain"):
        data = text.encode() if isinstance(text, str) else text
        status, _, body = self.request("POST", "/publish", body=data, headers={"Content-Type": content_type})
        if status != 200:
            raise AssertionError(f"POST /publish: status {status}, body {body[:300]!r}")
        return json.loads(body)["id"]

    def latest(self):
        return self.get_json("/poll")["next"]

    def stats(self, client=None):
        return self.get_json("/stats" + (f"?client={client}" if client else ""))

    def healthy(self):
        try:
            status, _, body = self.get("/healthz", timeout=3)
            return status == 200 and body == b"ok"
        except OSError:
            return False

    def wait_for_latest(self, n, timeout=5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            latest = self.latest()
            if latest >= n:
                return latest
            time.sleep(0.05)
        raise AssertionError(f"latest event id did not reach {n} within {timeout} s")
