import Foundation
import MoodCore

/// A TensorFlow checkpoint in the "tensor bundle" format (`tf.train.Saver` V2), read without TensorFlow.
///
/// A bundle with prefix `P` is an index `P.index` plus data shards `P.data-00000-of-0000N`:
/// - The **index** is a LevelDB table. Its 48-byte footer points at an index block whose entries
///   point at data blocks; every block is followed by a type byte (0 = stored uncompressed) and a
///   masked CRC-32C. In a block each key shares a prefix with the key before it. The empty key holds
///   a `BundleHeaderProto` (shard count, endianness, version); every other key is a tensor name whose
///   value is a `BundleEntryProto`: dtype, shape, shard, byte offset and size, and the masked CRC-32C
///   of the tensor's bytes.
/// - The **data shards** hold the tensors' raw little-endian bytes, back to back.
///
/// The musicnn checkpoints were saved with a folder path plus `/` as prefix, so they open as
/// `TensorBundle(prefix: folder + "/")`: the files are `folder/.index` and `folder/.data-00000-of-00001`.
/// Training state (Adam slots, `beta1_power`, ...) is listed like any variable;
/// ``isTrainingState(_:)`` tells it apart.
public struct TensorBundle: Sendable {
    /// A TensorFlow `DataType` value (`types.proto`).
    public struct DataType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }

        public static let float = DataType(rawValue: 1)
        public static let double = DataType(rawValue: 2)
        public static let int32 = DataType(rawValue: 3)
        public static let int64 = DataType(rawValue: 9)

        private static let names = [
            1: "DT_FLOAT", 2: "DT_DOUBLE", 3: "DT_INT32", 4: "DT_UINT8", 5: "DT_INT16",
            6: "DT_INT8", 7: "DT_STRING", 9: "DT_INT64", 10: "DT_BOOL", 14: "DT_BFLOAT16",
            19: "DT_HALF",
        ]
        public var description: String { Self.names[rawValue] ?? "dtype \(rawValue)" }
    }

    /// One tensor's record in the index: what its bytes hold and where they are.
    public struct Entry: Equatable, Sendable {
        public let name: String
        public let dtype: DataType
        /// Dimensions, outermost first (TensorFlow conv kernels are `[kh, kw, in, out]`, dense `[in, out]`);
        /// `[]` for a scalar.
        public let shape: [Int]
        /// Which data shard holds the bytes.
        public let shard: Int
        /// Where the bytes start in that shard.
        public let offset: Int
        /// How many bytes the tensor takes.
        public let size: Int
        /// The masked CRC-32C of the tensor's bytes, as stored.
        public let crc32c: UInt32
        /// How many slices a partitioned variable is stored in; 0 for a whole tensor, the only kind read.
        public let sliceCount: Int
        /// The shape proto says the rank is unknown (never so for a saved variable).
        let unknownRank: Bool

        /// The number of elements, or nil when the shape is not fully known or overflows.
        var elementCount: Int? {
            guard !unknownRank else { return nil }
            var count = 1
            for dimension in shape {
                guard dimension >= 0 else { return nil }
                let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
                if overflow { return nil }
                count = product
            }
            return count
        }
    }

    /// The index file, `<prefix>.index`.
    public let indexPath: String
    /// The data shards, `<prefix>.data-0000k-of-0000n`, in shard order.
    public let dataPaths: [String]
    /// Every tensor's name, sorted.
    public let names: [String]
    private let entries: [String: Entry]
    private let shards: [Data]

    /// Opens the bundle whose files start with `prefix`, reading (memory-mapping) the index and every
    /// data shard once. Throws `InputError` naming the file when one is missing, truncated or damaged.
    public init(prefix: String) throws {
        indexPath = prefix + ".index"
        let index = [UInt8](try Self.read(indexPath, "checkpoint index"))
        var shardCount: Int?
        var entries = [String: Entry]()
        do {
            for (key, value) in try LevelDBTable.entries(of: index) {
                if key.isEmpty {
                    shardCount = try Self.header(value)
                } else if key.first != 0 {  // keys starting with a NUL byte describe slices of partitioned variables
                    let name = String(decoding: key, as: UTF8.self)
                    entries[name] = try Self.entry(name, value)
                }
            }
        } catch let problem as FormatProblem {
            throw InputError(indexPath, problem.text)
        }
        guard let shardCount else {
            throw InputError(indexPath, "has no bundle header (the empty key): not a TensorFlow checkpoint index")
        }
        self.entries = entries
        names = entries.keys.sorted()
        dataPaths = (0..<shardCount).map { prefix + String(format: ".data-%05ld-of-%05ld", $0, shardCount) }
        let note = " (the index `\(indexPath)` refers to it)"
        shards = try dataPaths.map { try Self.read($0, "checkpoint data shard", note: note) }
    }

    /// The index record of tensor `name`, or nil when the bundle has no such tensor.
    public func entry(_ name: String) -> Entry? { entries[name] }

    /// The values of DT_FLOAT tensor `name`, in row-major order of its ``Entry/shape``.
    ///
    /// Checks that the entry's size fits the shape, that the bytes lie inside the data shard, and that
    /// they match the stored CRC-32C; throws `InputError` naming the file and the tensor otherwise.
    public func floats(_ name: String) throws -> [Float] {
        guard let entry = entries[name] else {
            throw InputError(indexPath, "has no tensor named `\(name)` (it holds \(entries.count) tensors)")
        }
        guard entry.dtype == .float else {
            throw InputError(indexPath, "tensor `\(name)` is \(entry.dtype), not DT_FLOAT: unsupported dtype")
        }
        guard entry.sliceCount == 0 else {
            throw InputError(
                indexPath,
                "tensor `\(name)` is stored in \(entry.sliceCount) slices (a partitioned variable); only whole tensors are read"
            )
        }
        guard let count = entry.elementCount else {
            throw InputError(indexPath, "tensor `\(name)` has no fully known shape (\(entry.shape))")
        }
        guard count.multipliedReportingOverflow(by: 4) == (entry.size, false) else {
            throw InputError(
                indexPath,
                "tensor `\(name)` of shape \(entry.shape) needs \(count) x 4 bytes, but its entry says \(entry.size) bytes"
            )
        }
        guard entry.shard >= 0, entry.shard < shards.count else {
            throw InputError(
                indexPath,
                "tensor `\(name)` lies in data shard \(entry.shard), but the header announces \(shards.count) shard(s)")
        }
        let data = shards[entry.shard], path = dataPaths[entry.shard]
        guard entry.offset >= 0, entry.offset <= data.count - entry.size else {
            throw InputError(
                path,
                "tensor `\(name)` lies outside the data file (bytes \(entry.offset)..<\(entry.offset &+ entry.size) of a \(data.count)-byte file): the file is truncated or belongs to another index"
            )
        }
        return try data.withUnsafeBytes { all in
            let bytes = UnsafeRawBufferPointer(rebasing: all[entry.offset..<(entry.offset + entry.size)])
            let computed = CRC32C.mask(CRC32C.checksum(bytes))
            guard computed == entry.crc32c else {
                throw InputError(
                    path,
                    "tensor `\(name)` fails its CRC32C check (stored \(hex(entry.crc32c)), computed \(hex(computed))): the checkpoint is damaged"
                )
            }
            return (0..<count).map {
                Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)))
            }
        }
    }

    /// Every DT_FLOAT tensor not skipped, in name order; tensors of other dtypes (e.g. `global_step`) are left out.
    public func allFloatTensors(skipping skip: (String) -> Bool = { _ in false }) throws -> [(
        name: String, shape: [Int], values: [Float]
    )] {
        try names.compactMap { name in
            guard !skip(name), let entry = entries[name], entry.dtype == .float else { return nil }
            return (name, entry.shape, try floats(name))
        }
    }

    /// Whether `name` is training state rather than a model weight: an Adam slot (`.../Adam`, `.../Adam_1`),
    /// Adam's `beta1_power`/`beta2_power`, or `global_step`.
    public static func isTrainingState(_ name: String) -> Bool {
        name.hasSuffix("/Adam") || name.hasSuffix("/Adam_1")
            || ["beta1_power", "beta2_power", "global_step"].contains(name)
    }

    // MARK: - Decoding

    /// Memory-maps a file, saying which one is missing or unreadable.
    private static func read(_ path: String, _ what: String, note: String = "") throws -> Data {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), !isFolder.boolValue else {
            throw InputError(path, "missing: no \(what) here\(note)")
        }
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw InputError(path, "unreadable \(what): \(error.localizedDescription)")
        }
    }

    /// `BundleHeaderProto`: num_shards = 1, endianness = 2 (0 little, 1 big), version = 3 (`VersionDef`).
    /// Returns the shard count.
    private static func header(_ bytes: ArraySlice<UInt8>) throws -> Int {
        var shards: UInt64 = 0, bigEndian = false, minConsumer: UInt64 = 0
        var proto = ProtoReader(bytes, "the bundle header")
        while let (field, value) = try proto.next() {
            switch field {
            case 1: shards = try value.varint()
            case 2: bigEndian = try value.varint() == 1
            case 3:
                var version = ProtoReader(try value.bytes(), "the bundle version")
                while let (field, value) = try version.next() { if field == 2 { minConsumer = try value.varint() } }
            default: break
            }
        }
        guard !bigEndian else {
            throw FormatProblem("the checkpoint was written big-endian; only little-endian checkpoints are read")
        }
        // Version 1 is the only bundle version; a larger min_consumer means a format this reader predates.
        guard minConsumer <= 1 else {
            throw FormatProblem(
                "the checkpoint needs a bundle reader of version \(minConsumer) or newer; this one reads version 1")
        }
        guard shards >= 1, shards <= 99_999 else {
            throw FormatProblem("the bundle header announces \(shards) data shards")
        }
        return Int(shards)
    }

    /// `BundleEntryProto`: dtype = 1, shape = 2, shard_id = 3, offset = 4, size = 5, crc32c = 6 (fixed32), slices = 7.
    private static func entry(_ name: String, _ bytes: ArraySlice<UInt8>) throws -> Entry {
        var dtype = 0, shape = [Int](), unknownRank = false, shard = 0, offset = 0, size = 0, crc: UInt32 = 0,
            slices = 0
        var proto = ProtoReader(bytes, "the entry of tensor `\(name)`")
        while let (field, value) = try proto.next() {
            switch field {
            case 1: dtype = Int(truncatingIfNeeded: try value.varint())
            case 2: (shape, unknownRank) = try Self.shape(value.bytes(), name)
            case 3: shard = Int(truncatingIfNeeded: try value.varint())
            case 4: offset = Int(truncatingIfNeeded: try value.varint())
            case 5: size = Int(truncatingIfNeeded: try value.varint())
            case 6: crc = try value.fixed32()
            case 7: slices += 1
            default: break
            }
        }
        return Entry(
            name: name, dtype: DataType(rawValue: dtype), shape: shape, shard: shard, offset: offset, size: size,
            crc32c: crc, sliceCount: slices, unknownRank: unknownRank)
    }

    /// `TensorShapeProto`: repeated dim = 2 (each `Dim` with size = 1, an int64), unknown_rank = 3.
    private static func shape(_ bytes: ArraySlice<UInt8>, _ name: String) throws -> ([Int], Bool) {
        var dimensions = [Int](), unknownRank = false
        var proto = ProtoReader(bytes, "the shape of tensor `\(name)`")
        while let (field, value) = try proto.next() {
            switch field {
            case 2:
                var size = 0
                var dim = ProtoReader(try value.bytes(), "a dimension of tensor `\(name)`")
                while let (field, value) = try dim.next() {
                    if field == 1 { size = Int(truncatingIfNeeded: try value.varint()) }
                }
                dimensions.append(size)
            case 3: unknownRank = try value.varint() != 0
            default: break
            }
        }
        return (dimensions, unknownRank)
    }
}

