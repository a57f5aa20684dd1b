"""The runner itself: a green run means every test ran. A skipped test and a missing peer both
make `run_all.py` exit 1 (the runner is started here on a small selection of tests). And
`make fuzz` stops at a fuzz target that does not compile (issue 11: a `|| true` hid that).
"""
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


def run_all(*args, env=None):
    return subprocess.run([sys.executable, os.path.join(HERE, "run_all.py"), "--bin", os.environ["WIRELAB_BIN"], *args],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, timeout=120, text=True)


class TestRunnerIsNotGreenWithoutItsPeers(unittest.TestCase):
    def test_skipping_the_browser_fails_the_run(self):
        env = dict(os.environ, WIRELAB_SKIP_BROWSER="1")
        p = run_all("-k", "test_browser.", env=env)
        last = p.stdout.strip().splitlines()[-1]
        self.assertIn("skipped", last, p.stdout[-2000:])
        self.assertEqual(p.returncode, 1, f"a run with skipped browser tests must not be green: {last}")

    def test_a_missing_peer_fails_the_run(self):
        # curl not on PATH: the curl tests fail, they are not skipped.
        env = dict(os.environ, PATH="/nonexistent")
        p = run_all("-k", "test_curl.TestSmallEndpoints.test_healthz", env=env)
        last = p.stdout.strip().splitlines()[-1]
        self.assertEqual(last, "interop: 0 passed, 1 failed", p.stdout[-2000:])
        self.assertEqual(p.returncode, 1)

    def test_selector_flag_reaches_every_server(self):
        p = run_all("--selector", "poll", "-k", "test_curl.TestSmallEndpoints.test_healthz")
        last = p.stdout.strip().splitlines()[-1]
        self.assertEqual(last, "interop: 1 passed, 0 failed [--selector poll]", p.stdout[-2000:])
        self.assertEqual(p.returncode, 0)


class TestSelectorReachesTheServer(unittest.TestCase):
    def test_wirelab_selector_adds_the_flag(self):
        from wirelab_server import WirelabServer
        old = os.environ.get("WIRELAB_SELECTOR")
        os.environ["WIRELAB_SELECTOR"] = "poll"
        try:
            self.assertEqual(WirelabServer("--rate", "0").args, ["--rate", "0", "--selector", "poll"])
            self.assertEqual(WirelabServer("--selector", "epoll").args, ["--selector", "epoll"])
        finally:
            if old is None:
                del os.environ["WIRELAB_SELECTOR"]
            else:
                os.environ["WIRELAB_SELECTOR"] = old


class TestServeSelectorIsReal(unittest.TestCase):
    """`serve --selector poll` really runs poll(): no epoll instance among its descriptors
    (Linux shows one as anon_inode:[eventpoll] in /proc/PID/fd); `--selector epoll` has one."""

    def epoll_fds(self, selector):
        from wirelab_server import WirelabServer
        with WirelabServer("--rate", "0", "--selector", selector) as srv:
            self.assertTrue(srv.healthy())
            fd_dir = f"/proc/{srv.proc.pid}/fd"
            links = []
            for fd in os.listdir(fd_dir):
                try:
                    links.append(os.readlink(os.path.join(fd_dir, fd)))
                except OSError:
                    pass
            return sum(1 for link in links if "eventpoll" in link)

    def test_poll_backend_has_no_epoll_instance(self):
        self.assertEqual(self.epoll_fds("poll"), 0)

    def test_epoll_backend_has_epoll_instances(self):
        self.assertGreaterEqual(self.epoll_fds("epoll"), 1)


class TestMakeFuzzStopsOnACompileError(unittest.TestCase):
    """`make fuzz` with a `swiftc` that fails at once (a stand-in first on PATH, so this takes a
    second, not the minutes a sanitizer build takes): make must stop at that compile line with
    swiftc's message, not go on to the next target or run a fuzzer binary."""

    def test_a_failing_compile_stops_make_fuzz(self):
        root = os.path.dirname(os.path.dirname(HERE))
        with tempfile.TemporaryDirectory() as d:
            fake = os.path.join(d, "swiftc")
            with open(fake, "w") as f:
                f.write("#!/bin/sh\necho 'error: stand-in compile error' >&2\nexit 1\n")
            os.chmod(fake, 0o755)
            env = dict(os.environ, PATH=d + os.pathsep + os.environ.get("PATH", ""))
            p = subprocess.run(["make", "-C", root, "fuzz", "FUZZ_SECONDS=1"], env=env, timeout=120,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.assertNotEqual(p.returncode, 0, p.stdout[-2000:])
        self.assertIn("error: stand-in compile error", p.stderr, "swiftc's message reaches the user")
        self.assertNotIn(".build/fuzz/websocket", p.stdout, "make went on past the failed compile:\n" + p.stdout[-2000:])
        self.assertNotIn("-max_total_time", p.stdout, "a fuzzer ran although its target did not compile")
