// Shared helpers for the HTTP codec tests.
//
// Every parser test vector is fed in several ways, and every way must give the same result:
//   - whole, in one feed;
//   - one byte at a time;
//   - split into two pieces at every byte boundary;
//   - a number of seeded random splits (fed through the UnsafeRawBufferPointer overload).
// A parser that only works when a head arrives in one read is the classic HTTP bug this catches.
import XCTest
@testable import WireCodec

// Random splits use WireCodecTestRNG (SplitMix64, in WebSocketTestSupportTests.swift).

struct HTTPFeeding {
    var name: String
    var chunks: [[UInt8]]
    var useRawPointer = false
}

/// All the ways to feed `bytes`. For vectors longer than `exhaustiveLimit` the two-piece splits
/// are taken at every boundary in the first and last 512 bytes and at every 61st byte between,
/// so the 16 KiB and 64 KiB vectors stay fast in debug builds; shorter vectors get every boundary.
func httpFeedings(of bytes: [UInt8], randomSplits: Int = 40, seed: UInt64 = 0x5EED_C0DE,
              exhaustiveLimit: Int = 4096) -> [HTTPFeeding] {
    var result = [HTTPFeeding(name: "whole", chunks: [bytes])]
    result.append(HTTPFeeding(name: "byte-at-a-time", chunks: bytes.map { [$0] }))
    for cut in 0...bytes.count {
        let near = cut < 512 || cut > bytes.count - 512 || cut % 61 == 0
        if bytes.count > exhaustiveLimit && !near { continue }
        result.append(HTTPFeeding(name: "split at \(cut)", chunks: [Array(bytes[..<cut]), Array(bytes[cut...])]))
    }
    var rng = WireCodecTestRNG(seed: seed)
    for n in 0..<randomSplits {
        var chunks: [[UInt8]] = [], i = 0
        while i < bytes.count {
            let take = min(bytes.count - i, Int(rng.next() % 24) + 1)
            chunks.append(Array(bytes[i..<(i + take)]))
            i += take
        }
        result.append(HTTPFeeding(name: "random split #\(n)", chunks: chunks, useRawPointer: true))
    }
    return result
}

func httpBytes(_ s: String) -> [UInt8] { Array(s.utf8) }

// MARK: - Request parser

/// What a test expects of a request; compared field by field.
struct HTTPReqSummary: Equatable, CustomStringConvertible {
    var method: String
    var target: String
    var version: HTTPVersion = .http1_1
    var headers: [[String]] = []
    var body: [UInt8] = []

    init(_ method: String, _ target: String, version: HTTPVersion = .http1_1,
         headers: [[String]] = [], body: [UInt8] = []) {
        self.method = method; self.target = target; self.version = version; self.headers = headers; self.body = body
    }
    init(_ r: HTTPRequest) {
        self.init(r.method, r.target, version: r.version, headers: r.headers.map { [$0.name, $0.value] }, body: r.body)
    }
    var description: String {
        "\(method) \(target) HTTP/\(version.major).\(version.minor) \(headers) body(\(body.count))=\(String(decoding: body.prefix(40), as: UTF8.self))"
    }
}

struct HTTPRequestOutcome {
    var requests: [HTTPReqSummary] = []
    var error: HTTPError?
}

func httpRunRequestParser(_ feeding: HTTPFeeding, maxHeadBytes: Int = 16384, maxBodyBytes: Int = 65536,
                      file: StaticString = #filePath, line: UInt = #line) -> HTTPRequestOutcome {
    var parser = HTTPRequestParser(maxHeadBytes: maxHeadBytes, maxBodyBytes: maxBodyBytes)
    var outcome = HTTPRequestOutcome()
    for chunk in feeding.chunks {
        if feeding.useRawPointer { chunk.withUnsafeBytes { parser.feed($0) } } else { parser.feed(chunk) }
        do {
            while let request = try parser.nextRequest() { outcome.requests.append(HTTPReqSummary(request)) }
        } catch let error as HTTPError {
            outcome.error = error
            // A failed parser stays failed, whatever arrives next.
            parser.feed(httpBytes("GET / HTTP/1.1\r\n\r\n"))
            XCTAssertThrowsError(try parser.nextRequest(), "parser revived after error (\(feeding.name))",
                                 file: file, line: line) { XCTAssertEqual($0 as? HTTPError, error, file: file, line: line) }
            return outcome
        } catch {
            XCTFail("non-HTTPError thrown: \(error)", file: file, line: line)
            return outcome
        }
    }
    return outcome
}