private func hex(_ value: UInt32) -> String { String(format: "0x%08x", value) }

/// A problem found by a decoder that does not know the file's path; the caller adds it.
struct FormatProblem: Error {
    let text: String
    init(_ text: String) { self.text = text }
}

/// Reads varints and little-endian integers from a byte slice, throwing instead of reading past its end.
struct ByteReader {
    let bytes: ArraySlice<UInt8>
    private(set) var position: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        position = bytes.startIndex
    }

    var isAtEnd: Bool { position >= bytes.endIndex }

    /// A base-128 varint: seven bits a byte, least significant first, high bit set on all but the last.
    mutating func varint(_ what: @autoclosure () -> String) throws -> UInt64 {
        var result: UInt64 = 0
        for shift in stride(from: UInt64(0), to: 64, by: 7) {
            guard position < bytes.endIndex else { throw FormatProblem("\(what()) is truncated") }
            let byte = bytes[position]
            position += 1
            result |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return result }
        }
        throw FormatProblem("\(what()) holds a varint longer than 10 bytes")
    }

    /// A varint that counts bytes, so must fit comfortably in an `Int`.
    mutating func length(_ what: @autoclosure () -> String) throws -> Int {
        let value = try varint(what())
        guard value <= UInt64(Int32.max) else { throw FormatProblem("\(what()) announces a length of \(value) bytes") }
        return Int(value)
    }

    mutating func take(_ count: Int, _ what: @autoclosure () -> String) throws -> ArraySlice<UInt8> {
        guard count <= bytes.endIndex - position else { throw FormatProblem("\(what()) is truncated") }
        defer { position += count }
        return bytes[position..<(position + count)]
    }

    mutating func fixed32(_ what: @autoclosure () -> String) throws -> UInt32 {
        UInt32(littleEndianBytes: try take(4, what()))
    }

    mutating func fixed64(_ what: @autoclosure () -> String) throws -> UInt64 {
        UInt64(littleEndianBytes: try take(8, what()))
    }
}

