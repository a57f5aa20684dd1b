// Shared test helpers for the WebSocket, UTF-8 and SSE codec tests: a seeded PRNG and the
// ways of splitting a byte string that every incremental decoder must survive.
import XCTest

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and seeded, so every "random" test
/// failure can be reproduced exactly.
struct WireCodecTestRNG: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &self) }
    }
}

enum Splits {
    /// Ways to cut `bytes` into chunks: whole; one byte at a time; two pieces at every byte
    /// boundary; and `randomCount` seeded random chunkings.
    static func all(_ bytes: [UInt8], seed: UInt64 = 1, randomCount: Int = 20) -> [[[UInt8]]] {
        var result: [[[UInt8]]] = [[bytes], bytes.map { [$0] }]
        for cut in 0...bytes.count {
            result.append([Array(bytes[..<cut]), Array(bytes[cut...])])
        }
        result += random(bytes, seed: seed, count: randomCount)
        return result
    }

    /// Seeded random chunkings only (for inputs too long to split at every byte).
    static func random(_ bytes: [UInt8], seed: UInt64, count: Int) -> [[[UInt8]]] {
        var rng = WireCodecTestRNG(seed: seed)
        var result: [[[UInt8]]] = []
        for _ in 0..<count {
            var chunks: [[UInt8]] = []
            var i = 0
            let maxChunk = max(1, bytes.count / 3)
            while i < bytes.count {
                let n = Int.random(in: 1...maxChunk, using: &rng)
                chunks.append(Array(bytes[i..<min(bytes.count, i + n)]))
                i += n
            }
            result.append(chunks)
        }
        return result
    }
}

final class WebSocketTestSupportTests: XCTestCase {
    func testSplitMix64IsDeterministic() {
        var a = WireCodecTestRNG(seed: 42), b = WireCodecTestRNG(seed: 42)
        XCTAssertEqual((0..<8).map { _ in a.next() }, (0..<8).map { _ in b.next() })
        // Reference value: first SplitMix64 output for seed 0.
        var zero = WireCodecTestRNG(seed: 0)
        XCTAssertEqual(zero.next(), 0xE220_A839_7B1D_CDAF)
    }

    func testSplitsReassembleToTheInput() {
        let input: [UInt8] = Array(0..<50)
        for chunks in Splits.all(input) { XCTAssertEqual(chunks.flatMap { $0 }, input) }
    }
}
