// HTTP2Connection in the client role, against scripted server frames: the preface it sends,
// responses (1xx then final, trailers), a malformed response, GOAWAY refusing the streams above
// its last stream ID (§6.8), and the peer's SETTINGS_MAX_CONCURRENT_STREAMS.
import XCTest
@testable import WireCodec

final class HTTP2ClientRoleTests: XCTestCase {
    typealias F = HPACKHeaderField
    typealias Frame = HTTP2Frame

    func events(_ actions: [HTTP2Connection.Action]) -> [HTTP2Connection.Action] {
        actions.filter { if case .write = $0 { return false } else { return true } }
    }

    func started() -> HTTP2Connection {
        var client = HTTP2Connection(role: .client)
        guard case .write(let bytes)? = client.start().first else { XCTFail("no preface"); return client }
        XCTAssertEqual(Array(bytes.prefix(24)), http2ClientPreface)   // §3.4
        var decoder = HTTP2FrameDecoder(expectPreface: true)
        decoder.feed(bytes)
        guard case .settings(let list, ack: false)? = (try? decoder.nextFrame())??.payload else { XCTFail(); return client }
        XCTAssertTrue(list.contains(HTTP2Setting(.enablePush, 0)))
        _ = client.receive(HTTP2FrameEncoder.encode(Frame(streamID: 0, .settings([HTTP2Setting(.maxConcurrentStreams, 2)]))))
        return client
    }

    func testResponsesInterimFinalAndTrailers() throws {
        var client = started()
        var server = HPACKEncoder()
        let id = client.openStream()
        _ = try client.sendHeaders(streamID: id, fields: H2ScriptedClient.get, endStream: true)
        let frames = [
            Frame(streamID: id, .headers(fieldBlock: server.encode([F(":status", "103")]), endStream: false, endHeaders: true)),
            Frame(streamID: id, .headers(fieldBlock: server.encode([F(":status", "200")]), endStream: false, endHeaders: true)),
            Frame(streamID: id, .data(Array("{}".utf8), endStream: false, padding: 4)),
            Frame(streamID: id, .headers(fieldBlock: server.encode([F("grpc-status", "0")]), endStream: true, endHeaders: true)),
        ]
        XCTAssertEqual(events(client.receive(frames.flatMap(HTTP2FrameEncoder.encode))), [
            .headers(streamID: id, fields: [F(":status", "103")], endStream: false),
            .headers(streamID: id, fields: [F(":status", "200")], endStream: false),
            .data(streamID: id, bytes: Array("{}".utf8), endStream: false),
            .headers(streamID: id, fields: [F("grpc-status", "0")], endStream: true),
        ])
        XCTAssertEqual(client.activeStreamCount, 0)
    }

    func testMalformedResponseIsAStreamError() throws {
        var client = started()
        var server = HPACKEncoder()
        let id = client.openStream()
        _ = try client.sendHeaders(streamID: id, fields: H2ScriptedClient.get, endStream: true)
        let actions = client.receive(HTTP2FrameEncoder.encode(
            Frame(streamID: id, .headers(fieldBlock: server.encode([F(":status", "20")]), endStream: true, endHeaders: true))))
        XCTAssertTrue(actions.contains(.streamReset(streamID: id, code: .protocolError, byPeer: false)))
        XCTAssertFalse(client.isFailed)
    }

    func testGOAWAYRefusesStreamsAboveTheLastAndConcurrencyLimit() throws {
        var client = started()
        let one = client.openStream(), three = client.openStream()
        _ = try client.sendHeaders(streamID: one, fields: H2ScriptedClient.get, endStream: true)
        _ = try client.sendHeaders(streamID: three, fields: H2ScriptedClient.get, endStream: true)
        XCTAssertFalse(client.canOpenStream)   // the server allows 2
        let actions = events(client.receive(HTTP2FrameEncoder.encode(
            Frame(streamID: 0, .goAway(lastStreamID: one, error: .noError)))))
        XCTAssertEqual(actions, [.goAway(lastStreamID: one, code: .noError, debugData: []),
                                 .streamReset(streamID: three, code: .refusedStream, byPeer: true)])
        XCTAssertFalse(client.canOpenStream)
        let five = client.openStream()
        XCTAssertThrowsError(try client.sendHeaders(streamID: five, fields: H2ScriptedClient.get, endStream: true)) {
            XCTAssertEqual(($0 as? HTTP2Error)?.code, .refusedStream)
        }
    }

    func testPushPromiseIsRefused() throws {
        var client = started()
        let id = client.openStream()
        _ = try client.sendHeaders(streamID: id, fields: H2ScriptedClient.get, endStream: true)
        let actions = client.receive(HTTP2FrameEncoder.encode(
            Frame(streamID: id, .pushPromise(promisedStreamID: 2, fieldBlock: [0x82], endHeaders: true))))
        XCTAssertTrue(actions.contains { if case .connectionError(let e) = $0 { return e.code == .protocolError } else { return false } })
    }
}
