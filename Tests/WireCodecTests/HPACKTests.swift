// RFC 7541 Appendix C, every example, byte for byte: decode the RFC's bytes and check the
// header list and the dynamic table after each block; encode the header list and check we
// produce the RFC's bytes and the same table. Plus Appendix B properties and §5.2 errors.
import XCTest
@testable import WireCodec

/// "8286 8441" → bytes (spaces and line breaks ignored).
func hex(_ text: String) -> [UInt8] {
    let digits = Array(text.filter { !$0.isWhitespace })
    precondition(digits.count % 2 == 0)
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
}

final class HPACKTests: XCTestCase {
    typealias F = HPACKHeaderField

    // MARK: - C.1 integers

    func testC1IntegerExamples() throws {
        // C.1.1: 10 with a 5-bit prefix → 0a (the three high bits belong to the pattern).
        var out: [UInt8] = []
        HPACKInteger.encode(10, prefixBits: 5, into: &out)
        XCTAssertEqual(out, [0x0A])
        // C.1.2: 1337 with a 5-bit prefix → 1f 9a 0a.
        out = []
        HPACKInteger.encode(1337, prefixBits: 5, into: &out)
        XCTAssertEqual(out, [0x1F, 0x9A, 0x0A])
        // C.1.3: 42 starting at an octet boundary (8-bit prefix) → 2a.
        out = []
        HPACKInteger.encode(42, prefixBits: 8, into: &out)
        XCTAssertEqual(out, [0x2A])

        for (bytes, prefix, value) in [([UInt8(0xEA)], 5, 10), ([0xFF, 0x9A, 0x0A], 5, 1337), ([0x2A], 8, 42)] {
            var i = 0
            XCTAssertEqual(try HPACKInteger.decode(bytes, at: &i, prefixBits: prefix), value)
            XCTAssertEqual(i, bytes.count)
        }
    }

    func testIntegerRoundTripAndLimits() throws {
        var rng = WireCodecTestRNG(seed: 7)
        for prefix in 1...8 {
            for value in [0, 1, (1 << prefix) - 2, (1 << prefix) - 1, 1 << prefix, 127, 128, 16383, 16384,
                          Int(rng.next() % 1_000_000), HPACKInteger.maxValue] {
                var out: [UInt8] = []
                HPACKInteger.encode(value, prefixBits: prefix, into: &out)
                var i = 0
                XCTAssertEqual(try HPACKInteger.decode(out, at: &i, prefixBits: prefix), value)
                XCTAssertEqual(i, out.count)
                // Every shorter prefix of an encoding is truncated.
                for cut in 0..<out.count {
                    var j = 0
                    XCTAssertThrowsError(try HPACKInteger.decode(Array(out[..<cut]), at: &j, prefixBits: prefix)) {
                        XCTAssertEqual($0 as? HPACKError, .truncated)
                    }
                }
            }
        }
        var i = 0
        XCTAssertThrowsError(try HPACKInteger.decode([0x1F, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F], at: &i, prefixBits: 5)) {
            XCTAssertEqual($0 as? HPACKError, .integerTooLarge)
        }
        i = 0   // zero groups forever: refused after 5 continuation bytes, not looping
        XCTAssertThrowsError(try HPACKInteger.decode([0x1F] + [UInt8](repeating: 0x80, count: 20) + [0], at: &i, prefixBits: 5)) {
            XCTAssertEqual($0 as? HPACKError, .integerTooLarge)
        }
    }

    // MARK: - C.2 header field representations

    func testC2_1LiteralWithIndexing() throws {
        try assertBlock(hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"),
                        [F("custom-key", "custom-header")], table: [("custom-key", "custom-header")], tableSize: 55)
    }

    func testC2_2LiteralWithoutIndexing() throws {
        let bytes = hex("040c 2f73 616d 706c 652f 7061 7468")
        var decoder = HPACKDecoder()
        XCTAssertEqual(try decoder.decode(bytes), [F(":path", "/sample/path")])
        XCTAssertEqual(decoder.dynamicTable.count, 0)
        var encoder = HPACKEncoder(huffman: .never)
        var out: [UInt8] = []
        encoder.encodeWithoutIndexing(F(":path", "/sample/path"), into: &out)
        XCTAssertEqual(out, bytes)
        XCTAssertEqual(encoder.dynamicTable.count, 0)
    }

    func testC2_3LiteralNeverIndexed() throws {
        try assertBlock(hex("1008 7061 7373 776f 7264 0673 6563 7265 74"),
                        [F("password", "secret", neverIndex: true)], table: [], tableSize: 0)
    }

    func testC2_4Indexed() throws {
        try assertBlock([0x82], [F(":method", "GET")], table: [], tableSize: 0)
    }

    // MARK: - C.3 / C.4 requests

