#!/usr/bin/env python3
"""User-space instructions per unit of work, counted by valgrind's callgrind: figures that do not
move with the machine's load (Tests/Bench/perf/README.md, "Instruction counts").

  poll    instructions per `GET /poll` under `wrk -t1 -c50`: `wirelab serve --loops 1 --rate 0`
          (collected inside the loop thread's `EventLoop.run`, everything from epoll_wait to
          write) and nginx with one worker, `master_process off` (collected inside
          `ngx_process_events_and_timers`, the same span of its loop).
  fanout  instructions per delivered WebSocket copy inside `Worker.broadcast` (Connection,
          Conversation, Socket.write), `--loops 1 --rate 10 --size 64`, N WebSocket clients;
          copies counted by the server's own /stats.
  sweep   instructions per housekeeping sweep (`Worker.housekeeping`: timeouts and heartbeats,
          PROTOCOL.md §9) with N idle WebSockets and --rate 0, and per connection swept.
  cpu     (not by default, not under valgrind) server CPU seconds per `GET /poll` from /proc,
          wirelab --loops 1 vs nginx one worker, 3 alternating rounds.

Run from the package root after `swift build -c release` and `make bench-perf`'s C programs:
    python3 Tests/Bench/perf/callgrind_perf.py [--only poll,fanout,sweep] [--clients N]
Counts are of the server process's user-space instructions only (system calls are not
instructions callgrind sees); every load is bounded in time; all traffic goes to 127.0.0.1.
"""
import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from run_perf import free_port, wait_port, nginx_path, http_get  # noqa: E402

# Swift symbols as valgrind sees them (--demangle=no): the loop's run(), the broadcast, the sweep.
SYM_RUN = "$s8WireLoop05EventB0C3runyyF"
SYM_BROADCAST = "$s10WireServer6WorkerC9broadcastyyAA14PublishedEventCF"
SYM_SWEEP = "$s10WireServer6WorkerC12housekeeping*"
SYM_NGINX = "ngx_process_events_and_timers"


def log(msg):
    print(f"[callgrind {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def valgrind(out, toggle, argv):
    return ["valgrind", "--tool=callgrind", "--demangle=no", f"--callgrind-out-file={out}",
            f"--toggle-collect={toggle}", *argv]


def start(argv, port, log_path, timeout=60):
    f = open(log_path, "wb")
    p = subprocess.Popen(argv, stdout=f, stderr=f, stdin=subprocess.DEVNULL)
    try:
        wait_port(port, timeout)
    except RuntimeError:
        p.kill()
        raise
    return p


def stop(p, sig=signal.SIGINT):
    """A clean exit (SIGINT for wirelab, SIGTERM for nginx), so callgrind writes its counts."""
    p.send_signal(sig)
    try:
        p.wait(60)
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGTERM)
        p.wait(30)


def totals(path):
    """Total Ir and the number of calls into functions matching `calls_of` (regex), if given."""
    with open(path) as f:
        for line in f:
            if line.startswith("summary:") or line.startswith("totals:"):
                return int(line.split()[1])
    raise RuntimeError(f"no totals in {path}")


def calls_to(path, pattern):
    """Sum of `calls=` lines whose callee's name matches `pattern` (a regex)."""
    names, n, callee = {}, 0, None
    rx = re.compile(pattern)
    with open(path) as f:
        for line in f:
            if line.startswith("cfn="):
                m = re.match(r"cfn=\((\d+)\)(?: (.*))?", line.strip())
                if m:
                    if m.group(2):
                        names[m.group(1)] = m.group(2)
                    callee = names.get(m.group(1), "")
                continue
            if line.startswith("fn="):
                m = re.match(r"fn=\((\d+)\)(?: (.*))?", line.strip())
                if m and m.group(2):
                    names[m.group(1)] = m.group(2)
                continue
            if line.startswith("calls=") and callee is not None and rx.search(callee):
                n += int(line.split("=")[1].split()[0])
    return n


