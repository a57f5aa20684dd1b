#!/usr/bin/env python3
"""WireLab performance figures, each as a ratio against a reference measured side by side in the
same run (Tests/Bench/perf/README.md). `make bench-perf` compiles the C programs into
.build/bench/ and runs this.

Figures:
  1. WebSocket fan-out, 10,000 clients, 10 events/s, 64 B: p50, p99 delivery latency and server
     CPU per delivered copy vs c_broadcaster, in two pairs with the same threads on both sides:
     `--loops 1` vs one C thread, the default vs one C thread per core (median of 3 alternating
     rounds; target <= 1.05x).
  2. GET /poll keep-alive throughput (wrk -t1 -c50 -d10s): `--loops 1` vs nginx with one worker,
     and the default (one loop per core) vs nginx with `worker_processes auto` (target >= 1.0x).
  3. RSS per idle connection (10,000 WebSockets; 10,000 keep-alive HTTP) vs c_broadcaster.
  4. 10,000 WebSocket handshakes, 500 in flight: total time vs c_broadcaster.
  5. Scale: 10,000 WebSockets, one POST /publish at a time (--rate 0): connect time, p50/p99, RSS.
  6. HTTP/2 (http2_perf.py): /poll over h2c under h2load -c50 -m10 vs nginx h2c (target >= 0.8x);
     RSS per idle HTTP/2 connection (target <= 4 KB).

Every load is bounded in count and time; all traffic goes to 127.0.0.1. Output: a table on
stdout and the numbers as JSON in <work>/perf.json. Timing is never pass/fail: lines say
`meets target` or `MISSES target`, and the exit status is 0 unless the bench itself broke.
"""
import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

import http2_perf

HERE = os.path.dirname(os.path.abspath(__file__))
N = 10_000
INFLIGHT = 500

_children = []


def log(msg):
    print(f"[bench-perf {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- tools

def ensure_tools():
    """nginx, wrk and h2load, installed from Debian when missing (like `make test` does for its tools)."""
    missing = []
    if not os.path.exists("/usr/sbin/nginx") and not shutil.which("nginx"):
        missing.append("nginx-light")
    if not shutil.which("wrk"):
        missing.append("wrk")
    if not shutil.which("h2load"):
        missing.append("nghttp2-client")   # h2load, for the HTTP/2 figure
    if not missing:
        return
    log(f"installing {' '.join(missing)} (apt-get)")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(sudo + ["apt-get", "update"], check=True, env=env, timeout=300,
                   stdout=subprocess.DEVNULL)
    subprocess.run(sudo + ["apt-get", "install", "-y", "--no-install-recommends"] + missing,
                   check=True, env=env, timeout=600, stdout=subprocess.DEVNULL)


def nginx_path():
    return "/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else shutil.which("nginx")


# ---------------------------------------------------------------- processes

class Server:
    """A server child that prints `... listening on http://HOST:PORT` as its first line."""

    def __init__(self, name, argv, work):
        self.name = name
        self.err = open(os.path.join(work, f"{name}.stderr.log"), "ab")
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.err, stdin=subprocess.DEVNULL)
        _children.append(self.proc)
        self.port = None
        line = self._readline(10)
        m = re.search(r"listening on http://[^:]+:(\d+)", line or "")
        if not m:
            self.stop()
            raise RuntimeError(f"{name} did not start: first line {line!r}")
        self.port = int(m.group(1))
        # Drain the rest of stdout so a chatty server never blocks on a full pipe.
        threading.Thread(target=self._drain, daemon=True).start()

    def _readline(self, timeout):
        out = []
        def reader():
            out.append(self.proc.stdout.readline().decode(errors="replace"))
        t = threading.Thread(target=reader, daemon=True)
        t.start()
        t.join(timeout)
        return out[0] if out else None

    def _drain(self):
        try:
            for _ in self.proc.stdout:
                pass
        except (ValueError, OSError):
            pass

    @property
    def pid(self):
        return self.proc.pid

    def rss_bytes(self):
        return rss_bytes(self.proc.pid)

    def stop(self):
        stop_process(self.proc)
        self.err.close()


def stop_process(proc, grace=5):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    if proc in _children:
        _children.remove(proc)


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def start_wirelab(args, rate, extra=()):
    return Server("wirelab", [args.bin, "serve", "--host", "127.0.0.1", "--port", "0", "--rate", str(rate),
                              "--size", "64", *extra], args.work)


