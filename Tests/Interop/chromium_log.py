"""Chromium's own record of the page's traffic: the DevTools protocol's Network events, read from
chromedriver's performance log (`goog:loggingPrefs` {"performance": "ALL"}).

The classroom page shows numbers it partly took from /stats, so comparing the page with /stats
proves nothing. These counts come from the browser's network stack instead, per page client
(`client=page-<transport>-<id>`):

- requests: `Network.requestWillBeSent` (fetch, EventSource), `Network.webSocketCreated`;
- bytes up: the request head Chromium sent (`requestWillBeSentExtraInfo` headers; for a
  WebSocket the handshake's `requestHeadersText`, in origin form as it went on the wire);
- bytes down: `Network.loadingFinished` `encodedDataLength` (head + body as received); for an
  SSE stream that never finished, the response head plus one HTTP/1.1 chunk (hex size, CRLF,
  data, CRLF: RFC 9112 §7.1) per `eventSourceMessageReceived` block, checked against the body
  bytes `dataReceived` reported (TCP may coalesce two chunks); for a WebSocket, the 101 head plus
  one RFC 6455 §5.2 frame header per `webSocketFrameReceived` payload;
- events: ids in the bodies of /poll and /longpoll answers (`Network.getResponseBody`), in
  `Network.eventSourceMessageReceived` and in `Network.webSocketFrameReceived` payloads.

Not visible to DevTools: WebSocket ping, pong and close frames, so WebSocket bytes are compared
while the socket is open and the server sends no pings (a long --heartbeat).
"""
import json
from collections import defaultdict
from urllib.parse import urlparse, parse_qs


def ws_frame_header_length(n):
    """RFC 6455 §5.2: 7-bit length up to 125, else 126 + 16 bits, else 127 + 64 bits (unmasked)."""
    return 2 if n < 126 else 4 if n < 65536 else 10


class ChromiumNetworkLog:
    def __init__(self, driver):
        self.driver = driver
        self.messages = []
        self.bodies = {}

    def pull(self):
        """Appends the log entries since the last pull (chromedriver hands each entry out once)."""
        for entry in self.driver.get_log("performance"):
            self.messages.append(json.loads(entry["message"])["message"])
        return self

    def _body(self, request_id):
        if request_id not in self.bodies:
            self.bodies[request_id] = self.driver.execute_cdp_cmd("Network.getResponseBody", {"requestId": request_id})["body"]
        return self.bodies[request_id]

    def counts(self):
        """{client name: {"requests", "bytes_in", "bytes_out", "events"}} from Chromium's side;
        also fills self.request_heads {transport: (request line, [(name, value)...])}."""
        requests, extra, responses, finished = {}, {}, {}, {}
        chunks = defaultdict(list)
        websockets, ws_heads, ws_frames = {}, {}, defaultdict(list)
        sse_messages = defaultdict(list)
        for m in self.messages:
            method, p = m["method"], m["params"]
            rid = p.get("requestId")
            if method == "Network.requestWillBeSent":
                requests[rid] = p["request"]
            elif method == "Network.requestWillBeSentExtraInfo":
                extra[rid] = p["headers"]
            elif method == "Network.responseReceived":
                responses[rid] = p["response"]
            elif method == "Network.dataReceived":
                chunks[rid].append(p["dataLength"])
            elif method == "Network.loadingFinished":
                finished[rid] = p["encodedDataLength"]
            elif method == "Network.eventSourceMessageReceived":
                sse_messages[rid].append(p)
            elif method == "Network.webSocketCreated":
                websockets[rid] = p["url"]
            elif method == "Network.webSocketHandshakeResponseReceived":
                ws_heads[rid] = p["response"]
            elif method == "Network.webSocketFrameReceived":
                ws_frames[rid].append(p["response"])

        out = defaultdict(lambda: {"requests": 0, "bytes_in": 0, "bytes_out": 0, "events": 0})
        self.request_heads = {}
        self.sse_body_bytes = {}      # client: (bytes Chromium decoded, bytes of the blocks it parsed)
        for rid, r in requests.items():
            url = urlparse(r["url"])
            client = parse_qs(url.query).get("client", [None])[0]
            if not client or not client.startswith("page-") or url.path not in ("/poll", "/longpoll", "/sse"):
                continue
            c = out[client]
            c["requests"] += 1
            line = f"{r['method']} {url.path}?{url.query} HTTP/1.1"
            headers = list(extra.get(rid, {}).items())
            self.request_heads.setdefault(url.path.strip("/"), (line, headers))
            c["bytes_in"] += len(line) + 2 + sum(len(k) + 2 + len(v) + 2 for k, v in headers) + 2
            if rid in finished:
                c["bytes_out"] += finished[rid]
                if url.path in ("/poll", "/longpoll"):
                    c["events"] += len(json.loads(self._body(rid))["events"])
            elif rid in responses:      # a stream still open (or cancelled): head + chunks
                blocks = [len(f"id: {e['eventId']}\nevent: {e['eventName']}\ndata: {e['data']}\n\n".encode())
                          for e in sse_messages[rid]]
                self.sse_body_bytes[client] = (sum(chunks[rid]), sum(blocks))
                c["bytes_out"] += responses[rid].get("encodedDataLength", 0)
                c["bytes_out"] += sum(len("%x" % n) + 2 + n + 2 for n in blocks)
                c["events"] += len({e["eventId"] for e in sse_messages[rid]})
            # else: cancelled before any answer (a parked long poll when the page paused)
        for rid, url in websockets.items():
            client = parse_qs(urlparse(url).query).get("client", [None])[0]
            if not client or not client.startswith("page-") or rid not in ws_heads:
                continue
            c = out[client]
            c["requests"] += 1
            head = ws_heads[rid]
            text = head["requestHeadersText"]
            # DevTools shows the request line in absolute form; on the wire it is origin form.
            first, rest = text.split("\r\n", 1)
            method, target, version = first.split(" ")
            parsed = urlparse(target)
            origin_form = f"{method} {parsed.path}{'?' + parsed.query if parsed.query else ''} {version}"
            self.request_heads["ws"] = (origin_form, [tuple(h.split(": ", 1)) for h in rest.split("\r\n") if h])
            c["bytes_in"] += len(origin_form) + 2 + len(rest)
            c["bytes_out"] += len(head["headersText"])
            for frame in ws_frames[rid]:
                payload = frame["payloadData"].encode()
                c["bytes_out"] += ws_frame_header_length(len(payload)) + len(payload)
                if frame["opcode"] == 1 and "\"id\":" in frame["payloadData"]:
                    c["events"] += 1
        return dict(out)