def wrk_requests(port, seconds):
    p = subprocess.run(["wrk", "-t1", "-c50", f"-d{seconds}s", f"http://127.0.0.1:{port}/poll"],
                       capture_output=True, timeout=seconds + 60)
    text = p.stdout.decode(errors="replace")
    m = re.search(r"(\d+) requests in", text)
    if p.returncode != 0 or not m or "Non-2xx" in text:
        raise RuntimeError(f"wrk failed: {text[-400:]}")
    return int(m.group(1))


def start_wirelab(args, name, toggle, *flags):
    """`wirelab serve --loops 1 FLAGS` under callgrind, counting inside `toggle` only: (port,
    callgrind output file, process)."""
    port = free_port()
    out = os.path.join(os.path.abspath(args.work), name)
    p = start(valgrind(out, toggle, [args.bin, "serve", "--host", "127.0.0.1", "--port", str(port),
                                     *flags, "--loops", "1"]), port, out + ".log")
    return port, out, p


def fig_poll(args, R):
    work = os.path.abspath(args.work)
    # wirelab, one loop, no generator
    port, out, p = start_wirelab(args, "callgrind.poll.wirelab", SYM_RUN, "--rate", "0")
    try:
        http_get(port, "/poll")
        n = wrk_requests(port, args.seconds)
    finally:
        stop(p)
    w = totals(out) / n
    log(f"wirelab: {n} requests, {w:,.0f} instructions per request")
    # nginx, one worker, no master (so the worker is the process callgrind follows)
    d = os.path.join(work, "nginx-callgrind")
    os.makedirs(os.path.join(d, "nginx-tmp"), exist_ok=True)
    nport = free_port()
    with open(os.path.join(HERE, "nginx.conf.in")) as f:
        conf = f.read().replace("@DIR@", d).replace("@PORT@", str(nport)).replace("@WORKERS@", "1")
    conf = conf.replace("master_process on;", "master_process off;")
    with open(os.path.join(d, "nginx.conf"), "w") as f:
        f.write(conf)
    out = os.path.join(work, "callgrind.poll.nginx")
    p = start(valgrind(out, SYM_NGINX, [nginx_path(), "-p", d, "-c", os.path.join(d, "nginx.conf"),
                                        "-e", os.path.join(d, "nginx-error.log")]), nport, out + ".log")
    try:
        http_get(nport, "/poll")
        n2 = wrk_requests(nport, args.seconds)
    finally:
        stop(p, signal.SIGTERM)
    g = totals(out) / n2
    log(f"nginx: {n2} requests, {g:,.0f} instructions per request")
    R["poll"] = {"wirelab_instructions_per_request": round(w), "nginx_instructions_per_request": round(g),
                 "ratio": round(w / g, 2), "wrk": f"-t1 -c50 -d{args.seconds}s"}


def stats_ws_events(port):
    _, _, body = http_get(port, "/stats")
    s = json.loads(body)
    return s["transports"]["ws"]["events_sent"]


def fig_fanout(args, R):
    port, out, p = start_wirelab(args, "callgrind.fanout", SYM_BROADCAST, "--rate", "10", "--size", "64")
    try:
        c = subprocess.run([os.path.join(args.work, "ws_fanout_client"), "--port", str(port), "--mode",
                            "fanout", "-n", str(args.clients), "--inflight", "100", "--connect-limit", "120",
                            "--duration", str(args.seconds)], capture_output=True, timeout=args.seconds + 240)
        copies = stats_ws_events(port)
    finally:
        stop(p)
    ir = totals(out)
    broadcasts = calls_to(out, re.escape(SYM_BROADCAST) + "$")
    per = ir / copies
    log(f"fan-out: {copies} copies in {broadcasts} broadcasts, {per:,.0f} instructions per copy")
    R["fanout"] = {"clients": args.clients, "copies": copies, "broadcasts": broadcasts,
                   "instructions_per_copy": round(per)}


