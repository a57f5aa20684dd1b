// The impairments that read HTTP: the response buffer and the upgrade stripper. Inputs are
// literal bytes (RFC 6455 §1.2's handshake, an RFC 9112 chunked SSE response); each is fed whole,
// byte by byte and split at every boundary, and the bytes forwarded must be the bytes received.
import XCTest
@testable import WireProxy

/// RFC 6455 §1.2: the client's opening handshake, as a browser sends it.
let browserUpgrade = Array("""
GET /chat HTTP/1.1\r
Host: server.example.com\r
Upgrade: websocket\r
Connection: keep-alive, Upgrade\r
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r
Origin: http://example.com\r
Sec-WebSocket-Protocol: chat, superchat\r
Sec-WebSocket-Version: 13\r
\r

""".utf8)

let sseHead = Array("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
func sseChunk(_ id: Int) -> [UInt8] {
    let block = Array("id: \(id)\nevent: tick\ndata: {\"id\":\(id)}\n\n".utf8)
    return Array(String(block.count, radix: 16).utf8) + [13, 10] + block + [13, 10]
}

final class ResponseBufferTests: XCTestCase {
    func testHeadGoesAtOnceAndAnSSEStreamIsHeldUntilTheThreshold() {
        var buffer = ResponseBuffer(thresholdBytes: 1024)
        let head = buffer.feed(sseHead)
        XCTAssertEqual(head.release, sseHead, "the head is not held")
        var forwarded: [UInt8] = []
        var fed: [UInt8] = sseHead
        var id = 1
        while forwarded.isEmpty {
            let chunk = sseChunk(id); id += 1
            fed += chunk
            forwarded += buffer.feed(chunk).release
            if forwarded.isEmpty { XCTAssertLessThan(buffer.heldBytes, 1024, "held only below the threshold") }
        }
        XCTAssertGreaterThanOrEqual(forwarded.count, 1024, "released once KIB piled up, all at once")
        XCTAssertEqual(sseHead + forwarded, fed, "byte for byte what came in")
        XCTAssertEqual(buffer.heldBytes, 0)
        XCTAssertEqual(buffer.holds, 1)
    }

    func testABodyThatEndsIsReleasedWholeAndTheNextResponseFollows() {
        let first = Array("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789".utf8)
        let second = Array("HTTP/1.1 204 No Content\r\n\r\n".utf8)
        let all = first + second
        for split in 1..<all.count {
            var buffer = ResponseBuffer(thresholdBytes: 1 << 20)
            var out = buffer.feed(Array(all[..<split])).release
            let headEnd = first.count - 10
            if split >= headEnd && split < first.count { XCTAssertEqual(out.count, headEnd, "split \(split): body held") }
            out += buffer.feed(Array(all[split...])).release
            XCTAssertEqual(out, all, "split at \(split)")
        }
    }

    func testNothingIsHeldAfterA101() {
        var buffer = ResponseBuffer(thresholdBytes: 1 << 20)
        let handshake = Array("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n".utf8)
        let frame: [UInt8] = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]   // RFC 6455 §5.7 "Hello"
        let r = buffer.feed(handshake + frame)
        XCTAssertTrue(r.switchedProtocols)
        XCTAssertEqual(r.release, handshake + frame)
        XCTAssertEqual(buffer.feed(frame).release, frame, "WebSocket frames pass untouched")
    }

    func testFedByteByByteTheOutputIsTheInput() {
        var input = sseHead
        for id in 1...50 { input += sseChunk(id) }
        var buffer = ResponseBuffer(thresholdBytes: 512)
        var out: [UInt8] = []
        for b in input { out += buffer.feed([b]).release }
        out += buffer.closeInput()
        XCTAssertEqual(out, input)
    }

    func testWatchOnlyHoldsNothing() {
        var buffer = ResponseBuffer(thresholdBytes: nil)
        XCTAssertEqual(buffer.feed(sseHead + sseChunk(1)).release, sseHead + sseChunk(1))
    }
}

final class UpgradeStripperTests: XCTestCase {
    func testABrowserUpgradeLosesUpgradeAndTheUpgradeTokenOnly() {
        var stripper = UpgradeStripper()
        let out = String(decoding: stripper.feed(browserUpgrade), as: UTF8.self)
        XCTAssertEqual(out, """
        GET /chat HTTP/1.1\r
        Host: server.example.com\r
        Connection: keep-alive\r
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r
        Origin: http://example.com\r
        Sec-WebSocket-Protocol: chat, superchat\r
        Sec-WebSocket-Version: 13\r
        \r

        """)
        XCTAssertEqual(stripper.stripped, 1)
    }