/// Feeds `raw` every way; all must produce exactly `expected` and then the error status (if any).
func httpAssertRequests(_ raw: [UInt8], _ expected: [HTTPReqSummary], thenError status: Int? = nil,
                    maxHeadBytes: Int = 16384, maxBodyBytes: Int = 65536,
                    file: StaticString = #filePath, line: UInt = #line) {
    for feeding in httpFeedings(of: raw) {
        let outcome = httpRunRequestParser(feeding, maxHeadBytes: maxHeadBytes, maxBodyBytes: maxBodyBytes, file: file, line: line)
        guard outcome.requests == expected, outcome.error?.status == status else {
            XCTFail("\(feeding.name): got \(outcome.requests) error \(String(describing: outcome.error)); "
                    + "expected \(expected) error \(String(describing: status))", file: file, line: line)
            return   // one failure report per vector is enough
        }
    }
}

func httpAssertRequests(_ raw: String, _ expected: [HTTPReqSummary], thenError status: Int? = nil,
                    file: StaticString = #filePath, line: UInt = #line) {
    httpAssertRequests(httpBytes(raw), expected, thenError: status, file: file, line: line)
}

/// Feeds `raw` every way; every way must end in `status` with no request before it.
func httpAssertRejected(_ raw: String, _ status: Int, file: StaticString = #filePath, line: UInt = #line) {
    httpAssertRequests(httpBytes(raw), [], thenError: status, file: file, line: line)
}

// MARK: - Response parser

struct HTTPResponseOutcome: Equatable {
    var parts: [HTTPResponsePart] = []
    var errorStatus: Int?
    var leftover: [UInt8] = []
}

/// Runs the response parser; adjacent `.body` parts are merged, since how a body is cut into
/// parts depends on how it arrived. `close` calls closeInput() after the last chunk.
func httpRunResponseParser(_ feeding: HTTPFeeding, close: Bool, expectHEAD: Bool = false) -> HTTPResponseOutcome {
    var parser = HTTPResponseParser()
    if expectHEAD { parser.expectResponseToHEAD() }
    var outcome = HTTPResponseOutcome()
    func drain() throws {
        while let part = try parser.nextPart() {
            if case .body(let more) = part, case .body(let previous)? = outcome.parts.last {
                outcome.parts[outcome.parts.count - 1] = .body(previous + more)
            } else {
                if case .body(let b) = part, b.isEmpty { XCTFail("empty body part"); continue }
                outcome.parts.append(part)
            }
        }
    }
    do {
        for chunk in feeding.chunks {
            if feeding.useRawPointer { chunk.withUnsafeBytes { parser.feed($0) } } else { parser.feed(chunk) }
            try drain()
        }
        if close { parser.closeInput(); try drain() }
    } catch {
        outcome.errorStatus = (error as? HTTPError)?.status ?? -1
        return outcome
    }
    outcome.leftover = parser.takeBufferedBytes()
    return outcome
}

func httpAssertResponses(_ raw: [UInt8], close: Bool = false, expectHEAD: Bool = false, _ expected: HTTPResponseOutcome,
                     file: StaticString = #filePath, line: UInt = #line) {
    for feeding in httpFeedings(of: raw) {
        let outcome = httpRunResponseParser(feeding, close: close, expectHEAD: expectHEAD)
        guard outcome == expected else {
            XCTFail("\(feeding.name): got \(outcome), expected \(expected)", file: file, line: line)
            return
        }
    }
}

func httpHead(_ status: Int, _ reason: String, _ headers: [(String, String)] = [],
          version: HTTPVersion = .http1_1) -> HTTPResponsePart {
    .head(HTTPResponseHeadValue(status: status, reason: reason, version: version,
                                headers: headers.map { HTTPHeaderField(name: $0.0, value: $0.1) }))
}
