// HPACK beyond Appendix C: the Huffman code's shape (Appendix B), the §5.2 padding rules, table
// size updates (§4.2, §6.3), eviction edge cases (§4.4), bad indexes, the header-list limit
// that stops an HPACK bomb, and seeded random blocks (a value or a typed error, never a trap).
import XCTest
@testable import WireCodec

final class HPACKErrorTests: XCTestCase {
    typealias F = HPACKHeaderField

    func testAppendixBIsACompleteCanonicalPrefixCode() {
        let table = HPACKHuffman.table
        XCTAssertEqual(table.count, 257)
        // Kraft sum exactly 1: every bit string is a prefix of some code (no gaps) ...
        var kraft = 0.0
        for entry in table { kraft += 1.0 / Double(UInt64(1) << UInt64(entry.length)) }
        XCTAssertEqual(kraft, 1.0)
        // ... and canonical: sorted by (length, symbol), each code is the previous + 1, shifted.
        let order = (0...256).sorted { (table[$0].length, $0) < (table[$1].length, $1) }
        for (a, b) in zip(order, order.dropFirst()) {
            let expected = (table[a].code + 1) << UInt32(table[b].length - table[a].length)
            XCTAssertEqual(table[b].code, expected, "symbol \(b)")
        }
        // Spot checks against Appendix B: '0' 00000 (5), 'a' 00011 (5), EOS thirty ones.
        XCTAssertTrue(table[0x30] == (0x0, 5))
        XCTAssertTrue(table[0x61] == (0x3, 5))
        XCTAssertTrue(table[256] == (0x3FFF_FFFF, 30))
    }

    func testHuffmanRoundTripsEveryOctet() throws {
        var rng = WireCodecTestRNG(seed: 11)
        var inputs: [[UInt8]] = [[], Array(0...255), Array((0...255).reversed())]
        for n in 0..<200 { inputs.append(rng.bytes(n % 40)) }
        for input in inputs {
            var out: [UInt8] = []
            HPACKHuffman.encode(input, into: &out)
            XCTAssertEqual(out.count, HPACKHuffman.encodedCount(input))
            XCTAssertEqual(try HPACKHuffman.decode(out[...]), input)
        }
    }

    func testHuffmanPaddingRules() {
        // "a" is 00011; padded with ones: 00011111 = 0x1f decodes.
        XCTAssertEqual(try HPACKHuffman.decode([0x1F][...]), [0x61])
        // Padding with a zero bit (00011110): not the EOS prefix.
        XCTAssertThrowsError(try HPACKHuffman.decode([0x1E][...])) { XCTAssertEqual($0 as? HPACKError, .invalidHuffman) }
        // A whole byte of padding (8 ones after "a" fills the byte): "strictly longer than 7 bits".
        XCTAssertThrowsError(try HPACKHuffman.decode([0x1F, 0xFF][...])) { XCTAssertEqual($0 as? HPACKError, .invalidHuffman) }
        // EOS itself (30 ones + 2 ones of padding).
        XCTAssertThrowsError(try HPACKHuffman.decode([0xFF, 0xFF, 0xFF, 0xFF][...])) { XCTAssertEqual($0 as? HPACKError, .invalidHuffman) }
    }

