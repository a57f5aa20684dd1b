// The body of a polling answer (PROTOCOL.md §2): `{"events":[...],"next":M,"missed":K}`.
// The event JSON is copied in as published: the bytes of an event are the same on every transport.
// PROTOCOL.md §9: the body holds as many events as fit in `maxBytes`, at least one; `next` is
// then the last id it holds, so the client goes on from there.

struct PollBody {
    var bytes: [UInt8]
    var eventCount: Int

    init(_ slice: Feed.Slice, maxBytes: Int = Int.max) {
        var size = 40
        var count = 0
        for e in slice.events {
            if count > 0 && size + e.json.count + 1 > maxBytes { break }
            size += e.json.count + 1
            count += 1
        }
        let next = count < slice.events.count ? slice.events[count - 1].id : slice.next
        var out: [UInt8] = []
        out.reserveCapacity(size)
        out.append(contentsOf: PollBody.prefix)
        for i in 0..<count {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: slice.events[i].json)
        }
        out.append(contentsOf: "],\"next\":\(next),\"missed\":\(slice.missed)}".utf8)
        bytes = out
        eventCount = count
    }

    private static let prefix = Array("{\"events\":[".utf8)
}
