"""The classroom page in a real browser: headless Chromium, driven by selenium.

Run on its own:
    WIRELAB_BIN=.build/debug/wirelab python3 -m unittest Tests/Interop/test_browser.py

Each test starts its own `wirelab serve --port 0 --rate 5` and stops it with SIGTERM.
The page exposes `data-testid` attributes for everything read here; numbers carry their exact
value in `data-value`.
"""
import json
import os
import signal
import subprocess
import sys
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chromium_log import ChromiumNetworkLog  # noqa: E402

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
    HAVE_SELENIUM = True
except ImportError:  # the plain-HTTP tests still run
    HAVE_SELENIUM = False

BIN = os.environ.get("WIRELAB_BIN", ".build/debug/wirelab")
CHROMIUM = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER_BIN", "/usr/bin/chromedriver")
TRANSPORTS = ("poll", "longpoll", "sse", "ws")
SCREENSHOT_DIR = os.path.join(".build", "screenshots")
# The request heads Chromium sends for fetch(), EventSource and WebSocket, recorded by
# test_chromium_network_log_holds_page_and_server_counts for `race --headers browser`.
# WIRELAB_UPDATE_BROWSER_HEADERS=1 rewrites it from the Chromium that runs the test.
BROWSER_HEADERS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "browser_headers.json")


