"""Tools for the attack tests (test_bounds.py): what a hostile client does, and how we see that
the server held (PROTOCOL.md §9).

- `ProcWatch`: the server's resident memory (VmRSS in /proc/PID/status), CPU time (utime + stime
  in /proc/PID/stat, all threads) and open descriptors (/proc/PID/fd).
- `Watcher`: a well-behaved SSE subscriber on its own thread. It records when each event (and
  each `: hb` heartbeat) arrived and how old the event was (arrival wall clock minus the event's
  `ts`), so a test can say "during the attack the watcher kept receiving, with normal latency".
- `Arena`: one server + its ProcWatch + a Watcher, with a baseline taken before the attack and
  `assert_held(...)` after it: memory growth, CPU time and the watcher's experience, each under
  a figure the test states.
- Raw attackers: `slow_socket` (a tiny receive buffer, never read), `drain` (read what a never-
  reading client had piled up, to see whether the server closed it), WebSocket frame scanning.

Every loop here is bounded in count and time; only 127.0.0.1 is contacted.
"""
import json
import os
import select
import socket
import struct
import threading
import time

from wirelab_server import WirelabServer
from wire_raw import upgrade_request, parse_head, OP_CLOSE

MIB = 1024 * 1024


class ProcWatch:
    def __init__(self, pid):
        self.pid = pid

    def rss(self):
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS line")

    def cpu(self):
        """utime + stime of every thread, seconds."""
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def fds(self):
        return len(os.listdir(f"/proc/{self.pid}/fd"))


class Watcher:
    """A raw-socket SSE subscriber (GET /sse) that records every arrival on its own thread."""

    def __init__(self, port, path="/sse", max_seconds=600):
        self.max_seconds = max_seconds      # bounded like every loop here; a soak passes its length
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        self.arrivals = []       # (monotonic s, id or None for a heartbeat, age in s or None)
        self.error = None
        self.stop_flag = False
        self.started = time.monotonic()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        buf = b""
        deadline = time.monotonic() + self.max_seconds
        while not self.stop_flag and time.monotonic() < deadline:
            try:
                r, _, _ = select.select([self.sock], [], [], 0.2)
                if not r:
                    continue
                chunk = self.sock.recv(1 << 20)
            except OSError as e:
                self.error = f"watcher socket error: {e!r}"
                return
            if not chunk:
                self.error = "the server closed the watcher's stream"
                return
            now_m, now_w = time.monotonic(), time.time()
            buf += chunk
            lines = buf.split(b"\n")
            buf = lines.pop()
            for line in lines:
                line = line.rstrip(b"\r")
                if line.startswith(b"data: {"):
                    ev = json.loads(line[6:])
                    self.arrivals.append((now_m, ev["id"], now_w - ev["ts"] / 1e6))
                elif line == b": hb":
                    self.arrivals.append((now_m, None, None))

    def mark(self):
        return time.monotonic()

    def wait_events(self, n, timeout=10.0):
        deadline = time.monotonic() + timeout
        while sum(1 for a in self.arrivals if a[1] is not None) < n and time.monotonic() < deadline:
            if self.error:
                break
            time.sleep(0.02)

    def check(self, since, max_gap, max_age=None, min_arrivals=2):
        """Raises unless, from monotonic time `since` to now, the watcher kept receiving: no gap
        between arrivals longer than `max_gap` s, no event older than `max_age` s on arrival, and
        no event missed (ids consecutive). Returns a summary dict for messages."""
        wait_until = time.monotonic() + max_gap      # a short attack: give the watcher its chance
        while (time.monotonic() < wait_until and not self.error
               and sum(1 for a in self.arrivals if a[0] >= since) < min_arrivals):
            time.sleep(0.02)
        now = time.monotonic()
        if self.error:
            raise AssertionError(f"watcher disturbed: {self.error}")
        window = [a for a in self.arrivals if a[0] >= since]
        if len(window) < min_arrivals:
            raise AssertionError(f"watcher got {len(window)} arrivals in {now - since:.1f} s (expected >= {min_arrivals})")
        times = [since] + [a[0] for a in window] + [now]
        gap = max(b - a for a, b in zip(times, times[1:]))
        ages = [a[2] for a in window if a[2] is not None]
        ids = [a[1] for a in self.arrivals if a[1] is not None]
        summary = {"arrivals": len(window), "max_gap_s": round(gap, 3),
                   "max_age_s": round(max(ages), 3) if ages else None}
        if gap > max_gap:
            raise AssertionError(f"watcher went {gap:.2f} s without anything (limit {max_gap} s): {summary}")
        if max_age is not None and ages and max(ages) > max_age:
            raise AssertionError(f"an event reached the watcher {max(ages):.2f} s after publication (limit {max_age} s): {summary}")
        if ids and ids != list(range(ids[0], ids[0] + len(ids))):
            missing = sorted(set(range(ids[0], ids[-1] + 1)) - set(ids))
            raise AssertionError(f"watcher missed events {missing[:10]} ({len(missing)} in all)")
        return summary

    def close(self):
        self.stop_flag = True
        self.thread.join(2)
        try:
            self.sock.close()
        except OSError:
            pass