/// The protobuf wire format, as much as the bundle's messages need: each field is a varint key
/// (field number << 3 | wire type) followed by its value. Unknown fields are skipped, so fields
/// added by newer TensorFlow versions do no harm.
struct ProtoReader {
    enum Value {
        case varint(UInt64), fixed64(UInt64), bytes(ArraySlice<UInt8>), fixed32(UInt32)

        func varint() throws -> UInt64 {
            guard case .varint(let value) = self else {
                throw FormatProblem("a field expected as a varint has another wire type")
            }
            return value
        }

        func fixed32() throws -> UInt32 {
            guard case .fixed32(let value) = self else {
                throw FormatProblem("a field expected as fixed32 has another wire type")
            }
            return value
        }

        func bytes() throws -> ArraySlice<UInt8> {
            guard case .bytes(let value) = self else {
                throw FormatProblem("a field expected as a message has another wire type")
            }
            return value
        }
    }

    private var reader: ByteReader
    private let message: String

    init(_ bytes: ArraySlice<UInt8>, _ message: String) {
        reader = ByteReader(bytes)
        self.message = message
    }

    /// The next field, or nil at the end of the message.
    mutating func next() throws -> (field: Int, value: Value)? {
        guard !reader.isAtEnd else { return nil }
        let key = try reader.varint(message)
        let field = Int(truncatingIfNeeded: key >> 3)
        switch key & 7 {
        case 0: return (field, .varint(try reader.varint(message)))
        case 1: return (field, .fixed64(try reader.fixed64(message)))
        case 2: return (field, .bytes(try reader.take(try reader.length(message), message)))
        case 5: return (field, .fixed32(try reader.fixed32(message)))
        default: throw FormatProblem("\(message) uses protobuf wire type \(key & 7), which checkpoints never contain")
        }
    }
}

