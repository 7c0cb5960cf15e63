import Foundation

/// CRC-32C (Castagnoli), the checksum LevelDB tables and TensorFlow checkpoints store.
///
/// Reflected polynomial 0x82F63B78, initial value and final XOR 0xFFFFFFFF:
/// `checksum("123456789")` is 0xE3069283. Stored checksums are *masked* (see ``mask(_:)``).
public enum CRC32C {
    /// Slicing-by-8 tables: table `k` (entries `256k ..< 256(k+1)`) gives a byte's effect
    /// on the CRC `k` bytes further on, so one step folds in eight bytes; table 0 is the classic one.
    /// Several times faster than byte-at-a-time on the multi-megabyte data shards.
    static let tables: [UInt32] = {
        var t = [UInt32](repeating: 0, count: 8 * 256)
        for i in 0..<256 {
            var c = UInt32(i)
            for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
            t[i] = c
        }
        for k in 1..<8 {
            for i in 0..<256 {
                let previous = t[(k - 1) * 256 + i]
                t[k * 256 + i] = (previous >> 8) ^ t[Int(previous & 0xFF)]
            }
        }
        return t
    }()

    /// The CRC-32C of `bytes`.
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 { extend(0, bytes) }

    /// The CRC-32C of `bytes` (an array, slice or `Data`).
    public static func checksum<Bytes: ContiguousBytes>(_ bytes: Bytes) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0) }
    }

    /// Continues a finished checksum over more bytes: `extend(checksum(a), b) == checksum(a + b)`.
    public static func extend(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var c = ~crc
        tables.withUnsafeBufferPointer { t in
            var i = 0
            while bytes.count - i >= 8 {
                let low = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt32.self)) ^ c
                let high = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: i + 4, as: UInt32.self))
                c =
                    t[7 * 256 + Int(low & 0xFF)] ^ t[6 * 256 + Int((low >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((low >> 16) & 0xFF)] ^ t[4 * 256 + Int(low >> 24)]
                    ^ t[3 * 256 + Int(high & 0xFF)] ^ t[2 * 256 + Int((high >> 8) & 0xFF)]
                    ^ t[256 + Int((high >> 16) & 0xFF)] ^ t[Int(high >> 24)]
                i += 8
            }
            while i < bytes.count {
                c = t[Int((c ^ UInt32(bytes[i])) & 0xFF)] ^ (c >> 8)
                i += 1
            }
        }
        return ~c
    }

    /// Continues a finished checksum over more bytes (an array, slice or `Data`).
    public static func extend<Bytes: ContiguousBytes>(_ crc: UInt32, _ bytes: Bytes) -> UInt32 {
        bytes.withUnsafeBytes { extend(crc, $0) }
    }

    private static let maskDelta: UInt32 = 0xA282_EAD8

    /// LevelDB's and TensorFlow's stored form of a CRC: rotated right by 15 bits plus a constant,
    /// because the CRC of data that itself embeds CRCs is prone to degenerate values.
    public static func mask(_ crc: UInt32) -> UInt32 {
        ((crc >> 15) | (crc << 17)) &+ maskDelta
    }

    /// The CRC a masked value stands for; the inverse of ``mask(_:)``.
    public static func unmask(_ masked: UInt32) -> UInt32 {
        let rotated = masked &- maskDelta
        return (rotated >> 17) | (rotated << 15)
    }
}
