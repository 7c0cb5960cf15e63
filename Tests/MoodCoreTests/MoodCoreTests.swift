import Foundation
@testable import MoodCore
import Testing

@Suite struct SHA256Tests {
    /// FIPS 180-4 / NIST example vectors.
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (
            "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        ),
    ])
    func knownVectors(message: String, digest: String) {
        #expect(SHA256.hex(Array(message.utf8)) == digest)
    }

    @Test func millionAsInPiecesOfAnySize() {
        var hasher = SHA256()
        let piece = [UInt8](repeating: 0x61, count: 777)
        var left = 1_000_000
        while left > 0 {
            let n = min(left, piece.count)
            hasher.update(piece[0..<n])
            left -= n
        }
        #expect(hasher.finalizeHex() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Five megabytes fed in odd piece sizes (below, at and across the 64-byte block, and
    /// across 1 MiB) give the one-shot digest, which Python's hashlib gave for the same bytes.
    @Test func multiMegabyteStreamInOddPiecesEqualsOneShot() {
        let count = 5 * (1 << 20) + 17
        let bytes = (0..<count).map { i in UInt8(truncatingIfNeeded: (i * i * 7 + i * 13 + 5) >> 3) }
        let expected = "31272e6856806e05aa91819de6b25f60fae5cb2b5666c67c08b5d49d1dee90fd"
        #expect(SHA256.hex(bytes) == expected)
        var hasher = SHA256()
        let sizes = [1, 63, 64, 65, 127, 0, 4097, (1 << 20) + 3, 511]
        var offset = 0, turn = 0
        while offset < count {
            let n = min(sizes[turn % sizes.count], count - offset)
            bytes[offset..<offset + n].withUnsafeBytes { hasher.update(raw: $0) }
            offset += n
            turn += 1
        }
        #expect(hasher.finalizeHex() == expected)
        #expect(SHA256.hex(bytes[..<1_000_003]) == "9c59a878e23621a350d5055e2012243aa1473172d3b5fd05ee22cd2d0e95c26b")
    }

    /// A hasher is a value: a copy taken mid-stream hashes on without touching the original.
    @Test func aCopyTakenMidStreamIsIndependent() {
        var original = SHA256()
        original.update(Array("ab".utf8))
        var copy = original
        copy.update(Array("cdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
        original.update(Array("c".utf8))
        #expect(original.finalizeHex() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(copy.finalizeHex() == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test func fileHashEqualsMemoryHash() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sha-\(getpid()).bin")
        defer { try? FileManager.default.removeItem(at: url) }
        let bytes = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        try Data(bytes).write(to: url)
        #expect(try SHA256.hex(ofFile: url.path) == SHA256.hex(bytes))
        #expect(throws: InputError.self) { try SHA256.hex(ofFile: "/nonexistent/file") }
    }
}

@Suite struct NPYTests {
    func npy(_ descr: String, shape: String, payload: [UInt8]) -> Data {
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        let length = header.utf8.count
        return Data(
            [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(length & 0xFF), UInt8(length >> 8)] + Array(header.utf8)
                + payload)
    }

    @Test func readsFloatsAndBooleans() throws {
        let floats: [Float] = [1.5, -2, 0.25, 3, 4, 5]
        let payload = floats.flatMap { f in withUnsafeBytes(of: f.bitPattern.littleEndian) { Array($0) } }
        let array = try NPYArray(data: npy("<f4", shape: "(2, 3)", payload: payload))
        #expect(array.shape == [2, 3])
        #expect(array.floats == floats)
        let bools = try NPYArray(data: npy("|b1", shape: "(4,)", payload: [1, 0, 0, 1]))
        #expect(bools.values == [1, 0, 0, 1])
    }

    @Test func rejectsTruncatedAndForeignFiles() {
        #expect(throws: InputError.self) { try NPYArray(data: Data("hello".utf8)) }
        #expect(throws: InputError.self) { try NPYArray(data: npy("<f8", shape: "(3,)", payload: [0, 0, 0])) }
        #expect(throws: InputError.self) {
            try NPYArray(data: npy("<c16", shape: "(1,)", payload: Array(repeating: 0, count: 16)))
        }
    }
}

@Suite struct FilesAndPlacesTests {
    @Test func atomicWriteReplacesWholeFilesAndLeavesNoTemporaries() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "atomic-\(getpid())-\(UInt32.random(in: 0 ... .max))")
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("deep/report.md")
        try AtomicFile.write("first", to: url)
        try AtomicFile.write("second", to: url)
        #expect(try String(contentsOf: url, encoding: .utf8) == "second")
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path) == ["report.md"])
    }

    @Test func dataRootAndCacheFollowFlagThenEnvironment() {
        #expect(Locations.dataRoot(flag: "/a", environment: ["MOODDEX_DATA_ROOT": "/b"]).path == "/a")
        #expect(Locations.dataRoot(flag: nil, environment: ["MOODDEX_DATA_ROOT": "/b"]).path == "/b")
        #expect(Locations.dataRoot(flag: nil, environment: [:]).lastPathComponent == "data")
        #expect(Locations.cacheDirectory(environment: ["MOODDEX_CACHE_DIR": "/c"]).path == "/c")
        #expect(Locations.cacheDirectory(environment: ["XDG_CACHE_HOME": "/x"]).path == "/x/mooddex")
    }

    @Test func progressClockFormats() {
        #expect(ProgressBar.clock(5) == "0:05")
        #expect(ProgressBar.clock(3725) == "1:02:05")
        #expect(ProgressBar.clock(.infinity) == "--:--")
    }
}
