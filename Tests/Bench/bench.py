#!/usr/bin/env python3
"""make bench: WebSocket and SSE fan-out at 1, 100, 1,000 and 10,000 clients, 10 events/s.

Thin driver: the measuring is `wirelab race --format json` (clients, latency, bytes) and
`wirelab race --floor` (a 64-byte ping-pong over a loopback TCP socket: the floor). This script
only starts a separate `wirelab serve` per run (10,000 clients need their own process: 20,000
open files per process), reads the server's CPU time (/proc/PID/stat utime+stime) and resident
memory (/proc/PID/status VmRSS) while the race runs, and prints one table.

CPU per 1,000 delivered events counts only the run itself: the race reports when its run
started and ended (wall clock), and the CPU samples are interpolated at those two instants.
"""
import argparse, json, os, subprocess, sys, threading, time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK      # utime, stime


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Sampler(threading.Thread):
    """(wall time, server CPU seconds) and peak VmRSS, every 100 ms."""
    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.samples, self.peak_rss, self.stop = pid, [], 0, threading.Event()

    def run(self):
        while not self.stop.is_set():
            try:
                self.samples.append((time.time(), cpu_seconds(self.pid)))
                self.peak_rss = max(self.peak_rss, rss_kb(self.pid))
            except OSError:
                return
            time.sleep(0.1)

    def cpu_at(self, t):
        s = self.samples
        for (t0, c0), (t1, c1) in zip(s, s[1:]):
            if t0 <= t <= t1:
                return c0 + (c1 - c0) * (t - t0) / max(t1 - t0, 1e-9)
        return s[-1][1] if t > s[-1][0] else s[0][1]


def start_server(binary, rate):
    p = subprocess.Popen([binary, "serve", "--port", "0", "--rate", str(rate)],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline().strip()          # "wirelab listening on http://HOST:PORT"
    if "listening on" not in line:
        p.kill()
        sys.exit(f"bench: wirelab serve did not start: {line!r}")
    return p, line.split("listening on ")[1]


def run(binary, transport, clients, rate, duration):
    server, url = start_server(binary, rate)
    sampler = Sampler(server.pid)
    sampler.start()
    try:
        out = subprocess.run([binary, "race", "--url", url, "--transports", transport, "--clients", str(clients),
                              "--duration", str(duration), "--format", "json", "--quiet"],
                             capture_output=True, text=True, timeout=240)
    finally:
        sampler.stop.set()
        sampler.join()
        server.terminate()
        server.wait(timeout=10)
    if out.returncode != 0:
        return {"error": out.stderr.strip() or f"exit {out.returncode}"}
    report = json.loads(out.stdout)
    r = report["results"][0]
    sc = report["scenario"]
    cpu = sampler.cpu_at(sc["ended_at_us"] / 1e6) - sampler.cpu_at(sc["started_at_us"] / 1e6)
    delivered = r["events"] * r["clients"]
    return {"r": r, "cpu_per_k": 1000 * cpu / delivered if delivered else float("nan"),
            "rss_mb": sampler.peak_rss / 1024}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", default=".build/release/wirelab")
    ap.add_argument("--counts", default="1,100,1000,10000")
    ap.add_argument("--transports", default="ws,sse")
    ap.add_argument("--rate", type=float, default=10)
    ap.add_argument("--duration", type=float, default=10)
    args = ap.parse_args()
    started = time.time()

    floor = json.loads(subprocess.run([args.bin, "race", "--floor", "--format", "json"],
                                      capture_output=True, text=True, check=True).stdout)["one_way_ms"]
    print(f"raw TCP floor (64-byte ping-pong over loopback, one way = RTT/2): "
          f"p50 {floor['p50'] * 1000:.1f} µs, p99 {floor['p99'] * 1000:.1f} µs", flush=True)
    print(f"fan-out at {args.rate:g} events/s, {args.duration:g} s per run, server = separate `wirelab serve`\n")
    head = (f"{'transport':9} {'clients':>7} {'connect ms':>10} {'p50 ms':>8} {'p99 ms':>8} {'p50/floor':>9} "
            f"{'p99/floor':>9} {'missed':>7} {'CPU s/1k ev':>11} {'RSS MB':>7}")
    print(head)
    print("-" * len(head), flush=True)
    for transport in args.transports.split(","):
        for n in [int(c) for c in args.counts.split(",")]:
            res = run(args.bin, transport, n, args.rate, args.duration)
            if "error" in res:
                print(f"{transport:9} {n:>7}  failed: {res['error']}", flush=True)
                continue
            r, lat = res["r"], res["r"]["latency_ms"] or {}
            p50, p99 = lat.get("p50", float("nan")), lat.get("p99", float("nan"))
            print(f"{transport:9} {n:>7} {r['connect_ms']:>10.0f} {p50:>8.2f} {p99:>8.2f} {p50 / floor['p50']:>9.1f} "
                  f"{p99 / floor['p99']:>9.1f} {r['missed']:>7g} {res['cpu_per_k']:>11.4f} {res['rss_mb']:>7.1f}", flush=True)
    print(f"\nmissed: per client (average); CPU: server utime+stime during the run / (events x clients / 1000);"
          f" RSS: peak VmRSS of the server (sampled every 100 ms). Ratios: latency / raw TCP floor."
          f"\nbench took {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
