"""The runner itself: a green run means every test ran. A skipped test and a missing peer both
make `run_all.py` exit 1 (the runner is started here on a small selection of tests).
"""
import os
import subprocess
import sys
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
