// One published event, serialized once (design rule: "encode once and write many"): the event JSON
// of PROTOCOL.md §1, and the framed bytes each push transport writes, built at publication and then
// written unchanged to every subscriber.
import WireCodec

public enum Topic: String {
    case tick, chat
}

// LESSON: encode-once
public final class PublishedEvent {
    public let id: Int
    public let ts: Int64
    public let topic: Topic
    /// `{"id":42,"ts":...,"topic":"tick","data":"..."}`: exactly these keys, this order, no spaces.
    public let json: [UInt8]
    /// SSE block: `id: 42\nevent: tick\ndata: <json>\n\n` (PROTOCOL.md §2).
    public let sseBlock: [UInt8]
    /// The same block as one HTTP/1.1 chunk (RFC 9112 §7.1), for chunked SSE responses.
    public let sseChunk: [UInt8]
    /// One unmasked, unfragmented text frame holding the JSON (RFC 6455 §5.6).
    public let webSocketFrame: [UInt8]

    public init(id: Int, ts: Int64, topic: Topic, data: String) {
        self.id = id
        self.ts = ts
        self.topic = topic
        var json: [UInt8] = []
        json.reserveCapacity(48 + data.utf8.count)
        json += Array("{\"id\":".utf8) + Array(String(id).utf8)
        json += Array(",\"ts\":".utf8) + Array(String(ts).utf8)
        json += Array(",\"topic\":\"".utf8) + Array(topic.rawValue.utf8)
        json += Array("\",\"data\":".utf8)
        JSON.appendString(data, to: &json)
        json.append(UInt8(ascii: "}"))
        self.json = json
        // The JSON has no newline in it (control characters are escaped), so one data: line.
        let block = SSEEncoder.encode(id: String(id), event: topic.rawValue,
                                      data: String(decoding: json, as: UTF8.self))
        self.sseBlock = block
        self.sseChunk = HTTPSerializer.chunk(block)
        self.webSocketFrame = WebSocketFrameEncoder.encode(opcode: .text, payload: json)
    }
}
