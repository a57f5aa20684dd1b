#!/usr/bin/env python3
"""What one relayed message costs `wirelab proxy`, counted rather than timed (PROTOCOL.md §7).

The proxy runs under `strace -c -f` (system calls) or `valgrind --tool=callgrind` (user-space
instructions) in front of `wirelab serve --rate 10 --size 64`, with N WebSocket clients from
Tests/Bench/perf/ws_fanout_client. It is run twice, with a short and a long measuring window;
the difference between the two runs divided by the difference in messages relayed (bytes the
proxy wrote to its clients / bytes per message) is the cost per message in the steady state:
start-up, handshakes and shutdown cancel out. Both counts hardly depend on what else the machine
runs, so they can be taken on a busy machine.

    python3 Tests/Bench/proxy_cost.py --tool callgrind -n 500            # plain relay
    python3 Tests/Bench/proxy_cost.py --tool strace -n 1000 -- --delay 50

Under strace the proxy is slow, so several messages may wait in one socket and leave in one read
and one write: the per-message calls are then below 1, never above. Each run's start and end
differ a little (connecting, the client's grace period), so keep the defaults (500 clients, 5 and
15 s: 50,000 messages apart); calls below 0.001 per message are not printed. Every run is
bounded in time.
"""
import argparse, json, os, re, shutil, signal, subprocess, sys, tempfile, time



def start(argv, pattern, out):
    p = subprocess.Popen(argv, stdout=open(out, "w"), stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        text = open(out).read()
        if pattern in text:
            return p, text.splitlines()[0]
        if p.poll() is not None:
            break
        time.sleep(0.1)
    p.kill()
    sys.exit(f"proxy-cost: {argv[0]} did not start")


def port_of(line):
    return int(line.split("http://")[1].split()[0].rsplit(":", 1)[1])


def one_run(args, seconds, work):
    server, sline = start([args.bin, "serve", "--port", "0", "--rate", "10", "--size", "64"], "listening on",
                          os.path.join(work, "server.out"))
    url = sline.split("listening on ")[1]
    out = os.path.join(work, f"{args.tool}.{seconds}")
    if args.tool == "strace":
        wrap = ["strace", "-c", "-f", "-o", out]
    else:
        wrap = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--dump-instr=no"]
    pout = os.path.join(work, "proxy.out")
    proxy, pline = start(wrap + [args.bin, "proxy", "--upstream", url, *args.proxy_args], "wirelab proxy listening",
                         pout)
    try:
        client = subprocess.run([args.client, "--port", str(port_of(pline)), "--mode", "fanout", "-n", str(args.n),
                                 "--duration", str(seconds), "--connect-limit", "60"],
                                capture_output=True, text=True, timeout=seconds + 120)
        res = json.loads(client.stdout.strip().splitlines()[-1])
    finally:
        # SIGTERM to the proxy itself (strace's or valgrind's child), so it prints its counters.
        kids = subprocess.run(["pgrep", "-P", str(proxy.pid)], capture_output=True, text=True).stdout.split()
        for pid in ([proxy.pid] if args.tool == "callgrind" else kids):
            os.kill(int(pid), signal.SIGTERM)
        proxy.wait(timeout=60)
        server.terminate()
        server.wait(timeout=15)
    counters = json.loads(open(pout).read().splitlines()[-1])
    if args.tool == "strace":
        calls = {}
        for line in open(out):
            m = re.match(r"\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)$", line)
            if m and m.group(2) != "total":
                calls[m.group(2)] = int(m.group(1))
    else:
        calls = {"instructions": int(re.search(r"^totals: (\d+)", open(out).read(), re.M).group(1))}
    return res, counters["downstream"]["bytes_out"], calls


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", default=".build/release/wirelab")
    ap.add_argument("--client", default=".build/bench/ws_fanout_client")
    ap.add_argument("--tool", choices=["strace", "callgrind"], default="callgrind")
    ap.add_argument("-n", "--clients", dest="n", type=int, default=500)
    ap.add_argument("--short", type=float, default=5, help="the short run's window, s")
    ap.add_argument("--long", type=float, default=15, help="the long run's window, s")
    ap.add_argument("proxy_args", nargs="*", help="after --: flags for `wirelab proxy`")
    args = ap.parse_args()
    for exe in (args.bin, args.client):
        if not os.access(exe, os.X_OK):
            sys.exit(f"proxy-cost: {exe} missing (make release; make bench-proxy builds the client)")
    tool = "strace" if args.tool == "strace" else "valgrind"
    if not shutil.which(tool):
        sys.exit(f"proxy-cost: {tool} is not installed (apt-get install {tool})")
    with tempfile.TemporaryDirectory(prefix="proxy-cost-") as work:
        a = one_run(args, args.short, work)
        b = one_run(args, args.long, work)
    per_copy = (b[0]["copies"] - a[0]["copies"])
    bytes_per_message = (b[1] - a[1]) / per_copy if per_copy > 0 else 0
    messages = per_copy          # copies the clients counted in the extra window; every one crossed the proxy
    if messages <= 0:
        sys.exit("proxy-cost: the long run relayed no more than the short one")
    print(f"{args.n} WebSocket clients at 10 events/s through `wirelab proxy {' '.join(args.proxy_args)}`, "
          f"{args.tool}; {messages} more messages in the long run ({bytes_per_message:.1f} bytes each)")
    for name in sorted(set(a[2]) | set(b[2]), key=lambda k: -(b[2].get(k, 0) - a[2].get(k, 0))):
        d = b[2].get(name, 0) - a[2].get(name, 0)
        if args.tool == "callgrind" or abs(d) >= 0.001 * messages:
            print(f"  {name:14} {d / messages:10.3f} per message")


if __name__ == "__main__":
    main()