def start_cbroad(args, rate, threads=1):
    return Server("c_broadcaster", [os.path.join(args.work, "c_broadcaster"), "--port", "0",
                                    "--rate", str(rate), "--size", "64", "--threads", str(threads)], args.work)


def client_argv(args, port, mode, n=N, **opts):
    argv = [os.path.join(args.work, "ws_fanout_client"), "--port", str(port), "--mode", mode, "-n", str(n),
            "--inflight", str(INFLIGHT), "--connect-limit", "30"]
    for k, v in opts.items():
        argv += [f"--{k}", str(v)]
    return argv


def cpu_seconds(pid):
    """utime + stime of every thread of pid, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_fanout_client(args, srv):
    """The fan-out client, with the server's CPU time read when the window opens and closes."""
    p = subprocess.Popen(client_argv(args, srv.port, "fanout", duration=args.fanout_seconds),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _children.append(p)
    marks, ticks = {}, {}
    units = cpu_units(srv.pid)
    def watch():
        for raw in p.stderr:
            line = raw.decode(errors="replace")
            for key in ("open", "closed"):
                if f"window {key}" in line:
                    try:
                        marks[key] = (time.time(), cpu_seconds(srv.pid))
                        ticks[key] = cpu_ticks(units)
                    except OSError:
                        pass
    collected = []
    t = threading.Thread(target=watch, daemon=True)
    t.start()
    t2 = threading.Thread(target=lambda: collected.append(p.stdout.read()), daemon=True)
    t2.start()
    try:
        p.wait(timeout=args.fanout_seconds + 90)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        _children.remove(p)
    t.join(2)
    t2.join(2)
    out = collected[0] if collected else b""
    lines = [l for l in out.decode(errors="replace").splitlines() if l.startswith("{")]
    if p.returncode != 0 or not lines:
        raise RuntimeError(f"fan-out client failed (rc {p.returncode})")
    r = json.loads(lines[-1])
    if "open" in marks and "closed" in marks and r.get("copies"):
        cpu = marks["closed"][1] - marks["open"][1]
        wall = marks["closed"][0] - marks["open"][0]
        r["server_cpu_s"] = cpu
        r["server_cores_busy"] = cpu / wall
        r["server_cpu_us_per_copy"] = cpu * 1e6 / r["copies"]
    if "open" in ticks and "closed" in ticks:
        used = [ticks["closed"][k] - ticks["open"][k] for k in ticks["closed"] if k in ticks["open"]]
        total = sum(used)
        if total > 0:
            r["cpu_split"] = sorted((round(100 * u / total) for u in used if 100 * u / total >= 1), reverse=True)
    return r


def run_client(args, port, mode, n=N, timeout=90, **opts):
    p = subprocess.run(client_argv(args, port, mode, n, **opts), capture_output=True, timeout=timeout)
    lines = [l for l in p.stdout.decode(errors="replace").splitlines() if l.startswith("{")]
    if p.returncode != 0 or not lines:
        raise RuntimeError(f"client {mode} failed (rc {p.returncode}): {p.stderr.decode(errors='replace')[-400:]}")
    return json.loads(lines[-1])


def wait_port(port, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {port}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(port, path):
    """One GET; returns (status line, headers dict lowercased, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode(errors="replace").split("\r\n")
    headers = {}
    for l in lines[1:]:
        k, _, v = l.partition(":")
        headers[k.strip().lower()] = v.strip()
    return lines[0], headers, body


def median(xs):
    return statistics.median(xs) if xs else None


# ---------------------------------------------------------------- figures

def fig_handshakes(args, R):
    """4. 10,000 handshakes with 500 in flight: first connect() to last 101."""
    runs = {"wirelab": [], "c_broadcaster": []}
    for rep in range(args.reps):
        for name in ("wirelab", "c_broadcaster"):
            srv = start_wirelab(args, 0) if name == "wirelab" else start_cbroad(args, 0)
            try:
                r = run_client(args, srv.port, "handshake")
            finally:
                srv.stop()
            if r["connected"] != N:
                raise RuntimeError(f"{name}: only {r['connected']} of {N} handshakes completed")
            runs[name].append(r["connect_s"])
            log(f"handshakes rep {rep + 1} {name}: {r['connect_s']:.3f} s")
    w, c = median(runs["wirelab"]), median(runs["c_broadcaster"])
    ratio = median([a / b for a, b in zip(runs["wirelab"], runs["c_broadcaster"])])
    R["handshakes"] = {"n": N, "inflight": INFLIGHT, "wirelab_s": runs["wirelab"], "c_broadcaster_s": runs["c_broadcaster"],
                       "wirelab_median_s": w, "c_median_s": c, "ratio": ratio,
                       "wirelab_per_s": N / w, "c_per_s": N / c, "target_s": 1.0, "meets": w < 1.0}


FANOUT_TARGET = 1.05


# Two pairs with the same threads on both sides, like /poll's: wirelab `--loops 1` against the C
# loop with one thread, and the default (one loop per core) against the C broadcaster with one
# thread per core. On this machine the 10,000 clients share the server's cores, so a server that
# keeps both cores busy delays its own clients' reads: comparing two loops with one C thread
# would measure that, not the server.
FANOUT_PAIRS = [("wirelab_loops1", "c_broadcaster_1"), ("wirelab", "c_broadcaster_n")]


def fig_fanout(args, R):
    """1. 10,000 WebSockets, 10 events/s, 64 B: receipt − ts, side by side, alternating within each pair."""
    cores = os.cpu_count() or 1
    runs = {name: [] for pair in FANOUT_PAIRS for name in pair}
    for rep in range(args.fanout_reps):
        for pair in FANOUT_PAIRS:
            for name in (pair if rep % 2 == 0 else pair[::-1]):
                if name == "c_broadcaster_1":
                    srv = start_cbroad(args, 10, threads=1)
                elif name == "c_broadcaster_n":
                    srv = start_cbroad(args, 10, threads=cores)
                else:
                    srv = start_wirelab(args, 10, extra=("--loops", "1") if name == "wirelab_loops1" else ())
                try:
                    r = run_fanout_client(args, srv)
                    r["server_rss_bytes"] = srv.rss_bytes()
                finally:
                    srv.stop()
                if r["connected"] != N:
                    raise RuntimeError(f"{name}: only {r['connected']} of {N} WebSockets connected")
                runs[name].append(r)
                log(f"fan-out rep {rep + 1} {name}: p50 {r['p50_ms']:.1f} ms p99 {r['p99_ms']:.1f} ms "
                    f"max {r['max_ms']:.1f} ms, {r['events']} events, {r['missed']} copies missed, "
                    f"server CPU {r.get('server_cpu_us_per_copy', -1):.2f} µs/copy, "
                    f"split over threads {'/'.join(map(str, r.get('cpu_split', []))) or '?'} %")
    out = {"n": N, "rate": 10, "size": 64, "seconds": args.fanout_seconds, "reps": args.fanout_reps,
           "threads_n": cores, "runs": runs, "target_ratio": FANOUT_TARGET}
    keys = ("p50_ms", "p99_ms", "max_ms", "connect_s", "events", "missed", "dropped_connections",
            "server_cpu_us_per_copy", "server_cores_busy")
    for name in runs:
        out[name] = {k: median([r[k] for r in runs[name] if k in r]) for k in keys}
    # Ratio = median of the per-round ratios (each round runs both back to back, so a slow
    # drift in machine load cancels out of it).
    out["pairs"] = {}
    for w, c in FANOUT_PAIRS:
        pairs = list(zip(runs[w], runs[c]))
        q = {"ratio_p50": median([a["p50_ms"] / b["p50_ms"] for a, b in pairs]),
             "ratio_p99": median([a["p99_ms"] / b["p99_ms"] for a, b in pairs]),
             "round_ratios_p50": [a["p50_ms"] / b["p50_ms"] for a, b in pairs],
             "round_ratios_p99": [a["p99_ms"] / b["p99_ms"] for a, b in pairs]}
        cpu = [a["server_cpu_us_per_copy"] / b["server_cpu_us_per_copy"] for a, b in pairs
               if a.get("server_cpu_us_per_copy") and b.get("server_cpu_us_per_copy")]
        q["ratio_cpu_per_copy"] = median(cpu) if cpu else float("nan")
        q["meets"] = q["ratio_p99"] <= FANOUT_TARGET
        q["meets_p50"] = q["ratio_p50"] <= FANOUT_TARGET
        q["meets_cpu"] = bool(cpu) and q["ratio_cpu_per_copy"] <= FANOUT_TARGET
        out["pairs"][f"{w}_vs_{c}"] = q
    R["fanout"] = out


def fig_publish(args, R):
    """5. Scale: 10,000 WebSockets on an idle server; single POST /publish, receipt at all."""
    srv = start_wirelab(args, 0)
    try:
        base = srv.rss_bytes()
        r = run_client(args, srv.port, "publish", publishes=args.publishes, timeout=120)
        r["server_rss_bytes"] = srv.rss_bytes()
        r["server_rss_before_bytes"] = base
    finally:
        srv.stop()
    if r["connected"] != N:
        raise RuntimeError(f"only {r['connected']} of {N} WebSockets connected")
    log(f"publish: connect {r['connect_s']:.3f} s, p50 {r['p50_ms']:.1f} ms p99 {r['p99_ms']:.1f} ms, "
        f"{r['complete']}/{r['publishes']} complete, RSS {r['server_rss_bytes'] / 2**20:.1f} MiB")
    R["publish"] = r


def idle_memory(args, srv, mode):
    """Opens N idle connections of `mode`, returns (delta RSS / N, details)."""
    time.sleep(0.3)
    before = srv.rss_bytes()
    p = subprocess.Popen(client_argv(args, srv.port, mode, hold=60), stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _children.append(p)
    try:
        ready = {}
        line = [None]
        def reader():
            line[0] = p.stdout.readline().decode(errors="replace")
        t = threading.Thread(target=reader, daemon=True)
        t.start()
        t.join(45)
        if not line[0]:
            raise RuntimeError(f"idle client {mode} never became ready")
        ready = json.loads(line[0])
        if ready.get("connected") != N:
            raise RuntimeError(f"idle {mode}: only {ready.get('connected')} of {N} connected")
        # Let the server finish its bookkeeping, then take the larger of two readings.
        time.sleep(1.0)
        after = max(srv.rss_bytes(), (time.sleep(0.3), srv.rss_bytes())[1])
        rest, _ = p.communicate(input=b"done\n", timeout=30)
        final = json.loads([l for l in rest.decode().splitlines() if l.startswith("{")][-1])
        if final.get("still_open") != N:
            raise RuntimeError(f"idle {mode}: server closed {N - final.get('still_open', 0)} connections during the hold")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        if p in _children:
            _children.remove(p)
    return (after - before) / N, {"rss_before_bytes": before, "rss_after_bytes": after}


def fig_memory(args, R):
    """3. (RSS with N idle connections − RSS before) / N, a fresh server per kind."""
    out = {"n": N}
    for name in ("wirelab", "c_broadcaster"):
        for mode in ("idle-ws", "idle-http"):
            srv = start_wirelab(args, 0) if name == "wirelab" else start_cbroad(args, 0)
            try:
                per, detail = idle_memory(args, srv, mode)
            finally:
                srv.stop()
            detail["bytes_per_connection"] = per
            out[f"{name}_{mode}"] = detail
            log(f"memory {name} {mode}: {per:.0f} B per connection "
                f"({detail['rss_before_bytes'] / 2**20:.1f} -> {detail['rss_after_bytes'] / 2**20:.1f} MiB)")
    for mode in ("idle-ws", "idle-http"):
        w = out[f"wirelab_{mode}"]["bytes_per_connection"]
        out[f"{mode}_meets"] = w <= 1024
    out["target_bytes"] = 1024
    R["memory"] = out


def wrk_rps(port, seconds):
    p = subprocess.run(["wrk", "-t1", "-c50", f"-d{seconds}s", f"http://127.0.0.1:{port}/poll"],
                       capture_output=True, timeout=seconds + 30)
    text = p.stdout.decode(errors="replace")
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if p.returncode != 0 or not m:
        raise RuntimeError(f"wrk failed: {text[-300:]} {p.stderr.decode(errors='replace')[-300:]}")
    errors = 0
    m2 = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    if m2:
        errors += int(m2.group(1))
    m3 = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m3:
        errors += sum(int(x) for x in m3.groups())
    return float(m.group(1)), errors


def start_nginx(args, workers="1"):
    d = os.path.abspath(os.path.join(args.work, f"nginx-{workers}"))
    os.makedirs(os.path.join(d, "nginx-tmp"), exist_ok=True)
    port = free_port()
    with open(os.path.join(HERE, "nginx.conf.in")) as f:
        conf = f.read().replace("@DIR@", d).replace("@PORT@", str(port)).replace("@WORKERS@", workers)
    path = os.path.join(d, "nginx.conf")
    with open(path, "w") as f:
        f.write(conf)
    err = open(os.path.join(d, "nginx.stderr.log"), "ab")
    proc = subprocess.Popen([nginx_path(), "-p", d, "-c", path, "-e", os.path.join(d, "nginx-error.log")],
                            stdout=err, stderr=err, stdin=subprocess.DEVNULL)
    _children.append(proc)
    try:
        wait_port(port)
    except RuntimeError:
        stop_process(proc)
        raise RuntimeError(f"nginx did not start; see {d}/nginx-error.log")
    return proc, port


POLL_TARGET = 1.0
# Each pair runs back to back in every round (who goes first alternates): wirelab with one loop
# against nginx with one worker, and the default (one loop per core) against nginx with
# `worker_processes auto` (one worker per core): the same cores on both sides.
POLL_PAIRS = [("wirelab_loops1", "nginx_1"), ("wirelab", "nginx_auto")]


def cpu_units(pid):
    """The units a server's work can be split over: the worker processes of a master (nginx),
    or else the threads of one process (wirelab's loops). {name: /proc stat path}."""
    kids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        kids.append(d)
            except (OSError, IndexError, ValueError):
                pass
    if kids:
        return {k: f"/proc/{k}/stat" for k in kids}
    return {t: f"/proc/{pid}/task/{t}/stat" for t in os.listdir(f"/proc/{pid}/task")}


def cpu_ticks(paths):
    out = {}
    for name, path in paths.items():
        try:
            with open(path) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            out[name] = int(fields[11]) + int(fields[12])     # utime + stime
        except (OSError, IndexError, ValueError):
            pass
    return out


def cpu_split(pid, port, seconds=3):
    """How the CPU a server used during one wrk run is spread over its workers or loop threads,
    in percent, busiest first (units under 1 % left out). nginx `auto` and wirelab's loops
    each share one listening socket (EPOLLEXCLUSIVE: a new connection wakes one idle worker or
    loop), so wrk's 50 connections can all land on one of them."""
    units = cpu_units(pid)
    before = cpu_ticks(units)
    wrk_rps(port, seconds)
    after = cpu_ticks(units)
    used = {k: after[k] - before[k] for k in after if k in before}
    total = sum(used.values())
    if total <= 0:
        return []
    return sorted((round(100 * v / total) for v in used.values() if 100 * v / total >= 1), reverse=True)


def fig_poll(args, R):
    """2. /poll keep-alive throughput, wrk -t1 -c50, alternating wirelab / nginx per pair."""
    ports, procs, nginx_procs = {}, [], {}
    try:
        srv = start_wirelab(args, 0)
        procs.append(srv)
        ports["wirelab"] = srv.port
        srv1 = start_wirelab(args, 0, extra=("--loops", "1"))
        procs.append(srv1)
        ports["wirelab_loops1"] = srv1.port
        for workers, name in (("1", "nginx_1"), ("auto", "nginx_auto")):
            ngx, nport = start_nginx(args, workers)
            procs.append(ngx)
            nginx_procs[name] = ngx
            ports[name] = nport
        # Same body and the headers that matter, or the comparison means nothing.
        sw, hw, bw = http_get(ports["wirelab"], "/poll")
        for name in ("nginx_1", "nginx_auto", "wirelab_loops1"):
            sn, hn, bn = http_get(ports[name], "/poll")
            if bw != bn or hw.get("content-type") != hn.get("content-type") or hw.get("cache-control") != hn.get("cache-control"):
                raise RuntimeError(f"bodies differ: wirelab {sw} {hw} {bw!r} / {name} {sn} {hn} {bn!r}")
        log(f"/poll body {bw.decode()}: wirelab and nginx agree")
        for port in ports.values():
            wrk_rps(port, 1)   # warm-up
        runs = {name: [] for name in ports}
        errors = 0
        for rep in range(args.poll_reps):
            for pair in POLL_PAIRS:
                order = pair if rep % 2 == 0 else pair[::-1]
                for name in order:
                    rps, err = wrk_rps(ports[name], args.wrk_seconds)
                    errors += err
                    runs[name].append(rps)
                    log(f"/poll rep {rep + 1} {name}: {rps:,.0f} req/s" + (f" ({err} errors)" if err else ""))
        w_rss = srv.rss_bytes()
        split = {"wirelab": cpu_split(srv.pid, ports["wirelab"]),
                 "nginx_auto": cpu_split(nginx_procs["nginx_auto"].pid, ports["nginx_auto"])}
        log(f"/poll CPU split over workers: wirelab default {split['wirelab']} %, nginx auto {split['nginx_auto']} %")
    finally:
        for p in procs:
            if isinstance(p, Server):
                p.stop()
            else:
                stop_process(p)
    out = {"wrk": f"-t1 -c50 -d{args.wrk_seconds}s", "runs": runs, "errors": errors, "target_ratio": POLL_TARGET,
           "wirelab_rss_after_bytes": w_rss, "cpu_split_percent": split}
    for name in runs:
        out[f"{name}_rps"] = median(runs[name])
    for w, n in POLL_PAIRS:
        ratio = median([a / b for a, b in zip(runs[w], runs[n])])
        out[f"ratio_{w}_vs_{n}"] = ratio
        out[f"meets_{w}_vs_{n}"] = ratio >= POLL_TARGET
    # the old figure, for comparison with earlier runs: the default against one nginx worker
    out["ratio_wirelab_vs_nginx_1"] = median([a / b for a, b in zip(runs["wirelab"], runs["nginx_1"])])
    R["poll"] = out


# ---------------------------------------------------------------- report

def verdict(ok):
    return "meets target" if ok else "MISSES target"


def report(R, errors):
    rows = []
    f = R.get("fanout")
    if f:
        t = f"≤ {FANOUT_TARGET}"
        for w_name, c_name in FANOUT_PAIRS:
            w, c, q = f[w_name], f[c_name], f["pairs"][f"{w_name}_vs_{c_name}"]
            label = ("ws fan-out 10k clients, 10 ev/s, 64 B: --loops 1 vs 1 C thread" if w_name == "wirelab_loops1"
                     else f"  default loops vs {f['threads_n']} C threads")
            rows.append((label + ": p99", f"{w['p99_ms']:.1f} ms", f"C {c['p99_ms']:.1f} ms",
                         f"{q['ratio_p99']:.2f}", t, verdict(q["meets"])))
            rows.append(("    p50", f"{w['p50_ms']:.1f} ms", f"C {c['p50_ms']:.1f} ms", f"{q['ratio_p50']:.2f}", t,
                         verdict(q["meets_p50"])))
            rows.append(("    server CPU per delivered copy", f"{w['server_cpu_us_per_copy']:.2f} µs",
                         f"{c['server_cpu_us_per_copy']:.2f} µs", f"{q['ratio_cpu_per_copy']:.2f}", t,
                         verdict(q["meets_cpu"])))
            rows.append(("    max; events / copies missed", f"{w['max_ms']:.1f} ms; {w['events']:.0f} / {w['missed']:.0f}",
                         f"{c['max_ms']:.1f} ms; {c['events']:.0f} / {c['missed']:.0f}", "", "0 missed",
                         verdict(w["missed"] == 0)))
            rows.append(("    per-round p50 / p99 ratios", " ".join(f"{x:.2f}" for x in q["round_ratios_p50"]) + " / " +
                         " ".join(f"{x:.2f}" for x in q["round_ratios_p99"]), "", "", "", "(info)"))
            if w_name != "wirelab_loops1":
                def split(name):
                    s = [r.get("cpu_split") for r in f["runs"][name] if r.get("cpu_split")]
                    return " ".join("/".join(map(str, x)) for x in s) + " %" if s else "?"
                rows.append(("    CPU split over threads, per round", split(w_name), "C " + split(c_name), "", "", "(info)"))
    p = R.get("poll")
    if p:
        t = f"≥ {POLL_TARGET}"
        rows.append(("/poll req/s (wrk -t1 -c50): --loops 1 vs 1 worker", f"{p['wirelab_loops1_rps']:,.0f}",
                     f"nginx {p['nginx_1_rps']:,.0f}", f"{p['ratio_wirelab_loops1_vs_nginx_1']:.2f}", t,
                     verdict(p["meets_wirelab_loops1_vs_nginx_1"])))
        rows.append(("  default loops vs worker_processes auto", f"{p['wirelab_rps']:,.0f}",
                     f"nginx {p['nginx_auto_rps']:,.0f}", f"{p['ratio_wirelab_vs_nginx_auto']:.2f}", t,
                     verdict(p["meets_wirelab_vs_nginx_auto"])))
        rows.append(("  default loops vs 1 worker", f"{p['wirelab_rps']:,.0f}", f"nginx {p['nginx_1_rps']:,.0f}",
                     f"{p['ratio_wirelab_vs_nginx_1']:.2f}", "", "(info)"))
        sp = p.get("cpu_split_percent")
        if sp:
            show = lambda xs: "/".join(str(x) for x in xs) + " %"
            rows.append(("  CPU split over loops / workers", show(sp["wirelab"]), "nginx " + show(sp["nginx_auto"]),
                         "", "", "(info)"))
    m = R.get("memory")
    if m:
        for mode, label in (("idle-ws", "RSS per idle WebSocket"), ("idle-http", "RSS per idle keep-alive HTTP conn")):
            w = m[f"wirelab_{mode}"]["bytes_per_connection"]
            c = m[f"c_broadcaster_{mode}"]["bytes_per_connection"]
            ratio = f"{w / c:.1f}" if c >= 16 else "n/a"
            rows.append((label, f"{w:,.0f} B", f"C {c:,.0f} B", ratio, "≤ 1024 B", verdict(m[f"{mode}_meets"])))
    h = R.get("handshakes")
    if h:
        rows.append(("10k WebSocket handshakes (500 in flight)", f"{h['wirelab_median_s']:.3f} s ({h['wirelab_per_s']:,.0f}/s)",
                     f"C {h['c_median_s']:.3f} s ({h['c_per_s']:,.0f}/s)", f"{h['ratio']:.2f}", "< 1 s", verdict(h["meets"])))
    u = R.get("publish")
    if u:
        rows.append(("scale: connect 10k WebSockets", f"{u['connect_s']:.3f} s", "", "", "", "(info)"))
        rows.append(("scale: one POST /publish -> 10k, p50 / p99", f"{u['p50_ms']:.1f} / {u['p99_ms']:.1f} ms",
                     "", "", "", f"(info; {u['complete']}/{u['publishes']} reached all)"))
        rows.append(("scale: server RSS with 10k WebSockets", f"{u['server_rss_bytes'] / 2**20:.1f} MiB",
                     "", "", "", f"(info; {u['server_rss_before_bytes'] / 2**20:.1f} MiB before)"))
    rows += http2_perf.report_rows(R, verdict)
    head = ("figure", "wirelab", "reference", "ratio", "target", "verdict")
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(6)]
    def fmt(r):
        return "  ".join(r[i].ljust(widths[i]) for i in range(6)).rstrip()
    print()
    print("WireLab performance vs reference implementations (ratio = wirelab / reference)")
    print(f"machine: {os.cpu_count()} cores, load average at start {R['env']['loadavg_start']}, "
          f"kernel {platform.release()}; ratio = median of per-round ratios (rounds alternate who goes first)")
    print(fmt(head))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print(fmt(r))
    for e in errors:
        print(f"ERROR {e}")
    print()
    # The same, as sentences (easy to paste into an issue).
    if f:
        for w_name, c_name in FANOUT_PAIRS:
            q = f["pairs"][f"{w_name}_vs_{c_name}"]
            who = ("wirelab --loops 1 / C broadcaster, 1 thread" if w_name == "wirelab_loops1"
                   else f"wirelab default / C broadcaster, {f['threads_n']} threads")
            print(f"ws fan-out to 10k clients, median of {f['reps']} alternating rounds, {who}: "
                  f"p50 {q['ratio_p50']:.2f}, p99 {q['ratio_p99']:.2f}, server CPU per copy "
                  f"{q['ratio_cpu_per_copy']:.2f} (target ≤ {FANOUT_TARGET} each): "
                  f"{verdict(q['meets'] and q['meets_p50'] and q['meets_cpu'])}")
    if p:
        print(f"/poll throughput (wrk -t1 -c50): wirelab --loops 1 {p['wirelab_loops1_rps']:,.0f} req/s vs nginx 1 worker "
              f"{p['nginx_1_rps']:,.0f}: {p['ratio_wirelab_loops1_vs_nginx_1']:.2f}; wirelab default {p['wirelab_rps']:,.0f} "
              f"vs nginx worker_processes auto {p['nginx_auto_rps']:,.0f}: {p['ratio_wirelab_vs_nginx_auto']:.2f} "
              f"(target ≥ {POLL_TARGET} each): "
              f"{verdict(p['meets_wirelab_loops1_vs_nginx_1'] and p['meets_wirelab_vs_nginx_auto'])}")
    if m:
        print(f"memory per idle connection: WebSocket {m['wirelab_idle-ws']['bytes_per_connection']:,.0f} B, "
              f"HTTP keep-alive {m['wirelab_idle-http']['bytes_per_connection']:,.0f} B (target ≤ 1024 B): "
              f"{verdict(m['idle-ws_meets'] and m['idle-http_meets'])}")
    if h:
        print(f"10k handshakes: wirelab {h['wirelab_median_s']:.3f} s, C {h['c_median_s']:.3f} s, ratio {h['ratio']:.2f} "
              f"(target < 1 s): {verdict(h['meets'])}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=".build/release/wirelab")
    ap.add_argument("--work", default=".build/bench", help="C binaries, logs, nginx config, perf.json")
    ap.add_argument("--reps", type=int, default=3, help="alternating repetitions per figure (median)")
    ap.add_argument("--poll-reps", type=int, default=7,
                    help="rounds of the /poll figure: each wrk run's connections split afresh over the "
                         "default servers' loops and workers, and one round's ratio moves by ±10 %% with it")
    ap.add_argument("--fanout-seconds", type=float, default=10)
    ap.add_argument("--fanout-reps", type=int, default=3, help="fan-out rounds (each: wirelab and C back to back)")
    ap.add_argument("--wrk-seconds", type=int, default=10)
    ap.add_argument("--publishes", type=int, default=5)
    ap.add_argument("--only", default="handshakes,fanout,publish,memory,poll,h2poll,h2memory")
    args = ap.parse_args()
    args.reps = max(1, min(args.reps, 9))
    args.poll_reps = max(1, min(args.poll_reps, 15))
    args.fanout_seconds = max(1, min(args.fanout_seconds, 60))
    args.fanout_reps = max(1, min(args.fanout_reps, 9))
    args.wrk_seconds = max(1, min(args.wrk_seconds, 60))
    args.publishes = max(1, min(args.publishes, 50))
    for exe in (args.bin, os.path.join(args.work, "ws_fanout_client"), os.path.join(args.work, "c_broadcaster")):
        if not os.access(exe, os.X_OK):
            sys.exit(f"bench-perf: {exe} missing (run `make bench-perf`)")
    ensure_tools()
    os.makedirs(args.work, exist_ok=True)
    R = {"env": {"cores": os.cpu_count(), "loadavg_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
                 "kernel": platform.release(), "reps": args.reps, "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}}
    if os.getloadavg()[0] > 1.0:
        log(f"note: load average {os.getloadavg()[0]:.2f}: other work is running, figures will be noisy")
    figures = {"handshakes": fig_handshakes, "fanout": fig_fanout, "publish": fig_publish,
               "memory": fig_memory, "poll": fig_poll,
               "h2poll": lambda a, r: http2_perf.fig_h2_poll(a, r, sys.modules[__name__]),
               "h2memory": lambda a, r: http2_perf.fig_h2_memory(a, r, sys.modules[__name__])}
    errors = []
    t0 = time.time()
    try:
        for name in args.only.split(","):
            log(f"figure: {name}")
            try:
                figures[name](args, R)
            except Exception as e:   # one broken figure should not hide the others
                errors.append(f"{name}: {e}")
                log(f"ERROR in {name}: {e}")
    finally:
        for p in list(_children):
            stop_process(p)
    R["env"]["seconds"] = round(time.time() - t0, 1)
    R["errors"] = errors
    with open(os.path.join(args.work, "perf.json"), "w") as f:
        json.dump(R, f, indent=2)
    report(R, errors)
    print(f"(numbers in {os.path.join(args.work, 'perf.json')}; {R['env']['seconds']:.0f} s)")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
