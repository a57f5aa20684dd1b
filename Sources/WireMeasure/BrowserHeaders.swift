// Which request headers race's clients send (`race --headers minimal|browser`, issue 8 finding 4).
//
// `minimal` is what a small client needs and nothing more (~100 B per poll request). A browser
// sends about five times that on every request: the figures a lesson prints for a poll are a
// lower bound unless it says which set it used. `browser` replays the fields Chromium sends for
// `fetch()` (short and long polls), `EventSource` (SSE) and `new WebSocket()` from a same-origin
// page, in Chromium's order.
//
// How these were recorded: Chromium 156.0.8078.108 (Debian 12), headless
// (`chromium --headless=new --dump-dom http://127.0.0.1:PORT/`), loading a page from a 40-line
// Python socket server that logged every request head verbatim; the page ran
// `fetch('/poll?since=0')`, `new EventSource('/sse')` and `new WebSocket('ws://HOST/ws')`.
// Host, Origin and Referer are filled in for the server raced; the key of a WebSocket upgrade
// is fresh each time, as in any client. A desktop (not headless) Chromium's User-Agent says
// "Chrome/" where this one says "HeadlessChrome/": 8 bytes less. To re-record, run the page
// test of Tests/Interop/test_browser.py with a logging server and paste the fields here.

public enum RequestHeaderSet: String, CaseIterable, Equatable {
    case minimal, browser

    /// The fields sent besides `Host` and, for WebSocket, the four the upgrade needs
    /// (Upgrade, Connection, Sec-WebSocket-Key, Sec-WebSocket-Version).
    public func fields(for transport: RaceTransport, hostHeader: String) -> [(String, String)] {
        switch (self, transport) {
        case (.minimal, .poll), (.minimal, .longpoll):
            return [("Accept", "application/json")]
        case (.minimal, .sse):
            return [("Accept", "text/event-stream"), ("Cache-Control", "no-cache")]
        case (.minimal, .ws):
            return []
        case (.browser, .poll), (.browser, .longpoll):
            return [("Connection", "keep-alive"), ("sec-ch-ua-platform", BrowserHeaders.platform),
                    ("User-Agent", BrowserHeaders.userAgent), ("sec-ch-ua", BrowserHeaders.brands),
                    ("sec-ch-ua-mobile", "?0"), ("Accept", "*/*"), ("Sec-Fetch-Site", "same-origin"),
                    ("Sec-Fetch-Mode", "cors"), ("Sec-Fetch-Dest", "empty"), ("Referer", "http://\(hostHeader)/"),
                    ("Accept-Encoding", BrowserHeaders.encodings), ("Accept-Language", BrowserHeaders.languages)]
        case (.browser, .sse):
            return [("Connection", "keep-alive"), ("Pragma", "no-cache"), ("Cache-Control", "no-cache"),
                    ("sec-ch-ua-platform", BrowserHeaders.platform), ("User-Agent", BrowserHeaders.userAgent),
                    ("Accept", "text/event-stream"), ("sec-ch-ua", BrowserHeaders.brands), ("sec-ch-ua-mobile", "?0"),
                    ("Sec-Fetch-Site", "same-origin"), ("Sec-Fetch-Mode", "cors"), ("Sec-Fetch-Dest", "empty"),
                    ("Referer", "http://\(hostHeader)/"), ("Accept-Encoding", BrowserHeaders.encodings),
                    ("Accept-Language", BrowserHeaders.languages)]
        case (.browser, .ws):
            return [("Pragma", "no-cache"), ("Cache-Control", "no-cache"), ("User-Agent", BrowserHeaders.userAgent),
                    ("Origin", "http://\(hostHeader)"), ("Accept-Encoding", BrowserHeaders.encodings),
                    ("Accept-Language", BrowserHeaders.languages),
                    ("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits")]
        case (_, .auto):
            return []       // an auto client sends nothing itself: its steps are the four above
        }
    }
}

/// The values Chromium 156 sent (see above).
public enum BrowserHeaders {
    public static let userAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36"
    public static let brands = "\"Not:A-Brand\";v=\"8\", \"Chromium\";v=\"156\""
    public static let platform = "\"Linux\""
    public static let encodings = "gzip, deflate, br, zstd"
    public static let languages = "en-US,en;q=0.9"
    /// The recorded request heads' lengths for Host 127.0.0.1:18933 (the tests rebuild them).
    public static let recordedLengths: [String: Int] = ["fetch GET /poll?since=0": 499, "EventSource GET /sse": 547,
                                                        "WebSocket GET /ws": 499]
}
