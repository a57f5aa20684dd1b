// A FIFO of byte chunks, for the bytes a relay direction holds: whole chunks are appended and
// never copied again; the reader consumes from the front, part of a chunk at a time.

public struct ChunkQueue {
    private var chunks: [[UInt8]] = []
    private var head = 0
    private var offset = 0            // bytes of chunks[head] already consumed
    public private(set) var count = 0 // bytes queued

    public init() {}

    public var isEmpty: Bool { count == 0 }

    public mutating func append(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        chunks.append(bytes)
        count += bytes.count
    }

    /// Calls `body` with the unconsumed part of the first chunk (the queue must not be empty).
    public func withFirst<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        chunks[head].withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[offset...])) }
    }

    /// Drops `n` bytes from the front (at most the rest of the first chunk).
    public mutating func consume(_ n: Int) {
        offset += n
        count -= n
        if offset == chunks[head].count {
            chunks[head] = []
            head += 1
            offset = 0
            if head == chunks.count {
                chunks.removeAll(keepingCapacity: chunks.capacity <= 64)
                head = 0
            } else if head >= 64 && head * 2 >= chunks.count {
                chunks.removeFirst(head)
                head = 0
            }
        }
    }

    /// Removes and returns up to `n` bytes from the front, across chunks if need be.
    public mutating func take(_ n: Int) -> [UInt8] {
        var want = min(n, count)
        if want > 0 && offset == 0 && chunks[head].count == want {    // common case: one whole chunk
            let c = chunks[head]
            consume(want)
            return c
        }
        var out: [UInt8] = []
        out.reserveCapacity(want)
        while want > 0 {
            let piece = min(want, chunks[head].count - offset)
            out += chunks[head][offset..<(offset + piece)]
            consume(piece)
            want -= piece
        }
        return out
    }
}
