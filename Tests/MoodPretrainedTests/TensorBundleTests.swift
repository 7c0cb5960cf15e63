import Foundation
import MoodCore
@testable import MoodPretrained
import Testing

@Suite struct CRC32CTests {
    /// The check value of the CRC catalogue and the RFC 3720 (iSCSI) vectors.
    @Test func knownVectors() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map { UInt8($0) }) == 0x46DD_794E)
        #expect(CRC32C.checksum((0..<32).reversed().map { UInt8($0) }) == 0x113F_DB5C)
        #expect(CRC32C.checksum([UInt8]()) == 0)
    }

    /// Slicing-by-8 and its byte-at-a-time tail agree however the input is split.
    @Test func extendingEqualsWholeChecksum() {
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        let whole = CRC32C.checksum(bytes)
        for split in [0, 1, 7, 8, 13, 500, 999, 1000] {
            #expect(CRC32C.extend(CRC32C.checksum(bytes[..<split]), bytes[split...]) == whole)
        }
    }

    @Test func maskRoundTrips() {
        #expect(CRC32C.mask(0) == 0xA282_EAD8)
        for crc: UInt32 in [0, 1, 0xE306_9283, 0xFFFF_FFFF, 0x8000_0000] {
            #expect(CRC32C.unmask(CRC32C.mask(crc)) == crc)
            #expect(CRC32C.mask(crc) != crc)
        }
    }
}

@Suite struct TensorBundleTests {
    let kernel: [Float] = [0.5, -1, 2, 3.25, -4.5, 1e-3, 7, 8, -9, 10, 11, 0]
    let bias: [Float] = [0.125, -0.25]

