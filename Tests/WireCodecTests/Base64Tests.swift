import XCTest
@testable import WireCodec

final class Base64Tests: XCTestCase {
    /// RFC 4648 §10 test vectors.
    private let vectors: [(String, String)] = [
        ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy"),
    ]

    func testRFC4648VectorsEncode() {
        for (plain, encoded) in vectors { XCTAssertEqual(Base64.encode(Array(plain.utf8)), encoded) }
    }

    func testRFC4648VectorsDecode() {
        for (plain, encoded) in vectors { XCTAssertEqual(Base64.decode(encoded), Array(plain.utf8)) }
    }

    func testDecodeRejectsLengthNotMultipleOfFour() {
        for text in ["Z", "Zg", "Zg=", "Zm9vY", "Zm9vYg="] { XCTAssertNil(Base64.decode(text), text) }
    }

    func testDecodeRejectsCharactersOutsideTheAlphabet() {
        for text in ["Zm9!", "Zm9v YmFy", " Zg==", "Zg==\n", "Zm-_", "Zm9\u{e9}"] {
            XCTAssertNil(Base64.decode(text), text)
        }
    }

    func testDecodeRejectsMisplacedPadding() {
        for text in ["====", "Z===", "=Zg=", "Zg==Zg==", "Z=g=", "Zm=v"] { XCTAssertNil(Base64.decode(text), text) }
    }

    /// RFC 4648 §3.5: non-zero pad bits make an encoding non-canonical ("Zh==" is not "Zg==").
    func testDecodeRejectsNonZeroPadBits() {
        XCTAssertNil(Base64.decode("Zh=="))
        XCTAssertNil(Base64.decode("Zm9="))
        XCTAssertEqual(Base64.decode("Zm8="), Array("fo".utf8))
    }

    func testRandomRoundTrip() {
        var rng = WireCodecTestRNG(seed: 11)
        for length in 0..<100 {
            let bytes = rng.bytes(length)
            let encoded = Base64.encode(bytes)
            XCTAssertEqual(encoded.utf8.count, (length + 2) / 3 * 4)
            XCTAssertEqual(Base64.decode(encoded), bytes)
        }
    }
}