class Arena:
    """A server under attack: `with Arena(test, "--rate", "20") as a:` starts `wirelab serve`
    with those flags and an SSE watcher, waits for the watcher's first events (or heartbeats),
    then takes the baseline (RSS, CPU time). The test runs its attack and calls
    `a.assert_held(rss_mib=..., cpu_s=..., max_gap=..., max_age=...)`."""

    def __init__(self, test, *flags, nofile=None, warm_events=3):
        self.test = test
        self.srv = WirelabServer(*flags, nofile=nofile)
        self.warm_events = warm_events
        self.watcher = None

    def __enter__(self):
        self.srv.start()
        try:
            self.proc = ProcWatch(self.srv.proc.pid)
            self.watcher = Watcher(self.srv.port)
            if self.warm_events:
                self.watcher.wait_events(self.warm_events)
            else:
                time.sleep(0.3)
            self.rebase()
        except BaseException:
            self.srv.kill()
            raise
        return self

    def rebase(self):
        """Takes the baseline now (call it after a setup phase that is not the attack)."""
        self.rss0 = self.proc.rss()
        self.cpu0 = self.proc.cpu()
        self.fds0 = self.proc.fds()
        self.t0 = time.monotonic()
        self.peak_rss = self.rss0

    @property
    def port(self):
        return self.srv.port

    def rss_growth(self):
        rss = self.proc.rss()
        self.peak_rss = max(self.peak_rss, rss)
        return rss - self.rss0

    def cpu_used(self):
        return self.proc.cpu() - self.cpu0

    def over(self, rss_mib):
        """True once the server grew by more than rss_mib: the attack can stop, the bound broke."""
        return self.rss_growth() > rss_mib * MIB

    def assert_held(self, rss_mib, cpu_s, max_gap=2.5, max_age=2.0, min_arrivals=2):
        t = self.test
        t.assertTrue(self.srv.alive(), f"server died; stderr: {self.srv.stderr_text()[-2000:]}")
        self.rss_growth()
        peak = (self.peak_rss - self.rss0) / MIB
        t.assertLessEqual(peak, rss_mib, f"server RSS grew {peak:.1f} MiB during the attack "
                          f"({self.rss0 / MIB:.1f} -> {self.peak_rss / MIB:.1f} MiB; limit +{rss_mib} MiB)")
        cpu = self.cpu_used()
        wall = time.monotonic() - self.t0
        t.assertLessEqual(cpu, cpu_s, f"server used {cpu:.2f} s of CPU in {wall:.1f} s (limit {cpu_s} s)")
        return self.watcher.check(self.t0, max_gap=max_gap, max_age=max_age, min_arrivals=min_arrivals)

    def healthz_seconds(self, timeout=5.0):
        """Time for one GET /healthz on a fresh connection (raises unless 200 ok)."""
        t0 = time.monotonic()
        try:
            status, _, body = self.srv.get("/healthz", timeout=timeout)
        except OSError as e:
            raise AssertionError(f"GET /healthz: no answer within {timeout} s ({e!r})")
        self.test.assertEqual((status, body), (200, b"ok"))
        return time.monotonic() - t0

    def __exit__(self, exc_type, exc, tb):
        if self.watcher:
            self.watcher.close()
        return self.srv.__exit__(exc_type, exc, tb)