    /// A folder with a small bundle at `<folder>/model`: two float tensors and an int64 scalar.
    func smallBundle() throws -> (folder: URL, prefix: String, layout: BundleWriter.Layout) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bundle-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let prefix = folder.appendingPathComponent("model").path
        let layout = try BundleWriter.write(
            [
                .floats("dense/kernel", [3, 2, 1, 2], kernel),
                .floats("dense/bias", [2], bias),
                .int64("global_step", 1234),
            ], prefix: prefix)
        return (folder, prefix, layout)
    }

    /// Replaces a file's bytes with `change` applied to them.
    func alter(_ path: String, _ change: (inout [UInt8]) -> Void) throws {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        change(&bytes)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    @Test func readsBackWhatWasWritten() throws {
        let (folder, prefix, _) = try smallBundle()
        defer { try? FileManager.default.removeItem(at: folder) }
        let bundle = try TensorBundle(prefix: prefix)
        #expect(bundle.names == ["dense/bias", "dense/kernel", "global_step"])
        #expect(bundle.dataPaths == [prefix + ".data-00000-of-00001"])
        let entry = try #require(bundle.entry("dense/kernel"))
        #expect(entry.dtype == .float && entry.shape == [3, 2, 1, 2] && entry.size == 48 && entry.shard == 0)
        #expect(bundle.entry("global_step")?.dtype == .int64)
        #expect(bundle.entry("global_step")?.shape == [])
        #expect(bundle.entry("nothing") == nil)
        #expect(try bundle.floats("dense/kernel") == kernel)
        #expect(try bundle.floats("dense/bias") == bias)

        let all = try bundle.allFloatTensors()
        #expect(all.map(\.name) == ["dense/bias", "dense/kernel"])
        #expect(all.map(\.shape) == [[2], [3, 2, 1, 2]])
        #expect(try bundle.allFloatTensors(skipping: { $0.hasSuffix("bias") }).map(\.values) == [kernel])
    }

    @Test func namesWhatItCannotRead() throws {
        let (folder, prefix, _) = try smallBundle()
        defer { try? FileManager.default.removeItem(at: folder) }
        let bundle = try TensorBundle(prefix: prefix)
        let int64 = #expect(throws: InputError.self) { try bundle.floats("global_step") }
        #expect(int64?.problem == "tensor `global_step` is DT_INT64, not DT_FLOAT: unsupported dtype")
        let absent = #expect(throws: InputError.self) { try bundle.floats("dense/kernal") }
        #expect(absent?.path == prefix + ".index")
        #expect(absent?.problem.contains("no tensor named `dense/kernal`") == true)
    }

    @Test func trainingStateIsRecognised() {
        for name in ["conv2d/kernel/Adam", "conv2d/kernel/Adam_1", "beta1_power", "beta2_power", "global_step"] {
            #expect(TensorBundle.isTrainingState(name))
        }
        for name in ["conv2d/kernel", "batch_normalization/moving_mean", "Adam/bias"] {
            #expect(!TensorBundle.isTrainingState(name))
        }
    }

    @Test func flippedDataByteFailsTheTensorCRC() throws {
        let (folder, prefix, _) = try smallBundle()
        defer { try? FileManager.default.removeItem(at: folder) }
        let bundle0 = try TensorBundle(prefix: prefix)
        let offset = try #require(bundle0.entry("dense/kernel")).offset
        try alter(prefix + ".data-00000-of-00001") { $0[offset + 5] ^= 0x10 }
        let bundle = try TensorBundle(prefix: prefix)
        #expect(try bundle.floats("dense/bias") == bias)  // its neighbour is intact
        let error = #expect(throws: InputError.self) { try bundle.floats("dense/kernel") }
        #expect(error?.path == prefix + ".data-00000-of-00001")
        #expect(error?.problem.hasPrefix("tensor `dense/kernel` fails its CRC32C check (stored 0x") == true)
        #expect(error?.problem.hasSuffix("the checkpoint is damaged") == true)
    }

    @Test func flippedIndexByteFailsTheBlockCRC() throws {
        let (folder, prefix, layout) = try smallBundle()
        defer { try? FileManager.default.removeItem(at: folder) }
        try alter(prefix + ".index") { $0[layout.dataBlocks[1].lowerBound + 3] ^= 0x01 }
        let error = #expect(throws: InputError.self) { try TensorBundle(prefix: prefix) }
        #expect(error?.path == prefix + ".index")
        #expect(
            error?.problem.contains("data block at byte \(layout.dataBlocks[1].lowerBound) fails its CRC32C check")
                == true)
    }

    @Test func compressedBlockIsRefused() throws {
        let (folder, prefix, layout) = try smallBundle()
        defer { try? FileManager.default.removeItem(at: folder) }
        // A Snappy block with a valid CRC, so only the type byte is at fault.
        try alter(prefix + ".index") { bytes in
            let block = layout.dataBlocks[0]
            bytes[block.upperBound] = 1
            let crc = CRC32C.mask(CRC32C.checksum(bytes[block.lowerBound...block.upperBound]))
            withUnsafeBytes(of: crc.littleEndian) {
                bytes.replaceSubrange((block.upperBound + 1)..<(block.upperBound + 5), with: $0)
            }
        }
        let error = #expect(throws: InputError.self) { try TensorBundle(prefix: prefix) }
        #expect(error?.problem.contains("is compressed (Snappy)") == true)
    }

    @Test func truncatedOrEmptyIndexIsNamed() throws {
        let (folder, prefix, _) = try smallBundle()
        defer { try? FileManager.default.removeItem(at: folder) }
        let index = prefix + ".index"
        try alter(index) { $0.removeLast(7) }
        let cut = #expect(throws: InputError.self) { try TensorBundle(prefix: prefix) }
        #expect(cut?.path == index)
        #expect(cut?.problem.contains("does not end with the LevelDB table magic number") == true)

        try alter(index) { $0.removeLast($0.count - 20) }
        let stub = #expect(throws: InputError.self) { try TensorBundle(prefix: prefix) }
        #expect(stub?.problem == "only 20 bytes, shorter than the 48-byte table footer: the file is truncated")

        try alter(index) { $0.removeAll() }
        let empty = #expect(throws: InputError.self) { try TensorBundle(prefix: prefix) }
        #expect(empty?.problem.hasPrefix("empty file (0 bytes)") == true)
    }

    @Test func missingFilesAreNamed() throws {
        let (folder, prefix, _) = try smallBundle()
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = prefix + ".data-00000-of-00001"
        try FileManager.default.removeItem(atPath: data)
        let noData = #expect(throws: InputError.self) { try TensorBundle(prefix: prefix) }
        #expect(noData?.path == data)
        #expect(noData?.problem.hasPrefix("missing: no checkpoint data shard here") == true)

        let noIndex = #expect(throws: InputError.self) { try TensorBundle(prefix: prefix + "-other") }
        #expect(noIndex?.path == prefix + "-other.index")
        #expect(noIndex?.problem.hasPrefix("missing") == true)
    }

    @Test func truncatedDataFileIsNamed() throws {
        let (folder, prefix, _) = try smallBundle()
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = prefix + ".data-00000-of-00001"
        try alter(data) { $0.removeLast(12) }  // into `dense/bias`
        let bundle = try TensorBundle(prefix: prefix)
        let error = #expect(throws: InputError.self) { try bundle.allFloatTensors() }
        #expect(error?.path == data)
        #expect(error?.problem.contains("lies outside the data file") == true)
    }
}

