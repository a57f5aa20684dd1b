// The body of a polling answer (PROTOCOL.md §2): `{"events":[...],"next":M,"missed":K}`.
// The event JSON is copied in as published: the bytes of an event are the same on every transport.

struct PollBody {
    var bytes: [UInt8]
    var eventCount: Int

    init(_ slice: Feed.Slice) {
        var size = 40
        for e in slice.events { size += e.json.count + 1 }
        var out: [UInt8] = []
        out.reserveCapacity(size)
        out.append(contentsOf: PollBody.prefix)
        for (i, e) in slice.events.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: e.json)
        }
        out.append(contentsOf: "],\"next\":\(slice.next),\"missed\":\(slice.missed)}".utf8)
        bytes = out
        eventCount = slice.events.count
    }

    private static let prefix = Array("{\"events\":[".utf8)
}
