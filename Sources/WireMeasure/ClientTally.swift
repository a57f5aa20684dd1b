// What one client counted at its own sockets (PROTOCOL.md §5), and which events it received.
//
// Byte counts come from read()/write() return values only (design rule, PROTOCOL.md: "never re-computed from
// message sizes"). Wire bytes add an estimate of the TCP/IP headers from the kernel's own
// segment counters (TCP_INFO tcpi_segs_out / tcpi_segs_in), read just before each socket is
// closed:
//
//     wire = payload + segments × (IP header + TCP header)
//          IPv4: 20 + 32 bytes (20 TCP + 12 of the timestamp option Linux sends by default)
//          IPv6: 40 + 32 bytes
//
// Segments include the handshake (SYN, SYN-ACK), pure ACKs, FIN and retransmissions — real
// packets on the wire — plus what the kernel sends after the read: the SYN options and the
// closing segments (TCPOverhead in ByteLedger.swift). Not counted: Ethernet framing (14 + 4
// bytes, plus preamble and gap on a real link) and TLS. On loopback, ACKs are often delayed and
// piggy-backed just as on a real network.

public struct ClientCounts: Equatable {
    public var bytesUp = 0
    public var bytesDown = 0
    public var requests = 0
    public var connections = 0
    public var emptyResponses = 0
    public var segmentsOut = 0
    public var segmentsIn = 0
    /// Estimated TCP/IP header bytes of the segments above (and the closing ones).
    public var headerBytesUp = 0
    public var headerBytesDown = 0
    /// The byte ledger's sorted parts (ByteLedger.swift); framing is the rest.
    public var handshakeUp = 0, handshakeDown = 0
    public var headersUp = 0, headersDown = 0
    public var payloadUp = 0, payloadDown = 0
    public var heartbeatUp = 0, heartbeatDown = 0
    /// Event messages parsed (duplicates and events from before the run included): what the
    /// payload and framing bytes were spent on.
    public var eventMessages = 0

    public init() {}

    public var wireBytesUp: Int { bytesUp + headerBytesUp }
    public var wireBytesDown: Int { bytesDown + headerBytesDown }

    public static func + (a: ClientCounts, b: ClientCounts) -> ClientCounts {
        var c = a
        c.bytesUp += b.bytesUp; c.bytesDown += b.bytesDown
        c.requests += b.requests; c.connections += b.connections
        c.emptyResponses += b.emptyResponses
        c.segmentsOut += b.segmentsOut; c.segmentsIn += b.segmentsIn
        c.headerBytesUp += b.headerBytesUp; c.headerBytesDown += b.headerBytesDown
        c.handshakeUp += b.handshakeUp; c.handshakeDown += b.handshakeDown
        c.headersUp += b.headersUp; c.headersDown += b.headersDown
        c.payloadUp += b.payloadUp; c.payloadDown += b.payloadDown
        c.heartbeatUp += b.heartbeatUp; c.heartbeatDown += b.heartbeatDown
        c.eventMessages += b.eventMessages
        return c
    }

    public var ledger: ByteLedger { ByteLedger(self) }
}

/// Which event ids a client received: a bitmap from the run's first id, so `events` (distinct),
/// `duplicates` and, once the last id is known, `missed` are exact.
///
/// `outOfOrder` (PROTOCOL.md §8) counts first receipts of an id lower than one already seen:
/// a resumption that skipped ahead and filled the gap later, or a server that sent out of
/// order. A replay of an id already seen is a duplicate, not out of order ("replays aside").
struct EventReceipts {
    private(set) var firstID = Int.max
    private var bits: [UInt64] = []
    private(set) var duplicates = 0
    private(set) var outOfOrder = 0
    private(set) var highestID = 0

    mutating func start(firstID: Int) { self.firstID = firstID }

    /// Notes `id`; true the first time it is seen within the run.
    mutating func note(_ id: Int) -> Bool {
        let previousHighest = highestID
        if id > highestID { highestID = id }
        guard id >= firstID else { return false }
        let offset = id - firstID
        let word = offset >> 6, bit = UInt64(1) << UInt64(offset & 63)
        if word >= bits.count { bits += [UInt64](repeating: 0, count: word + 1 - bits.count + 4) }
        if bits[word] & bit != 0 {
            duplicates += 1
            return false
        }
        bits[word] |= bit
        if id < previousHighest { outOfOrder += 1 }
        return true
    }

    /// Distinct ids received in firstID...lastID.
    func distinct(through lastID: Int) -> Int {
        guard lastID >= firstID else { return 0 }
        let n = lastID - firstID + 1
        var total = 0
        for (w, word) in bits.enumerated() {
            let base = w * 64
            if base >= n { break }
            if base + 64 <= n { total += word.nonzeroBitCount } else {
                let mask = (UInt64(1) << UInt64(n - base)) - 1
                total += (word & mask).nonzeroBitCount
            }
        }
        return total
    }
}