/// The real musicnn checkpoint, when the pretrained models have been fetched into the cache.
let msdMusicnn = Locations.cacheDirectory().appendingPathComponent("pretrained/musicnn-0.1.0/musicnn/MSD_musicnn")
let msdMusicnnPresent = FileManager.default.fileExists(atPath: msdMusicnn.appendingPathComponent(".index").path)

@Suite struct MusicnnCheckpointTests {
    /// The model's variables and shapes (see the team's design notes on the musicnn checkpoints).
    static let variables: [String: [Int]] = {
        var table = [String: [Int]]()
        let bn = [0: 1, 1: 204, 2: 204, 3: 51, 4: 51, 5: 51, 6: 64, 7: 64, 8: 64, 9: 1506, 10: 200]
        for (layer, width) in bn {
            let name = layer == 0 ? "batch_normalization" : "batch_normalization_\(layer)"
            for part in ["beta", "gamma", "moving_mean", "moving_variance"] { table["\(name)/\(part)"] = [width] }
        }
        let kernels: [(String, [Int])] = [
            ("conv2d", [7, 38, 1, 204]), ("conv2d_1", [7, 67, 1, 204]), ("conv2d_2", [128, 1, 1, 51]),
            ("conv2d_3", [64, 1, 1, 51]), ("conv2d_4", [32, 1, 1, 51]), ("conv2d_5", [7, 561, 1, 64]),
            ("conv2d_6", [7, 64, 1, 64]), ("conv2d_7", [7, 64, 1, 64]), ("dense", [1506, 200]), ("dense_1", [200, 50]),
        ]
        for (layer, shape) in kernels {
            table["\(layer)/kernel"] = shape
            table["\(layer)/bias"] = [shape.last!]
        }
        return table
    }()

    @Test(
        .enabled(
            if: msdMusicnnPresent,
            "musicnn checkpoints absent: set MOODDEX_CACHE_DIR to a cache holding pretrained/musicnn-0.1.0"))
    func everyVariableReadsAndChecksOut() throws {
        let bundle = try TensorBundle(prefix: msdMusicnn.path + "/")
        // Reading every float tensor checks every CRC, Adam slots included.
        let all = try bundle.allFloatTensors()
        #expect(all.count == bundle.names.count)
        let weights = all.filter { !TensorBundle.isTrainingState($0.name) }
        #expect(Dictionary(uniqueKeysWithValues: weights.map { ($0.name, $0.shape) }) == Self.variables)
        for tensor in weights { #expect(tensor.values.count == tensor.shape.reduce(1, *)) }
        // Adam keeps two slots per trainable variable; moving statistics are not trained.
        for name in Self.variables.keys where !name.contains("moving_") {
            #expect(bundle.names.contains(name + "/Adam") && bundle.names.contains(name + "/Adam_1"))
        }
        #expect(bundle.names.contains("beta1_power") && bundle.names.contains("beta2_power"))
        #expect(bundle.names.count == 64 + 2 * 42 + 2)
        // Values cross-checked with numpy reading float32 at the entry's offset.
        #expect(try bundle.floats("dense_1/bias").prefix(3) == [-1.27087462, -2.03289199, -2.37106681])
        #expect(bundle.entry("dense_1/bias")?.offset == 9_344_996)
    }
}

/// Writes tensor bundles the way TensorFlow does (uncompressed LevelDB index, one data shard),
/// with at most three entries per data block so readers must follow several blocks and the first
/// block shares a key prefix (`dense/kernel` after `dense/bias`).
enum BundleWriter {
    struct Tensor {
        let name: String
        let dtype: Int
        let shape: [Int]
        let bytes: [UInt8]

