// The byte ledger: where every byte of a transport went (issue 8, "a byte ledger"). Each client
// sorts the bytes it wrote and read as it handles them:
//
//   handshake   what opening a stream costs once: the SSE request and its response head (and a
//               `retry:` block), the WebSocket upgrade request and its 101
//   headers     what every polling exchange costs: the request and the response head
//   payload     the event JSON itself, the same bytes on every transport (PROTOCOL.md §1)
//   heartbeats  SSE `: hb` comments, WebSocket pings and our pongs
//   framing     the rest of the TCP payload: chunk-size lines, SSE field names, WebSocket frame
//               headers and close frames, the polling body's {"events":[...],"next":..} wrapper
//   tcpip       IP and TCP headers of every segment (see TCPOverhead), ACKs and SYN/FIN included
//
// framing is what is left of the payload bytes counted at the socket once the others are taken
// out, so the six always sum to the wire total exactly; the tests check that framing is what
// the framing rules predict (e.g. 2 bytes per small WebSocket frame).

import WireCodec

public struct ByteLedger: Equatable {
    public var handshake = 0.0
    public var headers = 0.0
    public var framing = 0.0
    public var payload = 0.0
    public var heartbeats = 0.0
    public var tcpip = 0.0
    public init() {}

    public var total: Double { handshake + headers + framing + payload + heartbeats + tcpip }

    /// The ledger of one transport's totals.
    public init(_ c: ClientCounts) {
        handshake = Double(c.handshakeUp + c.handshakeDown)
        headers = Double(c.headersUp + c.headersDown)
        payload = Double(c.payloadUp + c.payloadDown)
        heartbeats = Double(c.heartbeatUp + c.heartbeatDown)
        framing = Double(c.bytesUp + c.bytesDown) - handshake - headers - payload - heartbeats
        tcpip = Double(c.headerBytesUp + c.headerBytesDown)
    }

    public func divided(by n: Double) -> ByteLedger {
        var l = self
        l.handshake /= n; l.headers /= n; l.framing /= n; l.payload /= n; l.heartbeats /= n; l.tcpip /= n
        return l
    }

    /// (name, value) in the order the tables print them.
    public var parts: [(String, Double)] {
        [("handshake", handshake), ("headers", headers), ("framing", framing), ("payload", payload),
         ("heartbeats", heartbeats), ("tcpip", tcpip)]
    }
}

/// TCP/IP header bytes of one connection, from the kernel's segment counts (TCP_INFO
/// `tcpi_segs_out` / `tcpi_segs_in`, read just before the socket is closed) plus what happens
/// after that read. Checked against a packet capture on loopback (tcpdump, every transport, and
/// the lingering closes of SSE, long polling and HTTP/2): the estimate equals the capture's IP
/// bytes to the byte.
public enum TCPOverhead {
    /// IPv4 20 + TCP 20 + 12 of timestamp option (Linux's default, RFC 7323 §3) = 52; IPv6 72.
    public static func perSegment(ipv6: Bool) -> Int { (ipv6 ? 40 : 20) + 32 }
    /// SYN and SYN-ACK carry MSS (4), SACK-permitted (2), timestamps (10), NOP (1) and window
    /// scale (3): 20 bytes of options (RFC 9293 §3.2), 8 more than a data segment's 12.
    public static let synExtra = 8

    /// How a connection ended, which decides the segments still to come after TCP_INFO was read
    /// (RFC 9293 §3.6).
    public enum Close: Equatable {
        /// We close with both directions open: our FIN, then the peer's FIN-ACK and our last ACK
        /// (FIN-WAIT-1 → TIME-WAIT): 2 out, 1 in.
        case weCloseFirst
        /// The peer's FIN came first and we already ACKed it: our FIN and the peer's ACK
        /// (CLOSE-WAIT → LAST-ACK): 1 out, 1 in.
        case peerClosedFirst
        /// We half-closed (shutdown SHUT_WR: our FIN is already counted) and read until the
        /// peer's FIN, which our kernel ACKed as it arrived: nothing follows. 0, 0.
        case halfClosedThenPeerClosed
        /// We half-closed but the peer's FIN never came in time: it and our ACK follow. 1, 1.
        case halfClosedPeerSilent

        init(halfClosed: Bool, peerClosed: Bool) {
            switch (halfClosed, peerClosed) {
            case (false, false): self = .weCloseFirst
            case (false, true): self = .peerClosedFirst
            case (true, true): self = .halfClosedThenPeerClosed
            case (true, false): self = .halfClosedPeerSilent
            }
        }
    }

    /// Segments each way after TCP_INFO was read.
    public static func teardown(_ close: Close) -> (out: Int, in: Int) {
        switch close {
        case .weCloseFirst: return (2, 1)
        case .peerClosedFirst: return (1, 1)
        case .halfClosedThenPeerClosed: return (0, 0)
        case .halfClosedPeerSilent: return (1, 1)
        }
    }

    /// Header bytes up and down for a connection that made `segsOut`/`segsIn` segments before
    /// the TCP_INFO read.
    public static func headerBytes(segsOut: Int, segsIn: Int, ipv6: Bool, close: Close) -> (up: Int, down: Int) {
        let h = perSegment(ipv6: ipv6)
        let t = teardown(close)
        return ((segsOut + t.out) * h + synExtra, (segsIn + t.in) * h + synExtra)
    }
}

extension HTTPResponseHeadValue {
    /// The bytes of this head as our server writes it: status line, `Name: value` lines, blank line.
    var wireCount: Int {
        var n = 9 + 3 + 1 + reason.utf8.count + 2 + 2       // "HTTP/1.1 " status " " reason CRLF ... CRLF
        for f in headers { n += f.name.utf8.count + 2 + f.value.utf8.count + 2 }
        return n
    }
}

extension EventScanner {
    /// Bytes of the event objects in a polling body {"events":[e1,e2,...],"next":M,"missed":K}:
    /// the array's contents minus the commas between events.
    static func eventBytes(_ body: [UInt8], events: Int) -> Int {
        guard events > 0, body.count > 11 else { return 0 }
        let close = Array("],\"next\":".utf8)
        var i = body.count - close.count
        while i > 11 {
            if body[i] == close[0] && Array(body[i..<(i + close.count)]) == close { return i - 11 - (events - 1) }
            i -= 1
        }
        return 0
    }
}
