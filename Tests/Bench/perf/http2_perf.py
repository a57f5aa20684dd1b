"""HTTP/2 (h2c) figures for `make bench-perf` (run_perf.py calls them; see Tests/Bench/perf/README.md).

  h2poll:   GET /poll over h2c, `h2load -c50 -m10` for a fixed time, wirelab (one loop per core)
            vs nginx (`worker_processes auto`, `listen ... http2;` without TLS: h2c with prior
            knowledge) returning the same JSON; alternating rounds, ratio of medians (target >= 0.8x).
  h2memory: RSS per idle HTTP/2 connection: N connections that each did one /poll (so the HPACK
            tables hold something) and then stay open; (RSS after - RSS before) / N (target <= 4 KB).

Standalone: python3 Tests/Bench/perf/http2_perf.py --bin .build/release/wirelab
Every load is bounded in count and time; all traffic goes to 127.0.0.1.
"""
import argparse
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "Interop"))

H2POLL_TARGET = 0.8
H2MEMORY_TARGET = 4096
IDLE_N = 2000


def h2load_rps(port, seconds):
    """(req/s, failed + errored) of `h2load -c50 -m10` for `seconds` against /poll."""
    p = subprocess.run(["h2load", "-c50", "-m10", "-D", str(seconds), f"http://127.0.0.1:{port}/poll"],
                       capture_output=True, timeout=seconds + 60)
    text = p.stdout.decode(errors="replace")
    m = re.search(r"finished in [\d.]+\w*, ([\d.]+) req/s", text)
    m2 = re.search(r"requests: \d+ total, \d+ started, \d+ done, \d+ succeeded, (\d+) failed, (\d+) errored", text)
    if p.returncode != 0 or not m or not m2:
        raise RuntimeError(f"h2load failed: {text[-400:]} {p.stderr.decode(errors='replace')[-300:]}")
    return float(m.group(1)), int(m2.group(1)) + int(m2.group(2))


def start_nginx_h2(rp, args):
    """nginx from the same template as the HTTP/1.1 figure, listening for h2c."""
    d = os.path.abspath(os.path.join(args.work, "nginx-h2"))
    os.makedirs(os.path.join(d, "nginx-tmp"), exist_ok=True)
    port = rp.free_port()
    with open(os.path.join(HERE, "nginx.conf.in")) as f:
        conf = f.read().replace("@DIR@", d).replace("@PORT@", str(port)).replace("@WORKERS@", "auto")
    # nginx 1.22: `http2` on a listen without `ssl` is HTTP/2 with prior knowledge only.
    conf = conf.replace(f"listen 127.0.0.1:{port};", f"listen 127.0.0.1:{port} http2;")
    path = os.path.join(d, "nginx.conf")
    with open(path, "w") as f:
        f.write(conf)
    err = open(os.path.join(d, "nginx.stderr.log"), "ab")
    proc = subprocess.Popen([rp.nginx_path(), "-p", d, "-c", path, "-e", os.path.join(d, "nginx-error.log")],
                            stdout=err, stderr=err, stdin=subprocess.DEVNULL)
    rp._children.append(proc)
    try:
        rp.wait_port(port)
    except RuntimeError:
        rp.stop_process(proc)
        raise RuntimeError(f"nginx (h2c) did not start; see {d}/nginx-error.log")
    return proc, port


def h2_get(port, path):
    """One GET over h2c with the interop tests' raw client: (status, headers, body)."""
    from h2_raw import H2Raw, request_fields
    c = H2Raw(port)
    try:
        c.headers(1, request_fields(path))
        return c.response(1)
    finally:
        c.close()


def fig_h2_poll(args, R, rp):
    if not shutil.which("h2load"):
        raise RuntimeError("h2load missing (Debian nghttp2-client; Tests/Interop/install-deps.sh installs it)")
    procs = []
    try:
        srv = rp.start_wirelab(args, 0)
        procs.append(srv)
        ngx, nport = start_nginx_h2(rp, args)
        procs.append(ngx)
        ports = {"wirelab": srv.port, "nginx": nport}
        sw, hw, bw = h2_get(srv.port, "/poll")
        sn, hn, bn = h2_get(nport, "/poll")
        if (sw, bw, hw.get("content-type"), hw.get("cache-control")) != (sn, bn, hn.get("content-type"), hn.get("cache-control")):
            raise RuntimeError(f"h2c answers differ: wirelab {sw} {hw} {bw!r} / nginx {sn} {hn} {bn!r}")
        rp.log(f"h2c /poll body {bw.decode()}: wirelab and nginx agree")
        for port in ports.values():
            h2load_rps(port, 1)   # warm-up
        runs = {name: [] for name in ports}
        errors = 0
        for rep in range(args.reps):
            order = ("wirelab", "nginx") if rep % 2 == 0 else ("nginx", "wirelab")
            for name in order:
                rps, err = h2load_rps(ports[name], args.wrk_seconds)
                errors += err
                runs[name].append(rps)
                rp.log(f"h2c /poll rep {rep + 1} {name}: {rps:,.0f} req/s" + (f" ({err} errors)" if err else ""))
    finally:
        for p in procs:
            if isinstance(p, rp.Server):
                p.stop()
            else:
                rp.stop_process(p)
    ratio = rp.median([a / b for a, b in zip(runs["wirelab"], runs["nginx"])])
    R["h2poll"] = {"h2load": f"-c50 -m10 -D {args.wrk_seconds}", "runs": runs, "errors": errors,
                   "wirelab_rps": rp.median(runs["wirelab"]), "nginx_rps": rp.median(runs["nginx"]),
                   "ratio": ratio, "target_ratio": H2POLL_TARGET, "meets": ratio >= H2POLL_TARGET}


