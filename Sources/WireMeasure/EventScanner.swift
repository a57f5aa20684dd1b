// EventScanner: the two numbers latency needs (`id`, `ts`) out of an event's JSON, without a
// general JSON parser on the hot path (10,000 clients × 10 events/s is 100,000 events a second).
//
// Why scanning is safe: PROTOCOL.md §1 fixes the event as {"id":N,"ts":T,"topic":...,"data":"..."},
// keys in this order, no spaces. Inside a JSON string a quote is always escaped (\"), so the byte
// sequence {"id": — a brace followed by an unescaped quote — can only be the start of an event
// object, never text inside `data`. The same holds for "next": and "missed": in a polling body.

public enum EventScanner {
    public struct Stamp: Equatable {
        public var id: Int
        public var ts: Int64
        public init(id: Int, ts: Int64) { self.id = id; self.ts = ts }
    }

    /// A polling answer: {"events":[...],"next":M,"missed":K} (PROTOCOL.md §2).
    public struct PollBody: Equatable {
        public var events: [Stamp]
        public var next: Int?
        public var missed: Int
    }

    private static let eventStart: [UInt8] = Array("{\"id\":".utf8)
    private static let tsKey: [UInt8] = Array(",\"ts\":".utf8)
    private static let nextKey: [UInt8] = Array("\"next\":".utf8)
    private static let missedKey: [UInt8] = Array("\"missed\":".utf8)

    /// One event object (a WebSocket message, an SSE `data`). nil if it is not an event
    /// (e.g. {"type":"error",...}).
    public static func event<C: Collection>(_ bytes: C) -> Stamp? where C.Element == UInt8, C.Index == Int {
        guard let start = find(eventStart, in: bytes, from: bytes.startIndex) else { return nil }
        return stamp(bytes, at: start).map { $0.0 }
    }

    /// Every event of a polling body, oldest first, with `next` and `missed`.
    public static func pollBody(_ bytes: [UInt8]) -> PollBody {
        var events: [Stamp] = []
        var i = 0
        var afterEvents = 0
        while let start = find(eventStart, in: bytes, from: i) {
            guard let (s, end) = stamp(bytes, at: start) else { i = start + 1; continue }
            events.append(s)
            i = end
            afterEvents = end
        }
        var next: Int?
        if let k = find(nextKey, in: bytes, from: afterEvents) { next = integer(bytes, k + nextKey.count)?.0 }
        var missed = 0
        if let k = find(missedKey, in: bytes, from: afterEvents) { missed = integer(bytes, k + missedKey.count)?.0 ?? 0 }
        return PollBody(events: events, next: next, missed: missed)
    }

    /// At `start` (a `{"id":`): id, then `,"ts":` and ts. Returns the stamp and where it ended.
    private static func stamp<C: Collection>(_ b: C, at start: Int) -> (Stamp, Int)? where C.Element == UInt8, C.Index == Int {
        guard let (id, afterID) = integer(b, start + eventStart.count), matches(tsKey, b, afterID),
              let (ts, end) = integer(b, afterID + tsKey.count) else { return nil }
        return (Stamp(id: id, ts: Int64(ts)), end)
    }

    /// Decimal digits at `i`: the value and the index after them.
    private static func integer<C: Collection>(_ b: C, _ i: Int) -> (Int, Int)? where C.Element == UInt8, C.Index == Int {
        var j = i, value = 0
        while j < b.endIndex, b[j] >= 0x30, b[j] <= 0x39, value < Int.max / 10 - 9 {
            value = value * 10 + Int(b[j] - 0x30)
            j += 1
        }
        return j > i ? (value, j) : nil
    }

    private static func matches<C: Collection>(_ pattern: [UInt8], _ b: C, _ i: Int) -> Bool where C.Element == UInt8, C.Index == Int {
        guard i >= b.startIndex, i + pattern.count <= b.endIndex else { return false }
        for k in 0..<pattern.count where b[i + k] != pattern[k] { return false }
        return true
    }

    private static func find<C: Collection>(_ pattern: [UInt8], in b: C, from: Int) -> Int? where C.Element == UInt8, C.Index == Int {
        guard let first = pattern.first else { return nil }
        var i = max(from, b.startIndex)
        while i + pattern.count <= b.endIndex {
            if b[i] == first && matches(pattern, b, i) { return i }
            i += 1
        }
        return nil
    }
}
