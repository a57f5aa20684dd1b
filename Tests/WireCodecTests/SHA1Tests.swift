import XCTest
@testable import WireCodec

final class SHA1Tests: XCTestCase {
    private func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    // FIPS 180 / RFC 3174 test vectors.
    func testFIPSVectorABC() {
        XCTAssertEqual(hex(SHA1.hash(Array("abc".utf8))), "a9993e364706816aba3e25717850c26c9cd0d89d")
    }

    func testFIPSVectorEmpty() {
        XCTAssertEqual(hex(SHA1.hash([])), "da39a3ee5e6b4b0d3255bfef95601890afd80709")
    }

    func testFIPSVectorTwoBlocks() {
        let message = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
        XCTAssertEqual(hex(SHA1.hash(Array(message.utf8))), "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
    }

    func testFIPSVectorOneMillionA() {
        let expected = "34aa973cd4c4daa4f61eeb2bdbad27316534016f"
        let million = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        XCTAssertEqual(hex(SHA1.hash(million)), expected)
        // The same message fed in uneven chunks.
        var hasher = SHA1()
        var rng = WireCodecTestRNG(seed: 7)
        var fed = 0
        while fed < million.count {
            let n = min(million.count - fed, Int.random(in: 1...1000, using: &rng))
            hasher.update(Array(million[fed..<fed + n]))
            fed += n
        }
        XCTAssertEqual(hex(hasher.finalize()), expected)
    }

    /// Lengths around the 55/56/64-byte padding boundaries (values from Python's hashlib).
    func testPaddingBoundaries() {
        let expected: [Int: String] = [
            55: "c1c8bbdc22796e28c0e15163d20899b65621d65a",
            56: "c2db330f6083854c99d4b5bfb6e8f29f201be699",
            57: "f08f24908d682555111be7ff6f004e78283d989a",
            63: "03f09f5b158a7a8cdad920bddc29b81c18a551f5",
            64: "0098ba824b5c16427bd7a1122a5a442a25ec644d",
            65: "11655326c708d70319be2610e8a57d9a5b959d3b",
            119: "ee971065aaa017e0632a8ca6c77bb3bf8b1dfc56",
            120: "f34c1488385346a55709ba056ddd08280dd4c6d6",
            128: "ad5b3fdbcb526778c2839d2f151ea753995e26a0",
        ]
        for (n, digest) in expected {
            XCTAssertEqual(hex(SHA1.hash([UInt8](repeating: UInt8(ascii: "a"), count: n))), digest, "length \(n)")
        }
    }

    func testStreamingEqualsOneShotAtEverySplit() {
        var rng = WireCodecTestRNG(seed: 3)
        let message = rng.bytes(200)
        let oneShot = SHA1.hash(message)
        for cut in 0...message.count {
            var hasher = SHA1()
            hasher.update(Array(message[..<cut]))
            hasher.update(Array(message[cut...]))
            XCTAssertEqual(hasher.finalize(), oneShot, "cut at \(cut)")
        }
    }

    func testFinalizeResetsTheHasher() {
        var hasher = SHA1()
        hasher.update(Array("abc".utf8))
        _ = hasher.finalize()
        XCTAssertEqual(hex(hasher.finalize()), "da39a3ee5e6b4b0d3255bfef95601890afd80709")
    }
}
