// What can go wrong while decoding an HPACK field block (RFC 7541). Every case except
// `headerListTooLarge` leaves the decoder's dynamic table in an unknown state, so HTTP/2 turns
// it into a connection error of type COMPRESSION_ERROR (RFC 9113 §4.3). `headerListTooLarge` is
// reported only after the whole block was decoded, so the table is still in step with the
// peer's and the connection can refuse just that one request.

public enum HPACKError: Error, Equatable, Sendable {
    /// The block ended inside a representation.
    case truncated
    /// An integer past `HPACKInteger.maxValue` (§5.1).
    case integerTooLarge
    /// Index 0, or past the static and dynamic tables (§2.3.3: "MUST be treated as a decoding error").
    case invalidIndex(Int)
    /// Huffman string with the EOS symbol, padding over 7 bits, or padding that is not all ones (§5.2).
    case invalidHuffman
    /// A size update above the limit the decoder's owner allows (§6.3 and §4.2).
    case tableSizeUpdateTooLarge(Int)
    /// A size update after the first field of a block (§4.2: "MUST occur at the beginning").
    case tableSizeUpdateNotAtStart
    /// The peer was asked to shrink its table (our SETTINGS_HEADER_TABLE_SIZE went down) and
    /// the next block does not start with the size update (§4.2).
    case tableSizeUpdateMissing
    /// A string literal longer than the block could hold, or than our limit.
    case stringTooLong(Int)
    /// The decoded header list is bigger than `maxHeaderListSize` (RFC 9113 §6.5.2 counting:
    /// name + value + 32 per field). The whole block was still decoded.
    case headerListTooLarge(Int)
}