    func testPlainRequestsPassUnchangedWhateverTheSplit() {
        let requests = Array("GET /poll?since=3 HTTP/1.1\r\nHost: a\r\n\r\nPOST /publish HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET /sse HTTP/1.1\r\n\r\n".utf8)
        for split in 0...requests.count {
            var stripper = UpgradeStripper()
            var out = stripper.feed(Array(requests[..<split]))
            out += stripper.feed(Array(requests[split...]))
            XCTAssertEqual(out, requests, "split at \(split)")
            XCTAssertEqual(stripper.heldBytes, 0)
        }
    }

    func testByteByByteTheUpgradeIsStrippedAndTheNextRequestKept() {
        let next = Array("GET /healthz HTTP/1.1\r\n\r\n".utf8)
        var stripper = UpgradeStripper()
        var out: [UInt8] = []
        for b in browserUpgrade + next { out += stripper.feed([b]) }
        let text = String(decoding: out, as: UTF8.self)
        XCTAssertFalse(text.lowercased().contains("upgrade"))
        XCTAssertTrue(text.hasSuffix("\r\n\r\nGET /healthz HTTP/1.1\r\n\r\n"))
    }

    func testConnectionWithOnlyUpgradeIsDropped() {
        let req = Array("GET /ws HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n".utf8)
        var stripper = UpgradeStripper()
        XCTAssertEqual(String(decoding: stripper.feed(req), as: UTF8.self), "GET /ws HTTP/1.1\r\n\r\n")
    }

    func testWhatTheParserRejectsPassesThrough() {
        let junk = Array("NOT HTTP AT ALL\r\n\r\n\u{1}\u{2}".utf8)
        var stripper = UpgradeStripper()
        XCTAssertEqual(stripper.feed(junk), junk)
        XCTAssertEqual(stripper.feed([9, 9]), [9, 9])
    }
}

final class RelayDirectionTests: XCTestCase {
    func testEverythingTogetherKeepsEveryByteInOrder() {
        var settings = DirectionSettings()
        settings.delayNanos = 20 * ms
        settings.jitterNanos = 15 * ms
        settings.kilobitsPerSecond = 8_000
        settings.stallPeriodNanos = 300 * ms
        settings.stallDurationNanos = 50 * ms
        let dir = RelayDirection(settings, now: 0, seed: 5)
        var rng = SplitMix64(state: 9)
        var sent: [UInt8] = []
        var got: [UInt8] = []
        var now: Int64 = 0
        for _ in 0..<2_000 {
            let chunk = (0..<Int(rng.next() % 300 + 1)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            sent += chunk
            dir.push(chunk, now: now)
            got += dir.ready.take(Int.max)
            now += Int64(rng.next() % UInt64(2 * ms))
            dir.pump(now: now)
            got += dir.ready.take(Int.max)
        }
        while let wake = dir.nextWake { now = max(now, wake); dir.pump(now: now); got += dir.ready.take(Int.max) }
        XCTAssertEqual(got.count, sent.count)
        XCTAssertTrue(got == sent, "bytes out equal bytes in, in order")
        XCTAssertTrue(dir.isEmpty)
        XCTAssertGreaterThan(dir.fired.delay, 0)
        XCTAssertGreaterThan(dir.fired.stall, 0)
    }

    func testNoImpairmentIsTransparent() {
        XCTAssertTrue(RelayDirection(DirectionSettings(), now: 0, seed: 0).isTransparent)
        var s = DirectionSettings(); s.delayNanos = 1
        XCTAssertFalse(RelayDirection(s, now: 0, seed: 0).isTransparent)
    }
}

final class UpgradeStripperLimitTests: XCTestCase {
    func testARequestTooLargeToHoldPassesThroughUnchanged() {
        // 300 KiB of body: more than the stripper holds; it gives up and forwards as it came.
        let body = [UInt8](repeating: 0x61, count: 300 * 1024)
        let request = Array("POST /publish HTTP/1.1\r\nContent-Length: \(body.count)\r\nUpgrade: websocket\r\n\r\n".utf8) + body
        var stripper = UpgradeStripper()
        var out: [UInt8] = []
        var maxHeld = 0
        for start in stride(from: 0, to: request.count, by: 16 * 1024) {
            out += stripper.feed(Array(request[start..<min(start + 16 * 1024, request.count)]))
            maxHeld = max(maxHeld, stripper.heldBytes)
        }
        XCTAssertEqual(out, request)
        XCTAssertLessThanOrEqual(maxHeld, 256 * 1024 + 16 * 1024, "never more than the bound on one direction")
    }
}