# -- raw attackers ---------------------------------------------------------------------------

def slow_socket(port, rcvbuf=4096):
    """A connection with a tiny receive buffer (set before connect, so the window stays small):
    the client that never reads."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(5)
    s.connect(("127.0.0.1", port))
    return s


def slow_websocket(port, path="/ws", rcvbuf=4096):
    """A WebSocket that completes its handshake and then never reads."""
    s = slow_socket(port, rcvbuf)
    req, _ = upgrade_request(path)
    s.sendall(req)
    head = b""
    deadline = time.monotonic() + 5
    while b"\r\n\r\n" not in head:
        if time.monotonic() > deadline:
            raise AssertionError(f"no 101 for {path} within 5 s: {head[:200]!r}")
        chunk = s.recv(1)          # byte by byte: leave every frame in the kernel buffer
        if not chunk:
            raise AssertionError(f"closed during the handshake: {head!r}")
        head += chunk
    status, _ = parse_head(head)
    if status != 101:
        raise AssertionError(f"upgrade to {path}: {status}")
    return s


def drain(sock, quiet=1.0, limit_s=5.0, limit_bytes=64 * MIB):
    """Reads what a never-reading client had piled up, as fast as possible: (bytes, eof).
    eof is True when the server closed (FIN or RST) within `limit_s`; False when data kept
    coming (the server still holds it open) or nothing came for `quiet` s without a close."""
    sock.setblocking(False)
    data = bytearray()
    deadline = time.monotonic() + limit_s
    last = time.monotonic()
    while time.monotonic() < deadline and len(data) < limit_bytes:
        r, _, _ = select.select([sock], [], [], 0.1)
        if not r:
            if time.monotonic() - last > quiet:
                return bytes(data), False
            continue
        try:
            chunk = sock.recv(1 << 20)
        except (ConnectionResetError, BrokenPipeError):
            return bytes(data), True
        except BlockingIOError:
            continue
        if not chunk:
            return bytes(data), True
        data += chunk
        last = time.monotonic()
    return bytes(data), False


def drain_all(socks, quiet=1.0, limit_s=5.0, limit_bytes=64 * MIB):
    """`drain` for many sockets at once (the whole call takes at most `limit_s`):
    [(bytes, eof)] in the order of `socks`."""
    out = {s: [bytearray(), False, time.monotonic()] for s in socks}
    for s in socks:
        s.setblocking(False)
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        live = [s for s, st in out.items() if not st[1] and len(st[0]) < limit_bytes
                and time.monotonic() - st[2] <= quiet]
        if not live:
            break
        r, _, _ = select.select(live, [], [], 0.1)
        for s in r:
            st = out[s]
            try:
                chunk = s.recv(1 << 20)
            except (ConnectionResetError, BrokenPipeError):
                chunk = b""
            except BlockingIOError:
                continue
            if not chunk:
                st[1] = True
            else:
                st[0] += chunk
                st[2] = time.monotonic()
    return [(bytes(out[s][0]), out[s][1]) for s in socks]


def server_frames(data):
    """Unmasked server frames in `data` (stops at a truncated one): [(fin, opcode, payload)]."""
    out = []
    i = 0
    while i + 2 <= len(data):
        b0, b1 = data[i], data[i + 1]
        n = b1 & 0x7F
        j = i + 2
        if n == 126:
            if j + 2 > len(data):
                break
            n = struct.unpack("!H", data[j:j + 2])[0]
            j += 2
        elif n == 127:
            if j + 8 > len(data):
                break
            n = struct.unpack("!Q", data[j:j + 8])[0]
            j += 8
        if j + n > len(data):
            break
        out.append((bool(b0 & 0x80), b0 & 0xF, bytes(data[j:j + n])))
        i = j + n
    return out


def close_code(frames):
    """The code of the first close frame among `frames` (None: no close frame, or no code)."""
    for _, op, payload in frames:
        if op == OP_CLOSE:
            return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
    return None


def has_close(frames):
    return any(op == OP_CLOSE for _, op, _ in frames)


def send_for(sock, chunk, seconds, stop=lambda: False, max_bytes=1 << 40):
    """Writes `chunk` repeatedly for at most `seconds` without ever blocking for long: returns
    (bytes the kernel accepted, how it ended: 'time' | 'closed' | 'stop' | 'max')."""
    sock.setblocking(False)
    sent = 0
    deadline = time.monotonic() + seconds
    view = memoryview(chunk)
    off = 0
    checks = 0
    while time.monotonic() < deadline:
        if sent >= max_bytes:
            return sent, "max"
        checks += 1
        if checks % 16 == 0 and stop():
            return sent, "stop"
        _, w, _ = select.select([], [sock], [], 0.05)
        if not w:
            continue
        try:
            n = sock.send(view[off:])
        except BlockingIOError:
            continue
        except (BrokenPipeError, ConnectionResetError):
            return sent, "closed"
        sent += n
        off = (off + n) % len(chunk)
    return sent, "time"


def pipeline_names(port, total, sockets, limit_s):
    """Sends `GET /poll?client=n<i>` for i < total, pipelined over `sockets` connections, and
    reads the answers, all on one thread (select): {"answered": 200s, "other": non-200 answers,
    "eof": connections the server closed, "not_200": their first status lines, "seconds": ...}. Run it in its own process
    (`python3 attack_tools.py names PORT TOTAL SOCKETS LIMIT_S`) so the test's own threads
    (the watcher, /stats probes) are not starved of the interpreter lock."""
    t0 = time.monotonic()
    socks, out, inbox, want = [], {}, {}, {}
    for k in range(sockets):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.setblocking(False)
        socks.append(s)
        out[s] = memoryview(b"".join(b"GET /poll?client=n%d HTTP/1.1\r\nHost: x\r\n\r\n" % i
                                     for i in range(k, total, sockets)))
        inbox[s] = [0, 0, b""]          # 200s, others, tail
        want[s] = len(range(k, total, sockets))
    eof = 0
    seen = []                           # the first few non-200 status lines
    live = set(socks)
    while live and time.monotonic() - t0 < limit_s:
        r, w, _ = select.select(list(live), [s for s in live if len(out[s])], [], 0.5)
        for s in w:
            try:
                n = s.send(out[s][:1 << 16])
                out[s] = out[s][n:]
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                out[s] = memoryview(b"")
        for s in r:
            try:
                chunk = s.recv(1 << 20)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                chunk = b""
            box = inbox[s]
            if not chunk:
                eof += 1
                live.discard(s)
                continue
            data = box[2] + chunk
            box[0] += data.count(b"HTTP/1.1 200 ")
            others = data.count(b"HTTP/1.1 ") - data.count(b"HTTP/1.1 200 ")
            if others:
                box[1] += others
                for line in data.split(b"\r\n"):
                    if line.startswith(b"HTTP/1.1 ") and not line.startswith(b"HTTP/1.1 200 ") and len(seen) < 5:
                        seen.append(line.decode("latin-1"))
            box[2] = data[-12:]          # shorter than a status line: nothing counted twice
            if box[0] + box[1] >= want[s]:
                live.discard(s)
    for s in socks:
        s.close()
    return {"answered": sum(b[0] for b in inbox.values()), "other": sum(b[1] for b in inbox.values()),
            "eof": eof, "not_200": seen, "seconds": round(time.monotonic() - t0, 2)}


if __name__ == "__main__":
    import sys
    if len(sys.argv) == 6 and sys.argv[1] == "names":
        port, total, sockets, limit_s = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
        print(json.dumps(pipeline_names(port, total, sockets, limit_s)), flush=True)
    else:
        sys.exit("usage: attack_tools.py names PORT TOTAL SOCKETS LIMIT_S")