        static func floats(_ name: String, _ shape: [Int], _ values: [Float]) -> Tensor {
            Tensor(
                name: name, dtype: 1, shape: shape,
                bytes: values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) })
        }

        static func int64(_ name: String, _ value: Int64) -> Tensor {
            Tensor(name: name, dtype: 9, shape: [], bytes: withUnsafeBytes(of: value.littleEndian, Array.init))
        }
    }

    /// Where the data blocks' contents lie in the index file (each followed by its 5-byte trailer).
    struct Layout { var dataBlocks: [Range<Int>] }

    static func write(_ tensors: [Tensor], prefix: String) throws -> Layout {
        var data = [UInt8](), entries = [(key: [UInt8], value: [UInt8])]()
        // BundleHeaderProto: num_shards 1, endianness little (0, omitted), version { producer 1 }.
        entries.append(([], field(1, varint: 1) + field(3, bytes: field(1, varint: 1))))
        for tensor in tensors {
            let shape = tensor.shape.flatMap { field(2, bytes: field(1, varint: UInt64($0))) }
            var entry = field(1, varint: UInt64(tensor.dtype)) + field(2, bytes: shape)
            entry += field(4, varint: UInt64(data.count)) + field(5, varint: UInt64(tensor.bytes.count))
            entry +=
                [6 << 3 | 5] + withUnsafeBytes(of: CRC32C.mask(CRC32C.checksum(tensor.bytes)).littleEndian, Array.init)
            entries.append((Array(tensor.name.utf8), entry))
            data += tensor.bytes
        }
        entries.sort { $0.key.lexicographicallyPrecedes($1.key) }

        var file = [UInt8](), layout = Layout(dataBlocks: []), index = [(key: [UInt8], value: [UInt8])]()
        for start in stride(from: 0, to: entries.count, by: 3) {
            let chunk = Array(entries[start..<min(start + 3, entries.count)])
            let handle = append(block(chunk), to: &file)
            layout.dataBlocks.append(handle.offset..<(handle.offset + handle.size))
            // The index block's key only needs to be >= the block's last key; the last key itself will do.
            index.append((chunk.last!.key, varint(UInt64(handle.offset)) + varint(UInt64(handle.size))))
        }
        let metaindex = append(block([]), to: &file)
        let indexHandle = append(block(index), to: &file)
        var footer = [metaindex, indexHandle].flatMap { varint(UInt64($0.offset)) + varint(UInt64($0.size)) }
        footer += [UInt8](repeating: 0, count: 40 - footer.count)
        footer += withUnsafeBytes(of: LevelDBTable.magic.littleEndian, Array.init)
        try Data(file + footer).write(to: URL(fileURLWithPath: prefix + ".index"))
        try Data(data).write(to: URL(fileURLWithPath: prefix + ".data-00000-of-00001"))
        return layout
    }

    /// A block with prefix-compressed keys and a single restart point at its start.
    static func block(_ entries: [(key: [UInt8], value: [UInt8])]) -> [UInt8] {
        var bytes = [UInt8](), previous = [UInt8]()
        for (key, value) in entries {
            let shared = zip(previous, key).prefix { $0 == $1 }.count
            bytes += varint(UInt64(shared)) + varint(UInt64(key.count - shared)) + varint(UInt64(value.count))
            bytes += key[shared...] + value
            previous = key
        }
        return bytes + [0, 0, 0, 0] + [1, 0, 0, 0]
    }

    /// Appends a block and its trailer (type 0, masked CRC-32C of contents and type); returns its handle.
    static func append(_ block: [UInt8], to file: inout [UInt8]) -> (offset: Int, size: Int) {
        let offset = file.count
        file += block + [0]
        file += withUnsafeBytes(of: CRC32C.mask(CRC32C.checksum(block + [0])).littleEndian, Array.init)
        return (offset, block.count)
    }

    static func varint(_ value: UInt64) -> [UInt8] {
        var value = value, bytes = [UInt8]()
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        return bytes + [UInt8(value)]
    }

    static func field(_ number: Int, varint value: UInt64) -> [UInt8] { varint(UInt64(number << 3)) + varint(value) }
    static func field(_ number: Int, bytes: [UInt8]) -> [UInt8] {
        varint(UInt64(number << 3 | 2)) + varint(UInt64(bytes.count)) + bytes
    }
}