def open_idle_h2(port, n):
    """n HTTP/2 connections, each after one /poll stream; returns the sockets (kept open)."""
    from h2_raw import PREFACE, settings, frame, HEADERS, END_HEADERS, END_STREAM
    import hpack
    block = hpack.Encoder().encode([(":method", "GET"), (":scheme", "http"), (":path", "/poll"),
                                    (":authority", "127.0.0.1"), ("user-agent", "wirelab-bench")])
    hello = PREFACE + settings() + frame(HEADERS, END_HEADERS | END_STREAM, 1, block)
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(hello)
        socks.append(s)
    for s in socks:   # SETTINGS, WINDOW_UPDATE, the answer: read what came, then ACK their SETTINGS
        data = b""
        end = time.time() + 10
        while b"missed" not in data and time.time() < end:
            chunk = s.recv(65536)
            if not chunk:
                raise RuntimeError("server closed an idle HTTP/2 connection")
            data += chunk
        s.sendall(settings(ack=True))
    return socks


def fig_h2_memory(args, R, rp):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < IDLE_N + 100:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, IDLE_N + 1000), hard))
    srv = rp.start_wirelab(args, 0)
    socks = []
    try:
        open_idle_h2(srv.port, 50)   # warm-up: the loops' buffers and tables exist before measuring
        time.sleep(0.3)
        before = srv.rss_bytes()
        socks = open_idle_h2(srv.port, IDLE_N)
        time.sleep(1.0)
        after = max(srv.rss_bytes(), (time.sleep(0.3), srv.rss_bytes())[1])
        per = (after - before) / IDLE_N
    finally:
        for s in socks:
            s.close()
        srv.stop()
    rp.log(f"memory per idle HTTP/2 connection: {per:.0f} B ({before / 2**20:.1f} -> {after / 2**20:.1f} MiB, {IDLE_N} connections)")
    R["h2memory"] = {"n": IDLE_N, "bytes_per_connection": per, "rss_before_bytes": before, "rss_after_bytes": after,
                     "target_bytes": H2MEMORY_TARGET, "meets": per <= H2MEMORY_TARGET}


def report_rows(R, verdict):
    rows = []
    p = R.get("h2poll")
    if p:
        rows.append(("h2c /poll req/s (h2load -c50 -m10)", f"{p['wirelab_rps']:,.0f}", f"nginx {p['nginx_rps']:,.0f}",
                     f"{p['ratio']:.2f}", f"≥ {H2POLL_TARGET}", verdict(p["meets"])))
    m = R.get("h2memory")
    if m:
        rows.append(("RSS per idle HTTP/2 connection", f"{m['bytes_per_connection']:,.0f} B", "", "",
                     f"≤ {H2MEMORY_TARGET} B", verdict(m["meets"])))
    return rows


def main():
    sys.path.insert(0, HERE)
    import run_perf as rp
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=".build/release/wirelab")
    ap.add_argument("--work", default=".build/bench")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--wrk-seconds", type=int, default=10)
    ap.add_argument("--only", default="h2poll,h2memory")
    args = ap.parse_args()
    args.reps = max(1, min(args.reps, 9))
    args.wrk_seconds = max(1, min(args.wrk_seconds, 60))
    os.makedirs(args.work, exist_ok=True)
    R = {}
    try:
        for name in args.only.split(","):
            {"h2poll": fig_h2_poll, "h2memory": fig_h2_memory}[name](args, R, rp)
    finally:
        for p in list(rp._children):
            rp.stop_process(p)
    for row in report_rows(R, rp.verdict):
        print("  ".join(row))


if __name__ == "__main__":
    main()
