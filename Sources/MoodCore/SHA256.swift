import CCrypto
import Foundation

/// SHA-256 (FIPS 180-4), used for cache keys, report digests and download checksums.
///
/// The hashing itself is the system's OpenSSL libcrypto (its EVP digest interface, through
/// the `CCrypto` shim): maintained and audited, using the CPU's SHA extensions where there
/// are any, about 6x faster here than the Swift compression function it replaced, with the
/// same digests (see README, *Design notes*). Checked against the FIPS 180-4 vectors in
/// `MoodCoreTests`. A value type: a copy taken mid-stream hashes on independently.
public struct SHA256 {
    /// Owns one `EVP_MD_CTX`; copied before a write when shared (copy-on-write).
    private final class Context {
        let pointer: OpaquePointer
        init() {
            guard let p = EVP_MD_CTX_new(), EVP_DigestInit_ex(p, EVP_sha256(), nil) == 1 else {
                fatalError("libcrypto: cannot set up a SHA-256 context")
            }
            pointer = p
        }
        init(copying other: Context) {
            guard let p = EVP_MD_CTX_new(), EVP_MD_CTX_copy_ex(p, other.pointer) == 1 else {
                fatalError("libcrypto: cannot copy a SHA-256 context")
            }
            pointer = p
        }
        deinit { EVP_MD_CTX_free(pointer) }
    }

    private var context = Context()
    private var digest: [UInt8]? = nil

    public init() {}

    /// Hashes `bytes` in one call and returns the lowercase hex digest.
    public static func hex<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var hasher = SHA256()
        hasher.update(bytes)
        return hasher.finalizeHex()
    }

    /// Hashes a file's content, reading it in 1 MiB pieces.
    public static func hex(ofFile path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw InputError(path, "cannot open for reading")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            chunk.withUnsafeBytes { hasher.update(raw: $0) }
        }
        return hasher.finalizeHex()
    }

    public mutating func update<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        if let done = bytes.withContiguousStorageIfAvailable({ update(raw: UnsafeRawBufferPointer($0)) }) {
            return done
        }
        Array(bytes).withUnsafeBytes { update(raw: $0) }
    }

    public mutating func update(raw bytes: UnsafeRawBufferPointer) {
        precondition(digest == nil, "SHA256.update after finalize")
        if !isKnownUniquelyReferenced(&context) { context = Context(copying: context) }
        guard bytes.count > 0 else { return }
        guard EVP_DigestUpdate(context.pointer, bytes.baseAddress, bytes.count) == 1 else {
            fatalError("libcrypto: SHA-256 update failed")
        }
    }

    /// The 32-byte digest. The hasher is then spent: finalizing again returns the same digest.
    public mutating func finalize() -> [UInt8] {
        if let digest { return digest }
        if !isKnownUniquelyReferenced(&context) { context = Context(copying: context) }
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard EVP_DigestFinal_ex(context.pointer, &out, &length) == 1, length == 32 else {
            fatalError("libcrypto: SHA-256 finalisation failed")
        }
        let result = Array(out.prefix(32))
        digest = result
        return result
    }

    public mutating func finalizeHex() -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(64)
        for byte in finalize() { text += [digits[Int(byte >> 4)], digits[Int(byte & 15)]] }
        return String(decoding: text, as: UTF8.self)
    }
}
