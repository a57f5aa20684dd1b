"""`wirelab race` as a user runs it: `--output`, the progress bar on a terminal (a real pty from
Python's `pty` module) with and without NO_COLOR, and `--clock estimate` against a `serve` whose
wall clock is shifted by a known skew (`--test-clock-skew-ms`, a flag for tests). Every race here
is short and on 127.0.0.1.
"""
import json
import os
import pty
import select
import subprocess
import tempfile
import time
import unittest

from wirelab_server import WirelabServer, wirelab_bin

GREEN = b"\x1b[32m"


def run_on_pty(args, env_extra=None, timeout=60):
    """Runs wirelab with stderr on a pseudo-terminal (stdout a pipe); returns (rc, stdout, tty bytes)."""
    master, slave = pty.openpty()
    env = dict(os.environ)
    env.pop("NO_COLOR", None)
    env.update(env_extra or {})
    p = subprocess.Popen([wirelab_bin()] + args, stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL, env=env)
    os.close(slave)
    tty = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r, _, _ = select.select([master], [], [], 0.2)
        if r:
            try:
                chunk = os.read(master, 65536)
            except OSError:          # EIO: the child closed its end
                chunk = b""
            if not chunk:
                break
            tty += chunk
        elif p.poll() is not None:
            break
    os.close(master)
    out, _ = p.communicate(timeout=max(1, deadline - time.monotonic()))
    return p.returncode, out, tty


RACE = ["race", "--transports", "sse,ws", "--duration", "1.2", "--rate", "10"]


