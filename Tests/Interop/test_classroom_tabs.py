"""The instructor's kit says: each open classroom page holds 2 of the browser's six HTTP/1.1
connections per host (a long poll and an event stream), so in one browser two tabs still flow
and a third one freezes every other request on a quiet server (Lessons/INSTRUCTORS.md,
"Connections per page"). Checked here in headless Chromium.

Run on its own:
    WIRELAB_BIN=.build/debug/wirelab python3 -m unittest Tests/Interop/test_classroom_tabs.py

With `--rate 0` no long poll answers before its 25 s timeout, so while six connections are held
nothing else gets one: the short pollers' request counts stop moving.
"""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from test_browser import HAVE_SELENIUM, ServerProcess, new_driver, wait_until  # noqa: E402

if HAVE_SELENIUM:
    from selenium.webdriver.common.by import By


class ClassroomTabsTest(unittest.TestCase):
    def setUp(self):
        assert HAVE_SELENIUM, "selenium is not installed (make test installs it)"
        self.server = ServerProcess("--rate", "0")
        self.driver = new_driver()

    def tearDown(self):
        try:
            self.driver.quit()
        finally:
            self.server.stop()

    def open_tab(self, first=False):
        if not first:
            self.driver.switch_to.new_window("tab")
        self.driver.get(self.server.url + "/")
        page = wait_until(lambda: self.driver.find_element(By.TAG_NAME, "body").get_attribute("data-page-id"),
                          20, message="the page's id")
        # Its event stream and its long poll are open (each holds a connection).
        wait_until(lambda: all(self.server.json("/classroom/stats")["clients"]
                               .get("page-%s-%s" % (t, page), {}).get("open", 0) >= 1 for t in ("sse", "longpoll")),
                   20, message="tab %s's stream and long poll open" % page)
        return page

    def poll_requests(self, pages):
        clients = self.server.json("/stats")["clients"]
        return {p: clients.get("page-poll-" + p, {}).get("requests", 0) for p in pages}

    def test_two_tabs_flow_and_a_third_freezes_short_polling_on_a_quiet_server(self):
        pages = [self.open_tab(first=True), self.open_tab()]
        # Two tabs hold 4 of the six: both still poll (one request a second).
        start = self.poll_requests(pages)
        wait_until(lambda: all(n > start[p] + 1 for p, n in self.poll_requests(pages).items()),
                   20, message="both tabs polling")

        pages.append(self.open_tab())
        # Three tabs hold all six: once the requests already queued have gone, nothing more goes
        # out until a long poll times out (25 s). Let the queue drain, then watch 4 s.
        time.sleep(2)
        before = self.poll_requests(pages)
        time.sleep(4)
        after = self.poll_requests(pages)
        self.assertEqual(before, after, "short polls went out while six connections were held")


if __name__ == "__main__":
    unittest.main()
