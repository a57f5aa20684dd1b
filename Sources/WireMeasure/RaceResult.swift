// What a race found (PROTOCOL.md §5), per transport, plus how it was run.
//
// Definitions (also in `wirelab race --help`):
//   events, missed, duplicates  per client: averaged over the transport's clients (with one
//                               client, that client's counts). The run's events are the ids
//                               first...last, first = the server's latest id at the start + 1,
//                               last = its latest id at the end.
//   latency_ms                  over every first receipt of every client of the transport.
//   requests, connections, empty_responses, bytes_*, wire_bytes_*
//                               totals over the transport's clients: what the server's /stats
//                               shows for race-<transport>-1 ... race-<transport>-N together.
//   bytes_per_event             (bytes_up + bytes_down) / events delivered (events × clients).

public struct ClientReport: Equatable {
    /// The `client=` tag, e.g. race-ws-1.
    public var name: String
    public var counts: ClientCounts
    public var events: Int
    public var missed: Int
    public var duplicates: Int
    public var failure: String?
    /// Mean latency of this client's first receipts, ms; nil without any.
    public var latencyMeanMs: Double? = nil
}

public struct TransportResult: Equatable {
    public var transport: RaceTransport
    public var clients: Int
    public var events: Double
    public var missed: Double
    public var duplicates: Double
    public var histogram: LatencyHistogram
    public var latency: LatencySummary? { LatencySummary(histogram) }
    public var totals: ClientCounts
    /// From the first connect to the last client connected (and subscribed, for streams), ms.
    public var connectMillis: Double
    public var perClient: [ClientReport]

    public var requests: Int { totals.requests }
    public var connections: Int { totals.connections }
    public var emptyResponses: Int { totals.emptyResponses }
    public var bytesUp: Int { totals.bytesUp }
    public var bytesDown: Int { totals.bytesDown }
    public var wireBytesUp: Int { totals.wireBytesUp }
    public var wireBytesDown: Int { totals.wireBytesDown }
    /// nil when no event arrived.
    public var bytesPerEvent: Double? {
        let delivered = events * Double(clients)
        return delivered > 0 ? Double(bytesUp + bytesDown) / delivered : nil
    }
    /// (wire up + wire down) / events delivered: with TCP/IP headers and ACKs.
    public var wireBytesPerEvent: Double? {
        let delivered = events * Double(clients)
        return delivered > 0 ? Double(wireBytesUp + wireBytesDown) / delivered : nil
    }
    /// Where the wire bytes went (ByteLedger.swift); its total is wire up + wire down.
    public var ledger: ByteLedger { totals.ledger }
    public var ledgerPerEvent: ByteLedger? {
        let delivered = events * Double(clients)
        return delivered > 0 ? ledger.divided(by: delivered) : nil
    }
    public var failures: [String] { perClient.compactMap { $0.failure.map { "\($0)" } } }
}

/// Does the server's /stats agree with our counts? (PROTOCOL.md §5: to the byte.)
public struct ServerCheck: Equatable {
    public var agrees: Bool
    /// One line per disagreement, e.g. "ws: bytes_down 1234 here, bytes_out 1240 at the server".
    public var differences: [String]
}

public struct RaceResult: Equatable {
    public var settings: RaceSettings
    /// "in-process", "child process" or "url".
    public var server: String
    /// "clock: same host, no correction" or "clock: offset ... from 8 samples".
    public var clock: String
    public var firstID: Int
    public var lastID: Int
    /// Events published during the run (last − first + 1).
    public var published: Int { max(0, lastID - firstID + 1) }
    /// Measured seconds from start to end.
    public var elapsed: Double
    /// Wall clock (µs since the epoch) when the run started and ended, to line up outside
    /// measurements (the benchmark's CPU samples of the server).
    public var startedAtMicros: Int64
    public var endedAtMicros: Int64
    public var results: [TransportResult]
    public var serverCheck: ServerCheck?

    public func result(_ t: RaceTransport) -> TransportResult? { results.first { $0.transport == t } }
}

/// What `progress` is told about four times a second.
public struct RaceProgress {
    public enum Phase { case connecting, running, finishing }
    public var phase: Phase
    /// Seconds into the run (0 while connecting) and its length.
    public var elapsed: Double
    public var total: Double
    /// Clients connected so far and in all.
    public var connected: Int
    public var clients: Int
    /// First receipts of run events so far, over all clients.
    public var events: Int
}