class TestRaceOutput(unittest.TestCase):
    def test_output_writes_the_report_and_says_so(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "race.json")
            p = subprocess.run([wirelab_bin()] + RACE + ["--format", "json", "--output", path],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr[-2000:])
            self.assertEqual(p.stdout, f"wrote {path}\n".encode(), "stdout holds only the 'wrote' line")
            self.assertEqual(p.stderr, b"", "stderr is a pipe: no progress bar")
            with open(path) as f:
                report = json.load(f)
            self.assertEqual([r["transport"] for r in report["results"]], ["sse", "ws"])
            self.assertTrue(all(r["missed"] == 0 for r in report["results"]), report["results"])

    def test_output_to_an_unwritable_path_is_a_runtime_error(self):
        p = subprocess.run([wirelab_bin()] + RACE + ["--output", "/nonexistent-dir/x.json"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"cannot write /nonexistent-dir/x.json", p.stderr)


class TestProgressBar(unittest.TestCase):
    def test_bar_on_a_terminal_in_colour(self):
        rc, out, tty = run_on_pty(RACE + ["--format", "csv"])
        self.assertEqual(rc, 0, tty[-2000:])
        self.assertIn(b"[", tty)
        self.assertIn(b"#", tty, "the bar fills")
        self.assertIn(b" events", tty)
        self.assertIn(GREEN, tty, "colour without NO_COLOR")
        self.assertTrue(tty.endswith(b"\r\x1b[K"), f"the bar is cleared at the end: {tty[-40:]!r}")
        self.assertTrue(out.startswith(b"transport,"), "the report on stdout is untouched by the bar")

    def test_no_color_drops_the_colour_not_the_bar(self):
        rc, out, tty = run_on_pty(RACE + ["--format", "csv"], {"NO_COLOR": "1"})
        self.assertEqual(rc, 0, tty[-2000:])
        self.assertIn(b"#", tty)
        self.assertNotIn(GREEN, tty)
        self.assertNotIn(b"\x1b[0m", tty)

    def test_quiet_hides_the_bar(self):
        rc, out, tty = run_on_pty(RACE + ["--format", "csv", "--quiet"])
        self.assertEqual(rc, 0, tty[-2000:])
        self.assertEqual(tty, b"")
        self.assertTrue(out.startswith(b"transport,"))


class TestClockEstimate(unittest.TestCase):
    SKEW_MS = -4000     # the server's clock 4 s behind ours: uncorrected latencies would be +4 s

    def race_json(self, srv, *extra):
        p = subprocess.run([wirelab_bin(), "race", "--url", srv.base, "--transports", "sse,ws", "--duration", "1",
                            "--format", "json", "--quiet"] + list(extra),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr[-2000:])
        return json.loads(p.stdout)

    def test_estimate_finds_the_skew_and_latencies_do_not_move(self):
        with WirelabServer("--rate", "20", "--test-clock-skew-ms", str(self.SKEW_MS)) as srv:
            status, _, body = srv.get("/time")
            self.assertLess(json.loads(body)["ts"] / 1000 - time.time() * 1000, self.SKEW_MS + 1000,
                            "serve --test-clock-skew-ms shifts GET /time")
            report = self.race_json(srv, "--clock", "estimate")
            clock = report["scenario"]["clock"]
            # "clock: offset −4000.1 ms ± 0.2 ms from 8 samples"
            self.assertTrue(clock.startswith("clock: offset −") and clock.endswith(" ms from 8 samples"), clock)
            offset_ms = float(clock.split("offset ")[1].split(" ms")[0].replace("−", "-").replace("+", ""))
            plus_minus = float(clock.split("± ")[1].split(" ms")[0])
            self.assertLessEqual(abs(offset_ms - self.SKEW_MS), plus_minus + 0.1, clock)
            for r in report["results"]:
                self.assertLess(r["latency_ms"]["p50"], 1000, f"{r['transport']}: {r['latency_ms']}")
                self.assertGreater(r["events"], 0)
            # Default (auto) on loopback: no estimate, so the skew shows in full.
            plain = self.race_json(srv)
            self.assertEqual(plain["scenario"]["clock"], "clock: same host, no correction")
            for r in plain["results"]:
                self.assertGreater(r["latency_ms"]["p50"], 3000, f"{r['transport']}: {r['latency_ms']}")

    def test_clock_flag_is_validated(self):
        p = subprocess.run([wirelab_bin(), "race", "--clock", "ntp"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
        self.assertEqual(p.returncode, 2)
        self.assertEqual(len(p.stderr.strip().split(b"\n")), 1, p.stderr)
        self.assertIn(b"--clock", p.stderr)


class TestServerCheckWhileEventsKeepComing(unittest.TestCase):
    """Against a separate server, the generator does not pause at the end of a race: events keep
    being written to SSE streams and held long polls while the clients close. A client that just
    closed lost the last event on its side only (bytes_out at the server > bytes_down here, one
    event in about one run of three at 300 events/s). The clients' lingering close (PROTOCOL.md §5)
    reads to the server's FIN, so the check agrees every time, on HTTP/1.1 and HTTP/2."""

    def test_server_check_agrees_at_300_events_per_second(self):
        with WirelabServer("--rate", "300") as srv:
            for attempt in range(3):
                for extra in (["--http", "1.1"], ["--http", "2"], ["--http", "2", "--share"]):
                    p = subprocess.run([wirelab_bin(), "race", "--url", srv.base, "--duration", "0.5",
                                        "--transports", "longpoll,sse", "--format", "json", "--quiet"] + extra,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
                    self.assertEqual(p.returncode, 0, p.stderr[-2000:])
                    report = json.loads(p.stdout)
                    self.assertTrue(report["server_check"]["agrees"], (attempt, extra, report["server_check"]))
                    for r in report["results"]:
                        self.assertEqual(r["missed"], 0, (extra, r["transport"]))
                        self.assertGreater(r["events"], 100, (extra, r["transport"]))


class TestRaceHTTP2(unittest.TestCase):
    """`race --http 2` against a separate `wirelab serve` process: the report's "http2" object
    equals the server's /stats "http2" object (stream 0 and the preface, to the byte), and the
    transports keep their four keys; `--share` uses one connection for all four."""

    def test_http2_race_and_share_match_stats(self):
        for share in ([], ["--share"]):
            with WirelabServer("--rate", "20") as srv:
                p = subprocess.run([wirelab_bin(), "race", "--url", srv.base, "--http", "2", "--duration", "1",
                                    "--poll-interval", "0.25", "--format", "json", "--quiet"] + share,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
                self.assertEqual(p.returncode, 0, p.stderr[-2000:])
                report = json.loads(p.stdout)
                self.assertEqual(report["scenario"]["http"], "2")
                self.assertEqual(report["scenario"]["share"], bool(share))
                self.assertTrue(report["server_check"]["agrees"], report["server_check"])
                h2 = report["http2"]
                self.assertEqual(h2["connections"], 1 if share else 4)
                stats = srv.stats()
                self.assertEqual(sorted(stats["transports"]), ["longpoll", "poll", "sse", "ws"])
                self.assertEqual(stats["http2"]["connections"], h2["connections"])
                self.assertEqual(stats["http2"]["bytes_in"], h2["bytes_up"])
                self.assertEqual(stats["http2"]["bytes_out"], h2["bytes_down"])
                streams = sum(r["bytes_up"] + r["bytes_down"] for r in report["results"])
                self.assertEqual(h2["socket_bytes_up"] + h2["socket_bytes_down"], streams + h2["bytes_up"] + h2["bytes_down"])
                for r in report["results"]:
                    self.assertEqual(r["missed"], 0, r["transport"])
                    self.assertGreater(r["events"], 0, r["transport"])

    def test_streams_through_a_delay_miss_nothing_at_the_start(self):
        # An HTTP/2 SSE stream or WebSocket is live only once the server has answered it; a client
        # that called itself ready when its connection opened let the run start while its request
        # was still in the proxy's delay line, and missed the run's first events (1-5 of them at
        # 100 events/s through --delay 30, nearly every run).
        with WirelabServer("--rate", "100") as srv:
            for attempt in range(3):
                p = subprocess.run([wirelab_bin(), "race", "--url", srv.base, "--http", "2", "--via", "--delay 30",
                                    "--transports", "sse,ws", "--duration", "1", "--format", "json", "--quiet"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
                self.assertEqual(p.returncode, 0, p.stderr[-2000:])
                report = json.loads(p.stdout)
                for r in report["results"]:
                    self.assertEqual(r["missed"], 0, (attempt, r["transport"], report["scenario"]))
                    self.assertGreater(r["events"], 50, (attempt, r["transport"]))

    def test_share_needs_http2(self):
        p = subprocess.run([wirelab_bin(), "race", "--share"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
        self.assertEqual(p.returncode, 2)
        self.assertEqual(len(p.stderr.strip().split(b"\n")), 1, p.stderr)
        self.assertIn(b"share", p.stderr)
