// The Feed: where events come from and where they are kept.
//  - `publish` numbers an event (ids 1, 2, 3, ...), stamps it with the wall clock, serializes it
//    once, stores it in the history ring and hands it to `onPublish` (the server's fan-out);
//  - the history ring keeps the last `history` events so pollers and reconnecting streams can
//    ask for "everything after id N" (PROTOCOL.md §1, §2);
//  - the generator settings (`rate`, `size`) live here too, changed by POST /control.
// Shared by every loop thread, so every method takes the lock (none does I/O), except the
// latest id, which is also published in an atomic: a `/poll` that is up to date (the common
// case: `since` = latest, or no `since`) takes no lock at all.
import WireLoop

public final class Feed {
    public struct Slice {
        public var events: [PublishedEvent]
        /// The `since` to send next: the last returned id, else the (effective) since.
        public var next: Int
        /// Events after `since` that are no longer retained.
        public var missed: Int
        /// The latest id at the moment of this read (a stream resumes live after it).
        public var latest: Int
    }

    private let lock = Lock()
    private var ring: [PublishedEvent?]
    private var latest = 0
    /// `latest`, stored after each publish for lock-free readers.
    private let latestAtomic = AtomicInt(0)
    private var _rate: Double
    private var _size: Int
    /// Called for every publish, in id order, on the publishing thread, under the lock: it must
    /// only queue (no system call, no I/O).
    public var onPublish: ((PublishedEvent) -> Void)?
    /// Called after each publish once the lock is released: wake whoever `onPublish` queued for.
    public var afterPublish: (() -> Void)?

    /// Stamps `ts` and answers GET /time (ServerConfig.wallClock; tests shift it).
    public let wallMicros: () -> Int64

    public init(history: Int, rate: Double, size: Int, wallClock: @escaping () -> Int64 = { LoopClock.wallMicros() }) {
        wallMicros = wallClock
        ring = [PublishedEvent?](repeating: nil, count: max(1, history))
        _rate = rate
        _size = size
    }

    public var capacity: Int { ring.count }
    public var latestID: Int { latestAtomic.load() }
    public var rate: Double { lock.withLock { _rate } }
    public var size: Int { lock.withLock { _size } }

    public func setGenerator(rate: Double?, size: Int?) {
        lock.withLock {
            if let r = rate { _rate = r }
            if let s = size { _size = s }
        }
    }

    /// The payload of a generated tick: `size` printable ASCII characters (PROTOCOL.md §1).
    public static func tickData(size: Int) -> String {
        String(repeating: "x", count: size)
    }

    @discardableResult
    public func publish(topic: Topic, data: String) -> PublishedEvent {
        let event: PublishedEvent = lock.withLock {
            latest += 1
            // Stamped and serialized under the lock so ids and timestamps both increase.
            let e = PublishedEvent(id: latest, ts: wallMicros(), topic: topic, data: data)
            ring[(latest - 1) % ring.count] = e
            latestAtomic.store(latest)     // after the ring: a reader of the id finds its event
            // Handed on under the lock so every loop sees events in id order, even when two
            // threads publish at once (a loop's queue only appends; it never takes this lock).
            onPublish?(e)
            return e
        }
        afterPublish?()
        return event
    }

    /// Retained events with id > since, oldest first, at most `limit`.
    /// A `since` beyond the latest id means the server restarted: start over from the oldest.
    public func events(after since: Int, limit: Int) -> Slice {
        // Up to date: nothing new, nothing missed; no lock (a poller that keeps up asks this).
        if since == latestAtomic.load() { return Slice(events: [], next: since, missed: 0, latest: since) }
        return lock.withLock {
            var since = since
            if since > latest { since = 0 }
            let oldest = max(1, latest - ring.count + 1)
            let first = max(since + 1, oldest)
            let missed = latest == 0 ? 0 : max(0, oldest - (since + 1))
            var out: [PublishedEvent] = []
            if first <= latest && limit > 0 {
                let last = limit > latest - first ? latest : first + limit - 1   // (no overflow for limit = Int.max)
                out.reserveCapacity(last - first + 1)
                for id in first...last { out.append(ring[(id - 1) % ring.count]!) }
            }
            return Slice(events: out, next: out.last?.id ?? since, missed: missed, latest: latest)
        }
    }
}