    static let requests: [[F]] = [
        [F(":method", "GET"), F(":scheme", "http"), F(":path", "/"), F(":authority", "www.example.com")],
        [F(":method", "GET"), F(":scheme", "http"), F(":path", "/"), F(":authority", "www.example.com"),
         F("cache-control", "no-cache")],
        [F(":method", "GET"), F(":scheme", "https"), F(":path", "/index.html"), F(":authority", "www.example.com"),
         F("custom-key", "custom-value")],
    ]
    static let requestTables: [([(String, String)], Int)] = [
        ([(":authority", "www.example.com")], 57),
        ([("cache-control", "no-cache"), (":authority", "www.example.com")], 110),
        ([("custom-key", "custom-value"), ("cache-control", "no-cache"), (":authority", "www.example.com")], 164),
    ]

    func testC3RequestsWithoutHuffman() throws {
        try assertSequence([
            hex("8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d"),
            hex("8286 84be 5808 6e6f 2d63 6163 6865"),
            hex("8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65"),
        ], Self.requests, Self.requestTables, tableSize: 4096, huffman: .never)
    }

    func testC4RequestsWithHuffman() throws {
        try assertSequence([
            hex("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff"),
            hex("8286 84be 5886 a8eb 1064 9cbf"),
            hex("8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf"),
        ], Self.requests, Self.requestTables, tableSize: 4096, huffman: .always)
    }

    // MARK: - C.5 / C.6 responses, table of 256 bytes, with eviction

    static let cookie = "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"
    static let responses: [[F]] = [
        [F(":status", "302"), F("cache-control", "private"), F("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
         F("location", "https://www.example.com")],
        [F(":status", "307"), F("cache-control", "private"), F("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
         F("location", "https://www.example.com")],
        [F(":status", "200"), F("cache-control", "private"), F("date", "Mon, 21 Oct 2013 20:13:22 GMT"),
         F("location", "https://www.example.com"), F("content-encoding", "gzip"), F("set-cookie", cookie)],
    ]
    static let responseTables: [([(String, String)], Int)] = [
        ([("location", "https://www.example.com"), ("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
          ("cache-control", "private"), (":status", "302")], 222),
        ([(":status", "307"), ("location", "https://www.example.com"), ("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
          ("cache-control", "private")], 222),
        ([("set-cookie", cookie), ("content-encoding", "gzip"), ("date", "Mon, 21 Oct 2013 20:13:22 GMT")], 215),
    ]

    func testC5ResponsesWithoutHuffman() throws {
        try assertSequence([
            hex("""
                4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133
                2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70
                6c65 2e63 6f6d
                """),
            hex("4803 3330 37c1 c0bf"),
            hex("""
                88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d
                54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049
                5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e
                3d31
                """),
        ], Self.responses, Self.responseTables, tableSize: 256, huffman: .never)
    }

    func testC6ResponsesWithHuffman() throws {
        try assertSequence([
            hex("""
                4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6
                2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3
                """),
            hex("4883 640e ffc1 c0bf"),
            hex("""
                88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab
                77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f
                9587 3160 65c0 03ed 4ee5 b106 3d50 07
                """),
        ], Self.responses, Self.responseTables, tableSize: 256, huffman: .always)
    }

    // MARK: - Helpers

    func assertTable(_ table: HPACKDynamicTable, _ expected: [(String, String)], size: Int,
                     _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(table.newestFirst.map { "\($0.name): \($0.value)" }, expected.map { "\($0.0): \($0.1)" },
                       what, file: file, line: line)
        XCTAssertEqual(table.size, size, what, file: file, line: line)
    }

    /// One block: decoded fields and table; the encoder reproduces the bytes and the table.
    func assertBlock(_ bytes: [UInt8], _ fields: [F], table: [(String, String)], tableSize: Int,
                     file: StaticString = #filePath, line: UInt = #line) throws {
        var decoder = HPACKDecoder()
        XCTAssertEqual(try decoder.decode(bytes), fields, file: file, line: line)
        assertTable(decoder.dynamicTable, table, size: tableSize, "decoder", file: file, line: line)
        var encoder = HPACKEncoder(huffman: .never)
        XCTAssertEqual(encoder.encode(fields), bytes, file: file, line: line)
        assertTable(encoder.dynamicTable, table, size: tableSize, "encoder", file: file, line: line)
    }

    /// Consecutive blocks on one connection, both directions, table checked after each.
    func assertSequence(_ blocks: [[UInt8]], _ lists: [[F]], _ tables: [([(String, String)], Int)],
                        tableSize: Int, huffman: HPACKEncoder.HuffmanPolicy,
                        file: StaticString = #filePath, line: UInt = #line) throws {
        var decoder = HPACKDecoder(maxTableSize: tableSize)
        var encoder = HPACKEncoder(maxTableSize: tableSize, huffman: huffman)
        for (n, block) in blocks.enumerated() {
            XCTAssertEqual(try decoder.decode(block), lists[n], "block \(n + 1) decoded", file: file, line: line)
            assertTable(decoder.dynamicTable, tables[n].0, size: tables[n].1, "decoder after block \(n + 1)", file: file, line: line)
            XCTAssertEqual(encoder.encode(lists[n]), block, "block \(n + 1) encoded", file: file, line: line)
            assertTable(encoder.dynamicTable, tables[n].0, size: tables[n].1, "encoder after block \(n + 1)", file: file, line: line)
        }
    }
}
