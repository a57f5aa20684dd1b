import XCTest
@testable import WireCodec

final class UTF8ValidatorTests: XCTestCase {
    /// Reference: decode each sequence to a code point and check RFC 3629's limits directly
    /// (no overlongs, no surrogates, nothing above U+10FFFF). Slow and obvious on purpose.
    static func naiveIsValid(_ bytes: [UInt8]) -> Bool {
        var i = 0
        while i < bytes.count {
            let lead = bytes[i]
            let extra: Int, smallest: UInt32
            var scalar: UInt32
            switch lead {
            case 0x00...0x7F: i += 1; continue
            case _ where lead & 0xE0 == 0xC0: extra = 1; scalar = UInt32(lead & 0x1F); smallest = 0x80
            case _ where lead & 0xF0 == 0xE0: extra = 2; scalar = UInt32(lead & 0x0F); smallest = 0x800
            case _ where lead & 0xF8 == 0xF0: extra = 3; scalar = UInt32(lead & 0x07); smallest = 0x10000
            default: return false
            }
            guard i + extra < bytes.count else { return false }
            for k in 1...extra {
                guard bytes[i + k] & 0xC0 == 0x80 else { return false }
                scalar = scalar << 6 | UInt32(bytes[i + k] & 0x3F)
            }
            guard scalar >= smallest, scalar <= 0x10FFFF, !(0xD800...0xDFFF).contains(scalar) else { return false }
            i += extra + 1
        }
        return true
    }

    /// Validate in two pieces cut at every boundary; all must agree with `expected`.
    func assertValidity(_ bytes: [UInt8], _ expected: Bool, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(UTF8Validator.isValid(bytes), expected, "\(bytes)", file: file, line: line)
        for chunks in Splits.all(bytes, randomCount: 3) {
            var validator = UTF8Validator()
            var ok = true
            for chunk in chunks where ok { ok = validator.validate(chunk) }
            XCTAssertEqual(ok && validator.isComplete, expected, "\(bytes) as \(chunks)", file: file, line: line)
        }
    }

    // MARK: - The classic invalid sequences

    func testRejectsOverlongTwoByteSlash() { assertValidity([0xC0, 0xAF], false) }
    func testRejectsOverlongThreeByteSlash() { assertValidity([0xE0, 0x80, 0xAF], false) }
    func testRejectsOverlongFourByte() { assertValidity([0xF0, 0x8F, 0xBF, 0xBF], false) }
    func testRejectsSurrogateD800() { assertValidity([0xED, 0xA0, 0x80], false) }
    func testRejectsSurrogateDFFF() { assertValidity([0xED, 0xBF, 0xBF], false) }
    func testRejectsCodePointAbove10FFFF() { assertValidity([0xF4, 0x90, 0x80, 0x80], false) }
    func testRejectsLoneContinuationByte() { assertValidity([0x80], false) }
    func testRejectsFiveByteSequence() { assertValidity([0xF8, 0x88, 0x80, 0x80, 0x80], false) }
    func testRejectsBytesF5ToFF() { for byte: UInt8 in 0xF5...0xFF { assertValidity([byte], false) } }
    func testRejectsMissingContinuation() { assertValidity([0xC3, 0x41], false) }

    func testTruncatedSequenceIsValidSoFarButIncomplete() {
        var validator = UTF8Validator()
        XCTAssertTrue(validator.validate([0xE2, 0x82]))
        XCTAssertFalse(validator.isComplete)
        XCTAssertFalse(UTF8Validator.isValid([0xE2, 0x82]))
        XCTAssertTrue(validator.validate([0xAC]))
        XCTAssertTrue(validator.isComplete)
    }

    /// Fail fast: the error is reported on the byte that makes it, not at the end.
    func testFailsOnTheFirstImpossibleByte() {
        for bad: [UInt8] in [[0xE0, 0x80], [0xED, 0xA0], [0xF0, 0x80], [0xF4, 0x90], [0xC0], [0xC1], [0x80]] {
            var validator = UTF8Validator()
            XCTAssertFalse(validator.validate(bad), "\(bad)")
            XCTAssertFalse(validator.validate([0x41]), "stays failed")
            XCTAssertFalse(validator.isComplete)
        }
    }

    // MARK: - Valid text

    func testAcceptsBoundaryCodePoints() {
        for scalar: UInt32 in [0, 0x7F, 0x80, 0x7FF, 0x800, 0xD7FF, 0xE000, 0xFFFD, 0xFFFF, 0x10000, 0x10FFFF] {
            assertValidity(Array(String(Unicode.Scalar(scalar)!).utf8), true)
        }
    }

    func testAcceptsMultiByteTextSplitAtEveryBoundary() {
        assertValidity(Array("κόσμε — Hello, 世界! 🎉 naïve café".utf8), true)
        assertValidity([], true)
    }

    /// The 8-bytes-at-a-time ASCII fast path must notice a non-ASCII byte at any position.
    func testASCIIFastPathFindsNonASCIIAtEveryPosition() {
        for position in 0..<24 {
            var bytes = [UInt8](repeating: 0x61, count: 24)
            bytes[position] = 0x80
            XCTAssertFalse(UTF8Validator.isValid(bytes), "lone continuation at \(position)")
            var valid = [UInt8](repeating: 0x61, count: 24)
            valid.insert(contentsOf: [0xC3, 0xA9], at: position)
            XCTAssertTrue(UTF8Validator.isValid(valid), "é at \(position)")
        }
    }

    // MARK: - Random inputs against two references

    func testRandomInputsAgreeWithNaiveDecoderAndStandardLibrary() {
        var rng = WireCodecTestRNG(seed: 3629)
        let interesting: [UInt8] = [0x00, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF,
                                    0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF]
        var validCount = 0
        for round in 0..<3000 {
            var bytes: [UInt8] = []
            // Mostly valid text built from random scalars, then a few random corruptions.
            for _ in 0..<Int.random(in: 0...12, using: &rng) {
                let ranges: [ClosedRange<UInt32>] = [0...0x7F, 0x80...0x7FF, 0x800...0xD7FF, 0xE000...0xFFFF, 0x10000...0x10FFFF]
                let scalar = Unicode.Scalar(UInt32.random(in: ranges.randomElement(using: &rng)!, using: &rng))!
                bytes += Array(String(scalar).utf8)
            }
            for _ in 0..<Int.random(in: 0...2, using: &rng) where !bytes.isEmpty {
                let index = Int.random(in: 0..<bytes.count, using: &rng)
                bytes[index] = round % 2 == 0 ? interesting.randomElement(using: &rng)! : UInt8.random(in: 0...255, using: &rng)
            }
            let expected = Self.naiveIsValid(bytes)
            XCTAssertEqual(expected, String(validating: bytes, as: UTF8.self) != nil, "references disagree on \(bytes)")
            XCTAssertEqual(UTF8Validator.isValid(bytes), expected, "\(bytes)")
            // And split in two at a random place.
            let cut = Int.random(in: 0...bytes.count, using: &rng)
            var validator = UTF8Validator()
            let ok = validator.validate(Array(bytes[..<cut])) && validator.validate(Array(bytes[cut...]))
            XCTAssertEqual(ok && validator.isComplete, expected, "\(bytes) cut at \(cut)")
            if expected { validCount += 1 }
        }
        // Both outcomes must be well represented for the comparison to mean anything.
        XCTAssertGreaterThan(validCount, 500)
        XCTAssertLessThan(validCount, 2500)
    }
}
