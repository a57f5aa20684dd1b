// SHA-1 (FIPS 180-4 §6.1), needed only for the RFC 6455 §4.2.2 Sec-WebSocket-Accept value.
//
// SHA-1 is broken for collision resistance; RFC 6455 uses it only to prove that the server
// understood the handshake, not for security, so that does not matter here.
//
// Streaming: `update` may be called any number of times with any chunk sizes; bytes are
// collected into one 64-byte block and each full block is compressed at once.

public struct SHA1 {
    // MARK: FIPS 180-4 §5.3.1: initial hash value H(0).
    private static let initialState: (UInt32, UInt32, UInt32, UInt32, UInt32) =
        (0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0)
    // MARK: FIPS 180-4 §4.2.1: the four round constants K(t).
    private static let k0: UInt32 = 0x5A82_7999   // 0 <= t <= 19
    private static let k1: UInt32 = 0x6ED9_EBA1   // 20 <= t <= 39
    private static let k2: UInt32 = 0x8F1B_BCDC   // 40 <= t <= 59
    private static let k3: UInt32 = 0xCA62_C1D6   // 60 <= t <= 79
    /// FIPS 180-4 §5.2.1: "the message ... is parsed into N 512-bit blocks".
    private static let blockSize = 64

    private var h: (UInt32, UInt32, UInt32, UInt32, UInt32) = SHA1.initialState
    private var block = [UInt8](repeating: 0, count: SHA1.blockSize)
    private var blockCount = 0           // bytes currently in `block`
    private var totalLength: UInt64 = 0  // message length in bytes
    private var w = [UInt32](repeating: 0, count: 80)   // message schedule, reused

    public init() {}

    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { update($0) }
    }

    public mutating func update(_ bytes: UnsafeBufferPointer<UInt8>) {
        totalLength &+= UInt64(bytes.count)
        var index = 0
        while index < bytes.count {
            let n = min(SHA1.blockSize - blockCount, bytes.count - index)
            for i in 0..<n { block[blockCount + i] = bytes[index + i] }
            blockCount += n
            index += n
            if blockCount == SHA1.blockSize {
                compressBlock()
                blockCount = 0
            }
        }
    }

    /// The 20-byte digest. The hasher is reset afterwards and may be reused.
    public mutating func finalize() -> [UInt8] {
        // FIPS 180-4 §5.1.1 padding: "append the bit 1 to the end of the message, followed by
        // k zero bits ... Then append the 64-bit block that is equal to the number l expressed
        // using a binary representation."
        let bitLength = totalLength &* 8
        var padding: [UInt8] = [0x80]
        let afterOne = (blockCount + 1) % SHA1.blockSize
        let zeros = afterOne <= 56 ? 56 - afterOne : 64 + 56 - afterOne
        padding += [UInt8](repeating: 0, count: zeros)
        for shift in stride(from: 56, through: 0, by: -8) {
            padding.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift)))
        }
        update(padding)
        precondition(blockCount == 0)

        var digest: [UInt8] = []
        digest.reserveCapacity(20)
        for word in [h.0, h.1, h.2, h.3, h.4] {
            digest += [UInt8(word >> 24), UInt8(truncatingIfNeeded: word >> 16),
                       UInt8(truncatingIfNeeded: word >> 8), UInt8(truncatingIfNeeded: word)]
        }
        self = SHA1()
        return digest
    }

    public static func hash(_ bytes: [UInt8]) -> [UInt8] {
        var hasher = SHA1()
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// FIPS 180-4 §6.1.2: SHA-1 hash computation for one 512-bit block.
    private mutating func compressBlock() {
        // Step 1: prepare the message schedule W(t).
        for t in 0..<16 {
            w[t] = UInt32(block[4 * t]) << 24 | UInt32(block[4 * t + 1]) << 16
                 | UInt32(block[4 * t + 2]) << 8 | UInt32(block[4 * t + 3])
        }
        for t in 16..<80 {
            w[t] = rotateLeft(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1)
        }
        // Step 2: initialise the working variables.
        var (a, b, c, d, e) = h
        // Step 3: 80 rounds. f(t) is Ch, Parity, Maj, Parity (§4.1.1).
        for t in 0..<80 {
            let f: UInt32, k: UInt32
            switch t {
            case 0..<20:  f = (b & c) | (~b & d);          k = SHA1.k0
            case 20..<40: f = b ^ c ^ d;                    k = SHA1.k1
            case 40..<60: f = (b & c) | (b & d) | (c & d); k = SHA1.k2
            default:      f = b ^ c ^ d;                    k = SHA1.k3
            }
            let temp = rotateLeft(a, 5) &+ f &+ e &+ k &+ w[t]
            e = d
            d = c
            c = rotateLeft(b, 30)
            b = a
            a = temp
        }
        // Step 4: the intermediate hash value H(i).
        h = (h.0 &+ a, h.1 &+ b, h.2 &+ c, h.3 &+ d, h.4 &+ e)
    }

    @inline(__always)
    private func rotateLeft(_ x: UInt32, _ n: UInt32) -> UInt32 {
        (x << n) | (x >> (32 - n))
    }
}