    func testTableSizeUpdates() throws {
        var decoder = HPACKDecoder(maxTableSize: 4096)
        _ = try decoder.decode(hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"))
        XCTAssertEqual(decoder.dynamicTable.size, 55)
        // 0x20 = size update to 0: empties the table (§4.3).
        XCTAssertEqual(try decoder.decode([0x20, 0x82]), [F(":method", "GET")])
        XCTAssertEqual(decoder.dynamicTable.count, 0)
        XCTAssertEqual(decoder.dynamicTable.maxSize, 0)
        // Two updates at the start are fine; after a field they are not (§4.2).
        XCTAssertEqual(try decoder.decode([0x20, 0x3F, 0xE1, 0x1F, 0x82]), [F(":method", "GET")])
        XCTAssertEqual(decoder.dynamicTable.maxSize, 4096)
        XCTAssertThrowsError(try decoder.decode([0x82, 0x20])) { XCTAssertEqual($0 as? HPACKError, .tableSizeUpdateNotAtStart) }
        // Above our SETTINGS_HEADER_TABLE_SIZE (4097 = 0x3f e2 1f).
        var d2 = HPACKDecoder(maxTableSize: 4096)
        XCTAssertThrowsError(try d2.decode([0x3F, 0xE2, 0x1F])) { XCTAssertEqual($0 as? HPACKError, .tableSizeUpdateTooLarge(4097)) }
        // We lowered our limit: the next block must open with an update.
        var d3 = HPACKDecoder(maxTableSize: 4096)
        d3.setMaxAllowedTableSize(100)
        XCTAssertThrowsError(try d3.decode([0x82])) { XCTAssertEqual($0 as? HPACKError, .tableSizeUpdateMissing) }
        var d4 = HPACKDecoder(maxTableSize: 4096)
        d4.setMaxAllowedTableSize(100)
        XCTAssertEqual(try d4.decode([0x3F, 0x45, 0x82]), [F(":method", "GET")])   // 100 = 31 + 69
        XCTAssertEqual(d4.dynamicTable.maxSize, 100)
    }

    func testEncoderAnnouncesSizeUpdates() throws {
        var encoder = HPACKEncoder(huffman: .never)
        var decoder = HPACKDecoder()
        _ = try decoder.decode(encoder.encode([F("custom-key", "custom-header")]))
        encoder.setMaxTableSize(0)
        encoder.setMaxTableSize(200)
        let block = encoder.encode([F("custom-key", "custom-header")])
        XCTAssertEqual(Array(block.prefix(4)), [0x20, 0x3F, 0xA9, 0x01])   // 0, then 200 = 31 + 169
        XCTAssertEqual(try decoder.decode(block), [F("custom-key", "custom-header")])
        XCTAssertEqual(decoder.dynamicTable.maxSize, 200)
        XCTAssertEqual(decoder.dynamicTable.count, 1)
    }

    func testEntryLargerThanTableEmptiesIt() {
        var table = HPACKDynamicTable(maxSize: 100)
        table.add(F("a", "b"))
        XCTAssertEqual(table.size, 34)
        table.add(F("long", String(repeating: "x", count: 80)))   // 116 > 100
        XCTAssertEqual(table.count, 0)
        XCTAssertEqual(table.size, 0)
    }

    func testInvalidIndexes() {
        var decoder = HPACKDecoder()
        XCTAssertThrowsError(try decoder.decode([0x80])) { XCTAssertEqual($0 as? HPACKError, .invalidIndex(0)) }
        XCTAssertThrowsError(try decoder.decode([0xBE])) { XCTAssertEqual($0 as? HPACKError, .invalidIndex(62)) }
        XCTAssertThrowsError(try decoder.decode([0x7F, 0x00, 0x01, 0x61])) { XCTAssertEqual($0 as? HPACKError, .invalidIndex(63)) }
        XCTAssertThrowsError(try decoder.decode([0x40, 0x05, 0x61])) { XCTAssertEqual($0 as? HPACKError, .truncated) }
    }

    /// The HPACK bomb: one 4 KB entry, then a block of 1-byte references to it. The list would
    /// be megabytes; the decoder refuses past 16 KiB but decodes the block to its end, so the
    /// table stays usable for the next block.
    func testHPACKBombIsRefusedAndTableStaysInStep() throws {
        var encoder = HPACKEncoder(huffman: .never)
        var decoder = HPACKDecoder(maxHeaderListSize: 16384)
        let big = F("x-big", String(repeating: "b", count: 4000))
        _ = try decoder.decode(encoder.encode([big]))
        let bomb = [UInt8](repeating: 0xBE, count: 1000)   // index 62, 1000 times ≈ 4 MB
        XCTAssertThrowsError(try decoder.decode(bomb)) {
            guard case .headerListTooLarge(let size)? = $0 as? HPACKError else { return XCTFail("\($0)") }
            XCTAssertEqual(size, 1000 * big.size)
        }
        XCTAssertEqual(try decoder.decode(encoder.encode([big, F(":method", "GET")])), [big, F(":method", "GET")])
    }

    func testRandomBlocksGiveFieldsOrTypedError() {
        var rng = WireCodecTestRNG(seed: 0x4850_4143)
        var decoded = 0, failed = 0
        for n in 0..<3000 {
            var decoder = HPACKDecoder(maxTableSize: 256, maxHeaderListSize: 4096)
            // Half the blocks start from a valid prefix so decoding gets past the first byte.
            let prefix: [UInt8] = n % 2 == 0 ? hex("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff") : []
            let block = prefix + rng.bytes(Int(rng.next() % 64))
            do { _ = try decoder.decode(block); decoded += 1 } catch { failed += 1 }   // typed throws: always an HPACKError
            XCTAssertLessThanOrEqual(decoder.dynamicTable.size, decoder.dynamicTable.maxSize)
        }
        XCTAssertEqual(decoded + failed, 3000)
        XCTAssertGreaterThan(decoded, 0)
        XCTAssertGreaterThan(failed, 0)
    }
}
