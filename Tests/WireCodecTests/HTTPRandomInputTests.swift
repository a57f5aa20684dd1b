// Robustness: 2000 seeded random inputs per parser must never trap. Each parser must return
// requests/parts or throw HTTPError, nothing else. Inputs are built from HTTP-ish fragments
// mixed with random bytes, so they reach the body states and not only the request line.
import XCTest
@testable import WireCodec

final class HTTPRandomInputTests: XCTestCase {
    private let fragments: [String] = [
        "GET ", "POST ", "/", "/a?b=%2", " HTTP/1.1", " HTTP/1.0", "HTTP/1.1 200 OK", "HTTP/1.1 101 X",
        "HTTP/1.1 204 N", "\r\n", "\n", "\r", "\r\n\r\n", ": ", ":", " ", "\t", "Host", "Content-Length: ",
        "Transfer-Encoding: chunked", "Transfer-Encoding: gzip, chunked", "Connection: close", "0", "5", "ff",
        "FFFFFFFFFFFFFFFFFFFF", ";ext=1", "hello", "%", "\u{0}", "\u{7F}", "\u{E9}",
    ]

    private func randomInput(_ rng: inout WireCodecTestRNG) -> [UInt8] {
        var out: [UInt8] = []
        for _ in 0..<Int(rng.next() % 40) {
            if rng.next() % 4 == 0 {
                out.append(UInt8(truncatingIfNeeded: rng.next()))
            } else {
                out += Array(fragments[Int(rng.next() % UInt64(fragments.count))].utf8)
            }
        }
        return out
    }

    private func randomChunks(_ input: [UInt8], _ rng: inout WireCodecTestRNG) -> [[UInt8]] {
        var chunks: [[UInt8]] = [], i = 0
        while i < input.count {
            let n = min(input.count - i, Int(rng.next() % 16) + 1)
            chunks.append(Array(input[i..<(i + n)]))
            i += n
        }
        return chunks
    }

    func testRandomInputNeverTrapsTheRequestParser() {
        var rng = WireCodecTestRNG(seed: 20240917)
        var requests = 0, errors = 0
        for _ in 0..<2000 {
            let input = randomInput(&rng)
            var parser = HTTPRequestParser(maxHeadBytes: 256, maxBodyBytes: 64)
            do {
                for chunk in randomChunks(input, &rng) {
                    parser.feed(chunk)
                    while try parser.nextRequest() != nil { requests += 1 }
                }
                _ = parser.hasPartialRequest
                _ = parser.takeBufferedBytes()
            } catch is HTTPError {
                errors += 1
            } catch {
                XCTFail("unexpected error type: \(error)")
            }
        }
        XCTAssertGreaterThan(requests, 0)   // the generator does reach valid requests
        XCTAssertGreaterThan(errors, 0)
    }

    func testRandomInputNeverTrapsTheResponseParser() {
        var rng = WireCodecTestRNG(seed: 19700101)
        var parts = 0, errors = 0
        for _ in 0..<2000 {
            let input = randomInput(&rng)
            var parser = HTTPResponseParser(maxHeadBytes: 256)
            do {
                for chunk in randomChunks(input, &rng) {
                    chunk.withUnsafeBytes { parser.feed($0) }
                    while try parser.nextPart() != nil { parts += 1 }
                }
                parser.closeInput()
                while try parser.nextPart() != nil { parts += 1 }
                _ = parser.takeBufferedBytes()
            } catch is HTTPError {
                errors += 1
            } catch {
                XCTFail("unexpected error type: \(error)")
            }
        }
        XCTAssertGreaterThan(parts, 0)
        XCTAssertGreaterThan(errors, 0)
    }
}