class ServerProcess:
    """`wirelab serve --port 0 ...` as a child process; reads the URL from its first line."""

    def __init__(self, *args, port=0):
        selector = os.environ.get("WIRELAB_SELECTOR")       # run_all.py --selector poll
        if selector and "--selector" not in args:
            args += ("--selector", selector)
        self.proc = subprocess.Popen(
            [BIN, "serve", "--host", "127.0.0.1", "--port", str(port), *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        prefix = "wirelab listening on "
        if not line.startswith(prefix):
            self.stop()
            raise RuntimeError("unexpected first line from wirelab serve: %r" % line)
        self.url = line[len(prefix):].rstrip("/")

    def get(self, path):
        with urllib.request.urlopen(self.url + path, timeout=10) as r:
            return r.status, r.read()

    def json(self, path):
        return json.loads(self.get(path)[1])

    def post(self, path, body, content_type="application/json"):
        request = urllib.request.Request(self.url + path, data=body.encode(), method="POST",
                                         headers={"Content-Type": content_type})
        try:
            with urllib.request.urlopen(request, timeout=10) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream:
                stream.close()


def wait_until(predicate, timeout, interval=0.2, message="condition"):
    """Polls `predicate` until it returns something truthy; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as e:  # the DOM may be mid-update
            last_error = e
        time.sleep(interval)
    raise AssertionError("timed out after %.0f s waiting for %s (last error: %r)" % (timeout, message, last_error))


def new_driver():
    options = Options()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,800",
                "--disable-gpu", "--no-first-run", "--disable-background-timer-throttling",
                "--disable-renderer-backgrounding", "--disable-backgrounding-occluded-windows"):
        options.add_argument(arg)
    # "performance": Chromium's DevTools Network events, the browser's own record of the traffic.
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def set_viewport(driver, width=1280, height=800):
    """--window-size sets the outer window; make the page itself (the viewport) width x height."""
    dw, dh = driver.execute_script(
        "return [window.outerWidth - window.innerWidth, window.outerHeight - window.innerHeight]")
    driver.set_window_size(width + dw, height + dh)


class PageReader:
    """Reads the classroom page's numbers through its data-testid attributes."""

    def __init__(self, driver):
        self.driver = driver

    def panel(self, transport):
        return self.driver.find_element(By.CSS_SELECTOR, '[data-testid="panel-%s"]' % transport)

    def value(self, transport, field):
        node = self.panel(transport).find_element(By.CSS_SELECTOR, '[data-testid="%s"]' % field)
        return int(node.get_attribute("data-value"))

    def numbers(self, transport):
        return {f: self.value(transport, f) for f in ("events", "requests", "bytes-in", "bytes-out")}

    def page_id(self):
        return self.driver.find_element(By.TAG_NAME, "body").get_attribute("data-page-id")

    def chat_texts(self, transport):
        items = self.panel(transport).find_elements(By.CSS_SELECTOR, '[data-testid="chat-message"]')
        return [i.text for i in items]

    def all_panels_have_events(self):
        return all(self.value(t, "events") > 0 for t in TRANSPORTS)


class ClassroomPageTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # `make test` installs Chromium, chromedriver and selenium: a missing one is a failure,
        # not a skip (a skip would let CI pass without the browser ever opening the page).
        # WIRELAB_SKIP_BROWSER=1 skips on purpose, e.g. on a machine without a display stack.
        if os.environ.get("WIRELAB_SKIP_BROWSER") == "1":
            raise unittest.SkipTest("WIRELAB_SKIP_BROWSER=1")
        assert HAVE_SELENIUM, "selenium is not installed (make test installs it)"
        assert os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER), \
            f"{CHROMIUM} or {CHROMEDRIVER} missing (make test installs them)"

    def setUp(self):
        self.server = ServerProcess("--rate", "5")
        self.drivers = []

    def tearDown(self):
        for d in self.drivers:
            try:
                d.quit()
            except Exception:
                pass
        self.server.stop()

    def open_page(self, path="/"):
        driver = new_driver()
        self.drivers.append(driver)
        driver.get(self.server.url + path)
        set_viewport(driver)
        return driver

    def wait_for_events(self, reader):
        wait_until(reader.all_panels_have_events, 20, message="events in all four panels")

    def assert_no_console_errors(self, driver, allow_network=False):
        """No SEVERE console entries; with allow_network, the browser's own reports of refused or
        broken connections (a server restart) are expected, script errors still are not."""
        severe = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"
                  and not (allow_network and e.get("source") == "network")]
        self.assertEqual(severe, [], "browser console errors")

    def test_chromium_network_log_holds_page_and_server_counts(self):
        """Three sides, each counting for itself: the page (its own event and request counters),
        the server (/stats?client=...) and Chromium's network stack (DevTools Network events).
        The page's byte numbers come from /stats, so only Chromium can vouch for the bytes."""
        self.server.stop()
        self.server = ServerProcess("--rate", "5", "--heartbeat", "600")   # no pings: DevTools cannot see them
        driver = self.open_page()
        reader = PageReader(driver)
        log = ChromiumNetworkLog(driver)
        self.wait_for_events(reader)
        page_id = reader.page_id()
        self.assertTrue(page_id)
        name = {t: "page-%s-%s" % (t, page_id) for t in TRANSPORTS}
        status, _ = self.server.post("/control", '{"rate":0}')
        self.assertEqual(status, 200)

        def agree(transports):
            """Chromium's counts equal the server's for these transports (retried: the last
            answer may still be on its way)."""
            log.pull()
            chromium = log.counts()
            stats = self.server.json("/stats")["clients"]
            mine = {t: chromium.get(name[t]) for t in transports}
            server = {t: {k: stats.get(name[t], {}).get(k) for k in ("requests", "bytes_in", "bytes_out")}
                      | {"events": stats.get(name[t], {}).get("events_sent")} for t in transports}
            agree.last = (mine, server)
            return mine == server

        # The WebSocket while it is open (its close frames are invisible to DevTools), quiesced.
        try:
            wait_until(lambda: agree(["ws"]), 15, message="Chromium's WebSocket counts to equal the server's")
        except AssertionError:
            mine, server = agree.last
            self.assertEqual(mine, server, "Chromium's network log vs the server's /stats (WebSocket)")
        # Then pause the page: the fetches and the EventSource end, nothing is in flight.
        driver.find_element(By.CSS_SELECTOR, '[data-testid="pause"]').click()
        wait_until(lambda: driver.find_element(By.TAG_NAME, "body").get_attribute("data-settled") == "true",
                   10, message="the page to settle after pause")
        try:
            wait_until(lambda: agree(["poll", "longpoll", "sse"]), 15, message="Chromium's HTTP counts to equal the server's")
        except AssertionError:
            mine, server = agree.last
            self.assertEqual(mine, server, "Chromium's network log vs the server's /stats")
        chromium = log.counts()
        for t in TRANSPORTS:
            with self.subTest(transport=t):
                c = chromium[name[t]]
                self.assertGreater(c["events"], 0)
                self.assertGreater(c["bytes_out"], 0)
                # The page's own counters, held by what Chromium saw on the network.
                self.assertEqual(reader.value(t, "events"), c["events"], "events the page counted vs Chromium")
                self.assertEqual(reader.value(t, "requests"), c["requests"], "requests the page counted vs Chromium")
        decoded, parsed = log.sse_body_bytes[name["sse"]]
        self.assertEqual(decoded, parsed, "SSE body bytes Chromium received vs the blocks it parsed")
        self.assertEqual(chromium[name["ws"]]["requests"], 1)
        self.assertEqual(chromium[name["sse"]]["requests"], 1)
        self.check_browser_headers(log.request_heads)
        self.assert_no_console_errors(driver)
        os.makedirs(SCREENSHOT_DIR, exist_ok=True)
        driver.save_screenshot(os.path.join(SCREENSHOT_DIR, "classroom.png"))

    def check_browser_headers(self, heads):
        """Records (or checks) the request heads Chromium sends: fetch (/poll), EventSource (/sse),
        WebSocket (/ws). Host, port and per-page values vary; the header names and order must not."""
        port = self.server.url.rsplit(":", 1)[1]
        observed = {}
        for transport, api in (("poll", "fetch"), ("sse", "EventSource"), ("ws", "WebSocket")):
            self.assertIn(transport, heads, "no %s request seen by Chromium" % transport)
            line, headers = heads[transport]
            observed[api] = {
                "request_line": line.split("?")[0] + "?client=page-%s-ID HTTP/1.1" % transport,
                "headers": ["%s: %s" % (k, v.replace(port, "8080")) for k, v in headers],
            }
        observed["note"] = ("Request heads headless Chromium sends from the classroom page, from its DevTools "
                            "Network events (Tests/Interop/test_browser.py); the port is shown as 8080. "
                            "fetch/EventSource header order is DevTools' (the bytes do not depend on it); "
                            "WebSocket order is the wire order. Regenerate with WIRELAB_UPDATE_BROWSER_HEADERS=1.")
        if os.environ.get("WIRELAB_UPDATE_BROWSER_HEADERS") == "1" or not os.path.exists(BROWSER_HEADERS):
            with open(BROWSER_HEADERS, "w") as f:
                json.dump(observed, f, indent=2)
                f.write("\n")
        with open(BROWSER_HEADERS) as f:
            recorded = json.load(f)
        for api in ("fetch", "EventSource", "WebSocket"):
            with self.subTest(api=api):
                names = lambda hs: [h.split(":", 1)[0].lower() for h in hs]
                self.assertEqual(names(recorded[api]["headers"]), names(observed[api]["headers"]),
                                 "%s: Chromium now sends other headers than browser_headers.json records "
                                 "(WIRELAB_UPDATE_BROWSER_HEADERS=1 rewrites it)" % api)

    def test_page_survives_a_server_restart_and_misses_nothing(self):
        """The server stops and a new one starts on the same port, counting from id 1 again
        (PROTOCOL.md §2: a `since` beyond the latest id means a restart). Every panel reconnects
        on its own and receives every event of the new server: its own counters say so, and
        Chromium's network log shows each id once per transport."""
        self.server.stop()
        self.server = ServerProcess("--rate", "0", "--heartbeat", "600")
        port = self.server.url.rsplit(":", 1)[1]
        driver = self.open_page()
        reader = PageReader(driver)
        log = ChromiumNetworkLog(driver)
        page_id = wait_until(reader.page_id, 10, message="the page's id")

        def connected():
            """Every panel has asked (or subscribed): events published now reach all four."""
            clients = self.server.json("/stats")["clients"]
            return all(clients.get("page-%s-%s" % (t, page_id), {}).get("requests", 0) >= 1 for t in TRANSPORTS)
        wait_until(connected, 20, message="every panel connected")
        for i in range(3):
            self.server.post("/publish", '{"data":"before %d"}' % i)
        wait_until(lambda: all(reader.value(t, "events") == 3 for t in TRANSPORTS), 20,
                   message="3 events in every panel before the restart")
        log.pull()
        before = len(log.messages)

        self.server.stop()
        for attempt in range(50):           # the port is free again once the old server is gone
            try:
                self.server = ServerProcess("--rate", "0", "--heartbeat", "600", port=port)
                break
            except RuntimeError:
                time.sleep(0.1)
        else:
            self.fail("could not restart the server on port %s" % port)

        # Publish on the new server only once every panel is connected to it, so "nothing
        # missed" is well defined: each has asked (or subscribed) with its old position.
        wait_until(connected, 30, message="every panel reconnected to the new server")
        for i in range(4):
            self.server.post("/publish", '{"data":"after %d"}' % i)
        wait_until(lambda: all(reader.value(t, "events") == 7 for t in TRANSPORTS), 30,
                   message="all 4 new events in every panel (last: %r)" % ({t: reader.value(t, "events") for t in TRANSPORTS},))
        for t in TRANSPORTS:
            with self.subTest(transport=t):
                self.assertEqual(reader.value(t, "missed"), 0, "the page saw a gap in ids")

        # Chromium's side: the ids each transport received after the restart, from the wire.
        log.pull()
        after = log.messages[before:]
        ids = {t: [] for t in TRANSPORTS}
        urls = {}
        sse_last_ids = {}     # the SSE panel's reconnects: the browser's own, with Last-Event-ID
        for m in after:
            p = m["params"]
            if m["method"] == "Network.requestWillBeSent":
                urls[p["requestId"]] = p["request"]["url"]
                if "/sse?" in p["request"]["url"] and "client=page-sse-" in p["request"]["url"]:
                    heads = {k.lower(): v for k, v in p["request"].get("headers", {}).items()}
                    sse_last_ids[p["requestId"]] = heads.get("last-event-id")
            elif m["method"] == "Network.requestWillBeSentExtraInfo":
                pass    # joined below, for any request id: it may come before requestWillBeSent
            elif m["method"] == "Network.webSocketCreated":
                urls[p["requestId"]] = p["url"]
            # Only the four transport panels' own connections: the auto panel (PROTOCOL.md §8)
            # holds a WebSocket of its own, tagged client=page-auto-..., which is not counted here.
            elif m["method"] == "Network.webSocketFrameReceived" and '"id":' in p["response"]["payloadData"]:
                if "client=page-ws-" in urls.get(p["requestId"], ""):
                    ids["ws"].append(json.loads(p["response"]["payloadData"])["id"])
            elif m["method"] == "Network.eventSourceMessageReceived":
                if "client=page-sse-" in urls.get(p["requestId"], ""):
                    ids["sse"].append(int(p["eventId"]))
            elif m["method"] == "Network.loadingFinished":
                url = urls.get(p["requestId"], "")
                for t in ("longpoll", "poll"):
                    if "/%s?" % t in url and "client=page-%s-" % t in url:
                        ids[t] += [e["id"] for e in json.loads(log._body(p["requestId"]))["events"]]
                        break
        for t in TRANSPORTS:
            with self.subTest(transport=t):
                self.assertEqual(ids[t], [1, 2, 3, 4], "%s: the new server's events, each once, in order" % t)
        # EventSource reconnected by itself, saying where it stopped (the old server's id 3); the
        # new server, behind that id, replayed from its start (PROTOCOL.md §2).
        self.assertTrue(sse_last_ids, "no SSE reconnect in Chromium's log")
        # The header is in requestWillBeSentExtraInfo, which Chromium's network service sends
        # out of step with the renderer's events: before requestWillBeSent, or later than the
        # stream's first messages (seen on a loaded machine). Join it from any place in the log,
        # and wait for it: a reconnect that really sent no Last-Event-ID still fails below.
        def joined_last_ids():
            log.pull()
            for m in log.messages[before:]:
                rid = m["params"].get("requestId")
                if m["method"] == "Network.requestWillBeSentExtraInfo" and rid in sse_last_ids and sse_last_ids[rid] is None:
                    heads = {k.lower(): v for k, v in m["params"].get("headers", {}).items()}
                    sse_last_ids[rid] = heads.get("last-event-id")
            return all(v is not None for v in sse_last_ids.values())
        try:
            wait_until(joined_last_ids, 15, interval=0.5, message="every SSE reconnect's headers in Chromium's log")
        except AssertionError:
            pass    # the assertion below says which reconnect lacks it
        self.assertEqual(set(sse_last_ids.values()), {"3"}, "Last-Event-ID of the SSE panel's reconnects: %r" % [(urls[r], v) for r, v in sse_last_ids.items()])
        self.assert_no_console_errors(driver, allow_network=True)

    def test_sse_panel_lets_the_browser_reconnect_with_last_event_id(self):
        """WHATWG HTML §9.2: when an event stream drops, EventSource reconnects by itself after the
        stream's reconnection time (`serve --sse-retry 200` sends `retry: 200`) and sends the last
        id it saw as `Last-Event-ID`; the server replays what came after it (PROTOCOL.md §2). The
        page must leave that to the browser: every reconnect is the same URL (no `since=` of a
        new EventSource), carries Last-Event-ID equal to the last id received, and the ids that
        Chromium received across the cuts run on with no gap and no repeat."""
        from wirelab_proxy import WirelabProxy
        self.server.stop()
        self.server = ServerProcess("--rate", "5", "--sse-retry", "200", "--heartbeat", "600")
        # `wirelab proxy --cut-every 5` closes every connection it carries every 5 s: a restart
        # or failover on the path, while the server keeps its history. Chromium starts first, so
        # that the page loads right after the proxy starts, well before its first cut.
        driver = new_driver()
        self.drivers.append(driver)
        with WirelabProxy(self.server.url, "--cut-every", "5") as proxy:
            driver.get(proxy.base + "/")
            reader = PageReader(driver)
            log = ChromiumNetworkLog(driver)
            page_id = wait_until(reader.page_id, 10, message="the page's id")
            tag = "client=page-sse-" + page_id
            messages = []

            def stream_history():
                """[(request url, Last-Event-ID or None, [ids received on it])] in request order."""
                messages.extend(log.pull().messages[len(messages):])
                order, urls, last_ids, ids = [], {}, {}, {}
                for m in messages:
                    p, rid = m["params"], m["params"].get("requestId")
                    if m["method"] == "Network.requestWillBeSent" and "/sse?" in p["request"]["url"] \
                            and tag in p["request"]["url"]:
                        order.append(rid)
                        urls[rid] = p["request"]["url"]
                        ids[rid] = []
                        heads = {k.lower(): v for k, v in p["request"].get("headers", {}).items()}
                        if "last-event-id" in heads:
                            last_ids[rid] = heads["last-event-id"]
                    elif m["method"] == "Network.requestWillBeSentExtraInfo":
                        # The network service sends this one, and not in step with the renderer's
                        # events: it may come before requestWillBeSent or after the stream's first
                        # messages (seen on a loaded machine). Kept for any request, joined below.
                        heads = {k.lower(): v for k, v in p.get("headers", {}).items()}
                        if "last-event-id" in heads:
                            last_ids[rid] = heads["last-event-id"]
                    elif m["method"] == "Network.eventSourceMessageReceived" and rid in ids:
                        ids[rid].append(int(p["eventId"]))
                return [(urls[r], last_ids.get(r), ids[r]) for r in order]

            def two_resumed_streams():
                # Two reconnects that each carried events, and what Chromium says it sent for
                # each (a reconnect with no Last-Event-ID at all keeps this waiting, then fails).
                h = stream_history()
                done = len(h) >= 3 and len(h[-1][2]) >= 2 and all(lid is not None for _, lid, _ in h[1:])
                return h if done else None
            try:
                history = wait_until(two_resumed_streams, 45, interval=0.5,
                                     message="the SSE stream cut twice and resumed")
            except AssertionError as e:
                raise AssertionError("%s; SSE requests so far (url, Last-Event-ID, ids): %r"
                                     % (e, stream_history())) from None

            first_url = history[0][0]
            received = []
            for k, (url, last_event_id, ids) in enumerate(history):
                with self.subTest(request=k):
                    self.assertEqual(url, first_url, "a reconnect opened a new EventSource instead of the browser's own")
                    if k == 0:
                        self.assertIsNone(last_event_id, "the first request has no Last-Event-ID")
                    else:
                        self.assertEqual(last_event_id, str(received[-1]),
                                         "the reconnect's Last-Event-ID is the last id Chromium received")
                received += ids
            self.assertNotIn("since=", first_url, "no since= on the panel's first connect")
            self.assertEqual(received, list(range(received[0], received[0] + len(received))),
                             "ids across the reconnects: each once, in order, none missed")
            self.assertEqual(reader.value("sse", "missed"), 0, "the page saw a gap in ids")
            self.assert_no_console_errors(driver, allow_network=True)

    def auto_path(self, driver):
        node = driver.find_element(By.CSS_SELECTOR, '[data-testid="panel-auto"] [data-testid="path"]')
        return node.get_attribute("data-value")

    def test_auto_panel_stays_on_websocket_directly_and_falls_back_to_sse_through_strip_upgrade(self):
        # PROTOCOL.md §8: the fifth panel negotiates ws, then sse, then long polling, then polling.
        from wirelab_proxy import WirelabProxy
        reader = PageReader(self.open_page())
        wait_until(lambda: reader.value("auto", "events") > 0, 20, message="events in the auto panel")
        self.assertEqual(self.auto_path(reader.driver), "ws")

        # Through a proxy that removes Upgrade, the server answers the WebSocket handshake with
        # 426: the browser never opens the socket, and the panel moves on to SSE.
        with WirelabProxy(self.server.url, "--strip-upgrade") as proxy:
            driver = new_driver()
            self.drivers.append(driver)
            driver.get(proxy.base + "/")
            through = PageReader(driver)
            wait_until(lambda: self.auto_path(driver) == "ws>sse", 20, message="the auto panel to fall back to sse")
            before = through.value("auto", "events")
            wait_until(lambda: through.value("auto", "events") > before, 20, message="events on the sse step")
            self.assertEqual(through.value("auto", "missed"), 0)
            for d in (driver,):
                d.quit()
            self.drivers.remove(driver)

    def test_every_panel_backs_off_exponentially_with_full_jitter(self):
        # PROTOCOL.md §8: 100 ms doubling to at most 5 s; the wait uniform in [0, that].
        driver = self.open_page()
        windows = driver.execute_script(
            "const b = new Backoff(100, 5000, () => 1);"
            "return Array.from({length: 9}, () => b.next());")
        self.assertEqual(windows, [100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000])
        low = driver.execute_script("const b = new Backoff(100, 5000, () => 0); b.next(); b.next(); return b.next();")
        self.assertEqual(low, 0)
        reset = driver.execute_script("const b = new Backoff(100, 5000, () => 1); b.next(); b.next(); b.reset(); return b.next();")
        self.assertEqual(reset, 100)
        # Every transport of the page, the auto panel's steps included, uses that policy.
        # (Wait until every panel has started: the auto panel makes its first step on start.)
        script = "return Object.values(transports).map(t => (t.step || t).backoff).map(b => b ? [b.firstMs, b.capMs] : null);"
        policies = wait_until(lambda: (lambda p: p if None not in p else None)(driver.execute_script(script)), 10,
                              message="every panel started")
        self.assertEqual(policies, [[100, 5000]] * 5)

    def test_teacher_view_counts_two_browsers_per_transport(self):
        first = self.open_page()
        second = self.open_page()
        for d in (first, second):
            self.wait_for_events(PageReader(d))
        teacher = self.open_page("/classroom")

        def counts():
            return {t: int(teacher.find_element(
                By.CSS_SELECTOR, '[data-testid="teacher-%s"] [data-testid="browsers"]' % t).get_attribute("data-value"))
                for t in TRANSPORTS}

        wait_until(lambda: counts() == {t: 2 for t in TRANSPORTS}, 15,
                   message="2 browsers per transport in the teacher view (last: %r)" % (counts(),))
        total = int(teacher.find_element(By.CSS_SELECTOR, '[data-testid="teacher-browsers"]').get_attribute("data-value"))
        self.assertEqual(total, 2)
        requests = int(teacher.find_element(
            By.CSS_SELECTOR, '[data-testid="teacher-poll"] [data-testid="requests"]').get_attribute("data-value"))
        self.assertGreater(requests, 0)
        os.makedirs(SCREENSHOT_DIR, exist_ok=True)
        teacher.save_screenshot(os.path.join(SCREENSHOT_DIR, "teacher.png"))
        for d in self.drivers:
            self.assert_no_console_errors(d)

    def test_messages_sent_through_ws_and_http_reach_all_panels_as_chat(self):
        driver = self.open_page()
        reader = PageReader(driver)
        self.wait_for_events(reader)
        box = driver.find_element(By.CSS_SELECTOR, '[data-testid="message-input"]')
        via = Select(driver.find_element(By.CSS_SELECTOR, '[data-testid="message-via"]'))
        send = driver.find_element(By.CSS_SELECTOR, '[data-testid="message-send"]')
        messages = {"ws": "hello over the websocket", "poll": "hello over POST /publish"}
        for transport, text in messages.items():
            via.select_by_value(transport)
            box.clear()
            box.send_keys(text)
            send.click()
            wait_until(lambda: box.get_attribute("value") == "", 5, message="the message to be sent")

        def everywhere():
            return all(any(m in c for c in reader.chat_texts(t)) for t in TRANSPORTS for m in messages.values())

        wait_until(everywhere, 10, message="both chat messages in all four panels")
        self.assert_no_console_errors(driver)

    def test_control_from_the_page_changes_the_rate(self):
        driver = self.open_page()
        reader = PageReader(driver)
        self.wait_for_events(reader)
        rate = driver.find_element(By.CSS_SELECTOR, '[data-testid="rate-input"]')
        rate.clear()
        rate.send_keys("40")
        driver.find_element(By.CSS_SELECTOR, '[data-testid="apply-control"]').click()
        status = driver.find_element(By.CSS_SELECTOR, '[data-testid="control-status"]')
        wait_until(lambda: "40 events/s" in status.text, 5, message="the server's answer on the page")

        # The generator's own timestamps say the rate: at 40/s ticks are 25 ms apart on the
        # server's clock (200 ms at the old 5/s). Waiting for 20 ticks, not sleeping a fixed
        # time and counting, keeps a busy machine from failing this.
        start = self.server.json("/poll")["next"]
        wait_until(lambda: self.server.json("/poll")["next"] >= start + 21, 30, 0.05, message="20 more ticks")
        ticks = [e for e in self.server.json("/poll?since=%d&limit=20" % (start + 1))["events"] if e["topic"] == "tick"]
        self.assertEqual(len(ticks), 20)
        spacing_ms = (ticks[-1]["ts"] - ticks[0]["ts"]) / 1000 / (len(ticks) - 1)
        self.assertLess(spacing_ms, 100, "mean tick spacing %.1f ms: not 40/s (25 ms); 5/s would be 200 ms" % spacing_ms)
        self.assert_no_console_errors(driver)


class ControlOverHTTPTests(unittest.TestCase):
    """POST /control without a browser."""

    def setUp(self):
        self.server = ServerProcess("--rate", "5")

    def tearDown(self):
        self.server.stop()

    def test_control_from_loopback_needs_no_token(self):
        status, body = self.server.post("/control", '{"rate":3,"size":16}')
        self.assertEqual(status, 200)
        self.assertEqual(body, {"rate": 3, "size": 16})

    # The 403 for a caller that is not on loopback without the token is tested in
    # Tests/WireServerTests (ServerIntegrationTests.testControlNeedsLoopbackOrTheToken), where
    # the server can be told to treat loopback as remote; these tests only reach 127.0.0.1.


if __name__ == "__main__":
    unittest.main()