/// The LevelDB table format of the `.index` file: blocks of key-value entries, each block followed by a
/// 5-byte trailer (type byte, masked CRC-32C of contents + type), then an index block mapping to the data
/// blocks, and a 48-byte footer (metaindex and index block handles as varint pairs, padding, magic).
enum LevelDBTable {
    static let magic: UInt64 = 0xDB47_7524_8B80_FB57
    static let footerSize = 48
    static let trailerSize = 5

    /// Every key-value pair of the table, in key order, after checking every block it reads.
    static func entries(of file: [UInt8]) throws -> [(key: [UInt8], value: ArraySlice<UInt8>)] {
        guard !file.isEmpty else { throw FormatProblem("empty file (0 bytes): not a TensorFlow checkpoint index") }
        guard file.count >= footerSize else {
            throw FormatProblem(
                "only \(file.count) bytes, shorter than the 48-byte table footer: the file is truncated")
        }
        var footer = ByteReader(file[(file.count - footerSize)...])
        let found = UInt64(littleEndianBytes: file.suffix(8))
        guard found == magic else {
            throw FormatProblem(
                "does not end with the LevelDB table magic number (found \(String(format: "0x%016llx", found))): the file is truncated or not a TensorFlow checkpoint index"
            )
        }
        _ = try handle(&footer, "the footer's metaindex handle")  // the metaindex block is empty in checkpoints
        let indexHandle = try handle(&footer, "the footer's index handle")
        var result = [(key: [UInt8], value: ArraySlice<UInt8>)]()
        for (_, value) in try blockEntries(try block(file, indexHandle, "the index block")) {
            var reader = ByteReader(value)
            let dataHandle = try handle(&reader, "a data block handle")
            result += try blockEntries(try block(file, dataHandle, "the data block at byte \(dataHandle.offset)"))
        }
        return result
    }