def fig_sweep(args, R):
    port, out, p = start_wirelab(args, "callgrind.sweep", SYM_SWEEP, "--rate", "0")
    try:
        c = subprocess.Popen([os.path.join(args.work, "ws_fanout_client"), "--port", str(port), "--mode",
                              "idle-ws", "-n", str(args.clients), "--inflight", "100", "--connect-limit", "120",
                              "--hold", str(args.seconds + 200)],
                             stdout=subprocess.PIPE, stdin=subprocess.PIPE, stderr=subprocess.DEVNULL)
        line = c.stdout.readline()           # {"ready":...} once all are open
        ready = json.loads(line) if line.startswith(b"{") else {}
        time.sleep(args.seconds)
        c.stdin.close()
        c.wait(60)
    finally:
        stop(p)
    ir = totals(out)
    sweeps = max(1, calls_to(out, re.escape(SYM_SWEEP.rstrip("*"))))
    per = ir / sweeps
    log(f"sweep: {sweeps} sweeps, {per:,.0f} instructions per sweep with {args.clients} WebSockets "
        f"({per / args.clients:,.1f} per connection); client: {ready}")
    R["sweep"] = {"clients": args.clients, "sweeps": sweeps, "instructions_per_sweep": round(per),
                  "instructions_per_connection": round(per / args.clients, 1)}


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def fig_cpu(args, R):
    """Not under valgrind: server CPU time (user + system, /proc) per `GET /poll`, wirelab
    `--loops 1` and nginx with one worker, 3 alternating rounds of wrk -t1 -c50 (system time
    included, so it moves a little with the machine; the ratio per round is what to read)."""
    work = os.path.abspath(args.work)
    port = free_port()
    w = start([args.bin, "serve", "--host", "127.0.0.1", "--port", str(port), "--rate", "0", "--loops", "1"],
              port, os.path.join(work, "cpu.wirelab.log"))
    d = os.path.join(work, "nginx-cpu")
    os.makedirs(os.path.join(d, "nginx-tmp"), exist_ok=True)
    nport = free_port()
    with open(os.path.join(HERE, "nginx.conf.in")) as f:
        conf = f.read().replace("@DIR@", d).replace("@PORT@", str(nport)).replace("@WORKERS@", "1")
    with open(os.path.join(d, "nginx.conf"), "w") as f:
        f.write(conf.replace("master_process on;", "master_process off;"))
    n = start([nginx_path(), "-p", d, "-c", os.path.join(d, "nginx.conf"), "-e", os.path.join(d, "nginx-error.log")],
              nport, os.path.join(work, "cpu.nginx.log"))
    rounds = []
    try:
        for p in (port, nport):
            wrk_requests(p, 1)     # warm-up
        for r in range(3):
            got = {}
            for name, p, pid in ((("wirelab", port, w.pid), ("nginx", nport, n.pid))[::1 if r % 2 == 0 else -1]):
                c0 = cpu_seconds(pid)
                k = wrk_requests(p, args.seconds)
                got[name] = (cpu_seconds(pid) - c0) * 1e6 / k
            rounds.append(got)
            log(f"cpu round {r + 1}: wirelab {got['wirelab']:.2f} µs/request, nginx {got['nginx']:.2f}, "
                f"ratio {got['wirelab'] / got['nginx']:.2f}")
    finally:
        stop(w)
        stop(n, signal.SIGTERM)
    ratios = sorted(g["wirelab"] / g["nginx"] for g in rounds)
    R["cpu"] = {"rounds_us_per_request": rounds, "median_ratio": round(ratios[1], 2),
                "load_average": os.getloadavg()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=".build/release/wirelab")
    ap.add_argument("--work", default=".build/bench")
    ap.add_argument("--only", default="poll,fanout,sweep")
    ap.add_argument("--seconds", type=int, default=5, help="load duration under valgrind")
    ap.add_argument("--clients", type=int, default=1000, help="WebSockets for fanout and sweep")
    args = ap.parse_args()
    R = {}
    for name in args.only.split(","):
        {"poll": fig_poll, "fanout": fig_fanout, "sweep": fig_sweep, "cpu": fig_cpu}[name](args, R)
    print(json.dumps(R, indent=1))


if __name__ == "__main__":
    main()
