#!/usr/bin/env python3
"""make bench-proxy: what `wirelab proxy` costs, as ratios measured side by side (PROTOCOL.md §7).

1. WebSocket fan-out (`wirelab serve --rate 10`, N clients from Tests/Bench/perf/ws_fanout_client)
   direct, through `wirelab proxy` without impairments, and through `--delay 50`.
   Targets: through the proxy, p99 <= 1.5 x direct p99; through --delay 50,
   p50 <= 50 ms + 1.5 x direct p50 (one way: the server's push crosses the proxy once).
2. `--bandwidth 800` carries 1 MB in 10 s +- 10%.

Each run also prints the CPU each process spent per copy (µs, utime + stime from /proc/PID/stat
over the measuring window, divided by clients x 10 events/s x seconds): a figure the rest of the
machine's load moves far less than latency; and how often per copy each process slept (woke up
again: one wake-up per copy means no batching) and was preempted (/proc/PID/task/*/status). Each round prints every run's ratios to that round's
direct run. A/B: `--variant 'NAME=PROXY ARGS'` adds a run to every round (`--variant 'loops 2=--loops 2'`),
`--variant-bin NAME=PATH` runs that variant's proxy from another build; `--only direct,proxy`
drops runs; `-n` sets the clients (where the 1.5x holds: try 2000, 5000, 10000).

Each line says `meets target` or `MISSES target`; the script exits non-zero only when the bench
itself broke. The proxy needs two sockets per client: with an open-file hard limit below
2 x N + 64 it cannot hold N clients, so N is lowered to what the limit allows, and said.
All traffic is on 127.0.0.1; every run is bounded in time.
"""
import argparse, json, os, resource, socket, subprocess, sys, threading, time


def start(argv, pattern):
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline().strip()
    if pattern not in line:
        p.kill()
        sys.exit(f"bench-proxy: {argv[1]} did not start: {line!r}")
    return p, line


def stop(p):
    p.terminate()
    try:
        p.wait(timeout=15)
    except subprocess.TimeoutExpired:
        p.kill()


def port_of(line):
    return int(line.split("http://")[1].split()[0].rsplit(":", 1)[1])