    /// A block handle: offset and size as varints.
    private static func handle(_ reader: inout ByteReader, _ what: String) throws -> (offset: UInt64, size: UInt64) {
        (try reader.varint(what), try reader.varint(what))
    }

    /// A block's contents, after checking its trailer: type 0 (uncompressed) and a matching CRC-32C.
    private static func block(_ file: [UInt8], _ handle: (offset: UInt64, size: UInt64), _ what: String) throws
        -> ArraySlice<UInt8>
    {
        let limit = UInt64(file.count - footerSize)  // blocks lie before the footer
        guard handle.offset <= limit, handle.size <= limit - handle.offset,
            UInt64(trailerSize) <= limit - handle.offset - handle.size
        else {
            throw FormatProblem(
                "\(what) (\(handle.size) bytes at byte \(handle.offset)) runs past the end of the \(file.count)-byte file: the file is truncated"
            )
        }
        let start = Int(handle.offset), end = start + Int(handle.size)
        let type = file[end]
        guard type == 0 else {
            throw FormatProblem(
                "\(what) is compressed (\(type == 1 ? "Snappy" : "block type \(type)")); only uncompressed blocks, as TensorFlow writes them, are read"
            )
        }
        let stored = UInt32(littleEndianBytes: file[(end + 1)..<(end + 5)])
        let computed = CRC32C.mask(CRC32C.checksum(file[start...end]))  // contents and type byte
        guard stored == computed else {
            throw FormatProblem(
                "\(what) fails its CRC32C check (stored \(hex(stored)), computed \(hex(computed))): the index is damaged"
            )
        }
        return file[start..<end]
    }

    /// A block's entries. Each is: shared key length, unshared key length, value length (varints), the
    /// key's unshared tail, the value. The block ends with restart offsets (uint32 each) and their count,
    /// which serve binary search; reading every entry in order needs only to skip them.
    private static func blockEntries(_ block: ArraySlice<UInt8>) throws -> [(key: [UInt8], value: ArraySlice<UInt8>)] {
        guard block.count >= 4 else {
            throw FormatProblem("a block of \(block.count) bytes is too short for its restart count")
        }
        let restarts = Int(UInt32(littleEndianBytes: block.suffix(4)))
        guard restarts <= (block.count - 4) / 4 else {
            throw FormatProblem("a block of \(block.count) bytes announces \(restarts) restart points")
        }
        var reader = ByteReader(block.prefix(block.count - 4 - 4 * restarts))
        var key = [UInt8](), result = [(key: [UInt8], value: ArraySlice<UInt8>)]()
        while !reader.isAtEnd {
            let shared = try reader.length("a block entry"), unshared = try reader.length("a block entry")
            let valueLength = try reader.length("a block entry")
            guard shared <= key.count else {
                throw FormatProblem("a block entry shares \(shared) bytes with a previous key of \(key.count) bytes")
            }
            key.removeLast(key.count - shared)
            key += try reader.take(unshared, "a block entry's key")
            result.append((key, try reader.take(valueLength, "a block entry's value")))
        }
        return result
    }
}

extension FixedWidthInteger where Self: UnsignedInteger {
    /// The integer whose little-endian bytes these are (as many as the type is wide).
    init(littleEndianBytes bytes: ArraySlice<UInt8>) {
        self = bytes.reversed().reduce(0) { $0 << 8 | Self($1) }
    }
}
