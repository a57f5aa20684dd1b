#!/usr/bin/env python3
"""`make soak`: the server under a steady crowd for a long time (PROTOCOL.md §9).

    python3 Tests/Bench/soak.py --bin .build/release/wirelab --client .build/bench/soak_client [--minutes 10]

One `wirelab serve --rate 10 --size 64 --history 1000` (a history that fills within the warm-up); soak_client (C, one epoll loop) holds 10,000 WebSockets,
1,000 SSE streams and 500 long pollers, and every second closes 1% of them at random and
reconnects each where it stopped (`since=`). A separate SSE watcher (Python, its own socket)
records every event. Every report interval the server's RSS, descriptors and CPU time are read
from /proc and printed with the client's counts (`pend`: clients between a drop and their
server's answer: reconnecting).

Pass/fail (exit 1 on any failure; the figures are printed either way):
  - the watcher misses nothing: its ids run without a gap from its first event to its last, and
    within 5 s of the end it has the server's latest;
  - every soak client misses nothing and gets nothing twice, across all its reconnects;
  - RSS after warm-up (every client connected once, then a fifth of the run) stays within 5% of
    its first post-warm-up reading;
  - descriptors return to the baseline once the clients are gone (within 15 s).
Bounded: at most --minutes (<= 60) plus a minute of setup and teardown; 127.0.0.1 only.
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "Interop"))
from attack_tools import ProcWatch, Watcher  # noqa: E402

MIB = 1024 * 1024


def log(msg):
    print(f"[soak {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def start_server(binary):
    # --history 1000: the history ring (PROTOCOL.md §1) is memory that grows by design until it
    # is full. The default 10,000 events take 1,000 s to fill at 10 events/s, longer than a
    # 10-minute soak: RSS would climb by the ring's size (about 0.5 MiB a minute) and hide or
    # fake a leak. 1,000 events fill in 100 s, inside the warm-up, so growth after it is a leak.
    # (A reconnect resumes within a second, far inside 100 s of history.)
    proc = subprocess.Popen([binary, "serve", "--host", "127.0.0.1", "--port", "0", "--rate", "10", "--size", "64",
                             "--history", "1000"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    line = proc.stdout.readline().decode(errors="replace").strip()
    m = re.search(r"listening on http://[^:]+:(\d+)$", line)
    if not m:
        proc.kill()
        raise SystemExit(f"soak: the server did not start: {line!r}")
    threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
    return proc, int(m.group(1))


def latest_id(port):
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/poll")
        return json.loads(conn.getresponse().read())["next"]
    finally:
        conn.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=".build/release/wirelab")
    ap.add_argument("--client", default=".build/bench/soak_client")
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--ws", type=int, default=10_000)
    ap.add_argument("--sse", type=int, default=1_000)
    ap.add_argument("--longpoll", type=int, default=500)
    ap.add_argument("--reconnect-pct", type=float, default=1.0, help="percent of clients reconnecting every second")
    args = ap.parse_args()
    # SIGTERM (a stopped make, a timeout) ends the run through the `finally` below, which stops
    # the client and the server; the default action would leave both running.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    minutes = max(0.25, min(args.minutes, 60))
    seconds = minutes * 60
    every = 10 if seconds >= 120 else 5
    for exe in (args.bin, args.client):
        if not os.access(exe, os.X_OK):
            raise SystemExit(f"soak: {exe} missing (make soak builds it)")

    proc, port = start_server(args.bin)
    pw = ProcWatch(proc.pid)
    watcher = None
    client = None
    failures = []
    rows = []
    try:
        watcher = Watcher(port, max_seconds=minutes * 60 + 180)   # reads past the end of the run
        watcher.wait_events(3, timeout=10)
        time.sleep(0.5)
        fds0, rss0 = pw.fds(), pw.rss()
        log(f"server pid {proc.pid} on port {port}: baseline {fds0} descriptors, RSS {rss0 / MIB:.1f} MiB")
        log(f"{args.ws} WebSockets, {args.sse} SSE, {args.longpoll} long pollers, 10 events/s, "
            f"{args.reconnect_pct}% reconnecting every second, {minutes:g} min")
        client = subprocess.Popen([args.client, "--port", str(port), "--ws", str(args.ws), "--sse", str(args.sse),
                                   "--longpoll", str(args.longpoll), "--duration", str(seconds),
                                   "--reconnect-pct", str(args.reconnect_pct), "--report", str(every)],
                                  stdout=subprocess.PIPE, stderr=sys.stderr)
        final = None
        cpu_prev, t_prev = pw.cpu(), time.monotonic()
        print(f"{'t_s':>6} {'ws':>6} {'sse':>5} {'lp':>4} {'events':>10} {'missed':>6} {'dups':>5} {'reconn':>7} "
              f"{'ends':>5} {'err':>4} {'pend':>5} {'rss_MiB':>8} {'fds':>6} {'cpu%':>5} {'watcher':>8}", flush=True)
        deadline = time.monotonic() + seconds + 120
        for raw in client.stdout:
            if time.monotonic() > deadline:
                break
            line = raw.decode(errors="replace").strip()
            if not line.startswith("{"):
                continue
            r = json.loads(line)
            now, cpu = time.monotonic(), pw.cpu()
            r["rss"], r["fds"] = pw.rss(), pw.fds()
            r["cpu_pct"] = 100 * (cpu - cpu_prev) / max(1e-3, now - t_prev)
            cpu_prev, t_prev = cpu, now
            r["watcher_events"] = sum(1 for a in watcher.arrivals if a[1] is not None)
            rows.append(r)
            print(f"{r['t']:6.0f} {r['open_ws']:6d} {r['open_sse']:5d} {r['open_longpoll']:4d} {r['events']:10d} "
                  f"{r['missed']:6d} {r['duplicates']:5d} {r['reconnects']:7d} {r['server_ends']:5d} {r['errors']:4d} "
                  f"{r['idle'] + r['connecting'] + r['awaiting_head']:5d} "
                  f"{r['rss'] / MIB:8.1f} {r['fds']:6d} {r['cpu_pct']:5.0f} {r['watcher_events']:8d}", flush=True)
            if r.get("final"):
                final = r
        client.wait(30)
        if final is None:
            failures.append(f"soak_client ended without its final report (exit {client.returncode})")

        # descriptors back to the baseline once the clients are gone
        fds_end = pw.fds()
        end_wait = time.monotonic() + 15
        while fds_end > fds0 and time.monotonic() < end_wait:
            time.sleep(0.25)
            fds_end = pw.fds()
        rss_end = pw.rss()

        # the watcher: nothing missed, and it is up to date
        latest = latest_id(port)
        catch_up = time.monotonic() + 5          # the latest event may still be on its way
        while time.monotonic() < catch_up and not watcher.error:
            if any(a[1] is not None and a[1] >= latest for a in watcher.arrivals[-50:]):
                break
            time.sleep(0.05)
        ids = [a[1] for a in watcher.arrivals if a[1] is not None]
        watcher_missing = sorted(set(range(ids[0], ids[-1] + 1)) - set(ids)) if ids else []
        watcher_behind = latest - max(ids) if ids else latest
        if watcher.error:
            failures.append(f"watcher: {watcher.error}")
        if watcher_missing:
            failures.append(f"watcher missed {len(watcher_missing)} events (first {watcher_missing[:5]})")
        if watcher_behind > 0:
            failures.append(f"watcher is {watcher_behind} events behind the server's latest 5 s after the end")

        if final:
            for key in ("missed", "duplicates", "server_missed", "bad_answers"):
                if final[key]:
                    failures.append(f"soak clients: {key} = {final[key]}")
            if final["errors"]:
                failures.append(f"soak clients: {final['errors']} connection errors")

        # Warm-up: until every client has connected once (95% open), then a fifth of the run more.
        target = args.ws + args.sse + args.longpoll
        connected_at = next((r["t"] for r in rows if r["open_ws"] + r["open_sse"] + r["open_longpoll"] >= 0.95 * target), None)
        if connected_at is None:
            failures.append(f"fewer than 95% of the {target} clients were ever open at once")
            connected_at = seconds
        warm_from = connected_at + max(every, seconds / 5)
        warm = [r for r in rows if r["t"] >= warm_from and not r.get("final")]
        rss_spread = None
        if warm:
            base = warm[0]["rss"]
            rss_spread = max(abs(r["rss"] - base) / base for r in warm)
            if rss_spread > 0.05:
                readings = ", ".join("%.0f" % (r["rss"] / MIB) for r in warm)
                failures.append(f"RSS after warm-up moved {100 * rss_spread:.1f}% (limit 5%): {readings} MiB")
        else:
            failures.append("no report after warm-up")
        if fds_end > fds0:
            failures.append(f"descriptors did not return to the baseline: {fds0} before, {fds_end} 15 s after the end")

        print()
        print(f"soak: {minutes:g} min, {args.ws} WebSockets + {args.sse} SSE + {args.longpoll} long pollers at 10 events/s, "
              f"{args.reconnect_pct}%/s reconnecting")
        if final:
            print(f"  clients: {final['events']:,} events received, {final['missed']} missed, {final['duplicates']} duplicates, "
                  f"{final['server_missed']} reported missed by the server, {final['reconnects']:,} planned reconnects, "
                  f"{final['server_ends']} ended by the server, {final['errors']} errors, {final['connects']:,} connects")
        print(f"  watcher: {len(ids)} events, {len(watcher_missing)} missed, {watcher_behind} behind at the end")
        if warm:
            print(f"  all clients connected after {connected_at:.0f} s; warm-up ends at {warm_from:.0f} s")
            print(f"  server RSS: {rss0 / MIB:.1f} MiB idle, {warm[0]['rss'] / MIB:.1f} MiB after warm-up, "
                  f"max {max(r['rss'] for r in warm) / MIB:.1f} MiB, spread {100 * rss_spread:.1f}% (limit 5%); "
                  f"{rss_end / MIB:.1f} MiB after the clients left")
        if rows:
            cpus = [r["cpu_pct"] for r in rows[1:] if not r.get("final")] or [rows[0]["cpu_pct"]]
            print(f"  server CPU: {sum(cpus) / len(cpus):.0f}% of a core on average (max {max(cpus):.0f}%)")
        print(f"  descriptors: {fds0} before, max {max((r['fds'] for r in rows), default=0)} during, {fds_end} after")
    finally:
        if client and client.poll() is None:
            client.kill()
            client.wait()
        if watcher:
            watcher.close()
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                failures.append("the server did not exit within 15 s of SIGTERM")
    for f in failures:
        print(f"FAIL {f}")
    print("soak: " + ("ok" if not failures else f"{len(failures)} failed"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