def cpu_seconds(pid):
    """utime + stime of a process, all its threads (/proc/PID/stat fields 14 and 15)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def context_switches(pid):
    """(voluntary, involuntary) context switches of all a process's threads: a loop thread that
    sleeps in epoll_wait switches voluntarily, one that a woken thread pushes off its core does not."""
    v = nv = 0
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches"):
                        v += int(line.split()[1])
                    elif line.startswith("nonvoluntary_ctxt_switches"):
                        nv += int(line.split()[1])
    except (OSError, ValueError):
        return None
    return v, nv


def fanout(args, port, n, pids):
    """One fan-out run. The processes in `pids` (name -> pid, plus the client) are sampled for CPU
    time from the moment every client is connected, for `--seconds`: CPU per copy is CPU seconds /
    (clients x 10 events/s x seconds), a figure that other load on the machine hardly moves."""
    p = subprocess.Popen([args.client, "--port", str(port), "--mode", "fanout", "-n", str(n), "--inflight", "500",
                          "--duration", str(args.seconds), "--connect-limit", "60"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pids = dict(pids, client=p.pid)
    cpu = {}
    switches = {}

    def sample():
        for line in p.stderr:                        # the client says when its window opens
            if "window open" in line and not cpu:
                t0 = time.monotonic()
                before = {k: cpu_seconds(v) for k, v in pids.items()}
                sw_before = {k: context_switches(v) for k, v in pids.items()}
                time.sleep(args.seconds * 0.9)       # inside the window, before its grace period
                after = {k: cpu_seconds(v) for k, v in pids.items()}
                sw_after = {k: context_switches(v) for k, v in pids.items()}
                cpu.update({k: after[k] - before[k] for k in pids if None not in (before[k], after[k])})
                cpu["elapsed"] = time.monotonic() - t0
                for k in pids:
                    if None not in (sw_before[k], sw_after[k]):
                        switches[k] = (sw_after[k][0] - sw_before[k][0], sw_after[k][1] - sw_before[k][1])

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    killer = threading.Timer(args.seconds + 120, p.kill)     # bounded: a stuck client is killed
    killer.start()
    out = p.stdout.read()                            # stderr is the sampler's alone
    p.wait()
    killer.cancel()
    t.join(5)
    if p.returncode != 0:
        sys.exit(f"bench-proxy: fan-out client failed (exit {p.returncode})")
    res = json.loads(out.strip().splitlines()[-1])
    copies = res["connected"] * 10 * cpu.get("elapsed", 0)       # the server publishes 10 events/s
    res["cpu_us_per_copy"] = {k: round(v * 1e6 / copies, 2) for k, v in cpu.items() if k != "elapsed" and copies}
    # Per copy: how often each process slept (woke up again) and was pushed off its core.
    res["sleeps_per_copy"] = {k: round(v[0] / copies, 4) for k, v in switches.items() if copies}
    res["preempted_per_copy"] = {k: round(v[1] / copies, 4) for k, v in switches.items() if copies}
    res["load_average"] = round(os.getloadavg()[0], 2)
    return res


def one_round(args, n, via, proxy_bin=None):
    server, line = start([args.bin, "serve", "--port", "0", "--rate", "10", "--size", "64"], "listening on")
    url = line.split("listening on ")[1]
    proxy = None
    try:
        port = port_of(line)
        pids = {"server": server.pid}
        if via is not None:
            proxy, pline = start([proxy_bin or args.bin, "proxy", "--upstream", url, *via], "wirelab proxy listening on")
            port = port_of(pline)
            pids["proxy"] = proxy.pid
        return fanout(args, port, n, pids)
    finally:
        if proxy:
            stop(proxy)
        stop(server)


def bandwidth_check(args):
    size = 1_000_000

    def serve_blob(listener):
        conn, _ = listener.accept()
        buf = b""
        while b"\r\n\r\n" not in buf:
            buf += conn.recv(4096)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size + b"x" * size)
        conn.close()

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    threading.Thread(target=serve_blob, args=(listener,), daemon=True).start()
    proxy, pline = start([args.bin, "proxy", "--upstream", f"http://127.0.0.1:{listener.getsockname()[1]}",
                          "--bandwidth", "800"], "wirelab proxy listening on")
    try:
        s = socket.create_connection(("127.0.0.1", port_of(pline)), timeout=30)
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        got, t0 = 0, time.monotonic()
        while True:                 # the upstream closes after the body: read to EOF
            chunk = s.recv(65536)
            if not chunk:
                break
            got += len(chunk)
        elapsed = time.monotonic() - t0
        s.close()
    finally:
        stop(proxy)
        listener.close()
    if got < size:
        sys.exit(f"bench-proxy: only {got} bytes of {size} came through --bandwidth 800")
    return elapsed


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", default=".build/release/wirelab")
    ap.add_argument("--client", default=".build/bench/ws_fanout_client")
    ap.add_argument("-n", "--clients", dest="n", type=int, default=10_000, help="WebSocket clients")
    ap.add_argument("--seconds", type=float, default=10, help="measuring window per run")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", default="direct,proxy,delay 50",
                    help="comma-separated runs of each round (default: direct,proxy,delay 50)")
    ap.add_argument("--variant", action="append", default=[], metavar="NAME=PROXY ARGS",
                    help="an extra run through `wirelab proxy PROXY ARGS` in every round, "
                         "e.g. --variant 'loops 1=--loops 1' (A/B comparisons)")
    ap.add_argument("--variant-bin", action="append", default=[], metavar="NAME=PATH",
                    help="the `wirelab` binary that runs variant NAME's proxy (the server stays --bin): "
                         "an old build against a new one, in alternating rounds")
    ap.add_argument("--no-bandwidth", action="store_true", help="skip the --bandwidth 800 check")
    args = ap.parse_args()
    for exe in (args.bin, args.client):
        if not os.access(exe, os.X_OK):
            sys.exit(f"bench-proxy: {exe} missing (make bench-proxy builds both)")
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    n = args.n
    if hard != resource.RLIM_INFINITY and 2 * n + 64 > hard:
        n = (hard - 64) // 2 // 100 * 100
        print(f"open-file hard limit {hard}: the proxy holds at most {(hard - 64) // 2} clients; running {n} "
              f"instead of {args.n} (raise `ulimit -Hn` to run {args.n})")
    print(f"load average at start: {os.getloadavg()[0]:.1f}; {args.rounds} rounds of {args.seconds:g} s, "
          f"{n} WebSocket clients, 10 events/s", flush=True)
    known = {"direct": None, "proxy": [], "delay 50": ["--delay", "50"]}
    plan = [(name.strip(), known[name.strip()]) for name in args.only.split(",") if name.strip()]
    for v in args.variant:
        name, _, rest = v.partition("=")
        plan.append((name, rest.split()))
    bins = dict(v.split("=", 1) for v in args.variant_bin)
    runs = {name: [] for name, _ in plan}
    for r in range(args.rounds):
        order = plan if r % 2 == 0 else plan[::-1]       # alternate: drift in the load hits both sides
        for name, via in order:
            res = one_round(args, n, via, bins.get(name))
            runs[name].append(res)
            cpu = "  ".join(f"{k} {v:.2f}" for k, v in res["cpu_us_per_copy"].items())
            print(f"  round {r + 1} {name:9} p50 {res['p50_ms']:8.2f} ms  p99 {res['p99_ms']:8.2f} ms  "
                  f"connected {res['connected']}  missed {res['missed']}  load {res['load_average']:.1f}  "
                  f"CPU µs per copy: {cpu}", flush=True)
            wake = "  ".join(f"{k} {v:.3f}/{res['preempted_per_copy'][k]:.3f}" for k, v in res["sleeps_per_copy"].items())
            print(f"    per copy, sleeps/preemptions: {wake}", flush=True)
            if res["p50_ms"] > 1000:
                print(f"    (behind: half the copies took over 1 s, 10 events' worth; the machine did not keep "
                      f"up, and CPU per copy, counted against what was published, is understated)", flush=True)
        if "direct" in runs and len(runs) > 1:
            d = runs["direct"][-1]
            ratios = "  ".join(f"{name} p50 {runs[name][-1]['p50_ms'] / d['p50_ms']:.2f}x "
                               f"p99 {runs[name][-1]['p99_ms'] / d['p99_ms']:.2f}x"
                               for name in runs if name != "direct")
            print(f"  round {r + 1} against direct: {ratios}", flush=True)

    def med(name, key):
        v = sorted(x[key] for x in runs[name])
        return v[len(v) // 2]

    def med_cpu(name):
        keys = runs[name][0]["cpu_us_per_copy"].keys()
        return "  ".join(f"{k} {sorted(x['cpu_us_per_copy'].get(k, 0) for x in runs[name])[len(runs[name]) // 2]:.2f}"
                         for k in keys)

    print()
    loads = [x["load_average"] for v in runs.values() for x in v]
    cores = os.cpu_count() or 1
    if loads and max(loads) > cores:
        print(f"load average up to {max(loads):.1f} on {cores} cores: other work shared the cores, so the latency "
              f"ratios are polluted; the CPU per copy figures much less so")
    for name in runs:
        print(f"median CPU µs per copy, {name}: {med_cpu(name)}")
    if "direct" in runs and "proxy" in runs:
        d99, p99 = med("direct", "p99_ms"), med("proxy", "p99_ms")
        print(f"through the proxy: p99 {p99:.2f} ms vs direct {d99:.2f} ms = {p99 / d99:.2f}x "
              f"(target <= 1.5x): {'meets target' if p99 <= 1.5 * d99 else 'MISSES target'}")
    if "direct" in runs and "delay 50" in runs:
        d50, l50 = med("direct", "p50_ms"), med("delay 50", "p50_ms")
        print(f"through --delay 50: p50 {l50:.2f} ms vs 50 + 1.5 x direct p50 {d50:.2f} = {50 + 1.5 * d50:.2f} ms: "
              f"{'meets target' if l50 <= 50 + 1.5 * d50 else 'MISSES target'}")
    elapsed = None
    if not args.no_bandwidth:
        elapsed = bandwidth_check(args)
        ok3 = 9.0 <= elapsed <= 11.0
        print(f"--bandwidth 800: 1 MB in {elapsed:.2f} s (target 10 s +- 10%): "
              f"{'meets target' if ok3 else 'MISSES target'}")
    json.dump({"clients": n, "runs": runs, "bandwidth_1mb_s": elapsed},
              open(os.path.join(os.path.dirname(args.client), "proxy.json"), "w"))


if __name__ == "__main__":
    main()
