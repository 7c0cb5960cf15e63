import Foundation

/// The safetensors format: an 8-byte little-endian header length, a JSON header naming
/// each tensor's dtype, shape and byte range, then the raw little-endian data.
/// Readable by Python's `safetensors` (`safe_open`, `load_file`).
public enum Safetensors {
    /// One tensor: F32 values, or raw 8-byte integers (U64/I64) for counters and RNG state.
    public enum Values: Equatable, Sendable {
        case f32([Float])
        case f64([Double])
        case u64([UInt64])
        case i64([Int64])

        var dtype: String {
            switch self {
            case .f32: "F32";
            case .f64: "F64";
            case .u64: "U64";
            case .i64: "I64"
            }
        }
        var count: Int {
            switch self {
            case .f32(let v): v.count;
            case .f64(let v): v.count;
            case .u64(let v): v.count;
            case .i64(let v): v.count
            }
        }
        var bytes: Data {
            switch self {
            case .f32(let v): return v.withUnsafeBytes { Data($0) }
            case .f64(let v): return v.withUnsafeBytes { Data($0) }
            case .u64(let v): return v.withUnsafeBytes { Data($0) }
            case .i64(let v): return v.withUnsafeBytes { Data($0) }
            }
        }
    }

    public struct Entry: Equatable, Sendable {
        public var shape: [Int]
        public var values: Values
        public init(shape: [Int], values: Values) {
            precondition(shape.reduce(1, *) == values.count, "shape \(shape) does not hold \(values.count) values")
            self.shape = shape
            self.values = values
        }
        public var floats: [Float] {
            switch values {
            case .f32(let v): return v
            case .f64(let v): return v.map(Float.init)
            case .u64(let v): return v.map(Float.init)
            case .i64(let v): return v.map(Float.init)
            }
        }
    }

    /// Serialises tensors (sorted by name, as Python's writer does) and string metadata.
    public static func encode(_ tensors: [String: Entry], metadata: [String: String] = [:]) throws -> Data {
        var header = Header(metadata: metadata)
        var body = Data()
        for name in tensors.keys.sorted() {
            let entry = tensors[name]!
            let bytes = entry.values.bytes
            header.tensors[name] = .init(
                dtype: entry.values.dtype, shape: entry.shape, data_offsets: [body.count, body.count + bytes.count])
            body.append(bytes)
        }
        var json = try Header.encoder.encode(header)
        while json.count % 8 != 0 { json.append(0x20) }  // pad with spaces to keep data 8-byte aligned
        var out = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        return out + json + body
    }

    /// Parses a safetensors file's bytes; `path` names the file in errors. Every size and
    /// offset in the header is checked against the file's length before it is used, so a
    /// damaged or hostile header gives an ``InputError``, never an overflow or a huge allocation.
    public static func decode(_ data: Data, path: String = "<data>") throws -> (
        tensors: [String: Entry], metadata: [String: String]
    ) {
        let data = Data(data)  // indices from 0 even for a slice
        guard data.count >= 8 else {
            throw InputError(path, "not a safetensors file: shorter than its 8-byte header length")
        }
        let declared = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard declared > 0, declared <= UInt64(data.count - 8) else {
            throw InputError(
                path,
                "not a safetensors file: its header length (\(declared) bytes) does not fit in the file (\(data.count) bytes)"
            )
        }
        let headerLength = Int(declared)
        let header: Header
        do { header = try JSONDecoder().decode(Header.self, from: data.subdata(in: 8..<8 + headerLength)) } catch let
            error as DecodingError
        {
            switch error.topLevelKey {
            case nil: throw InputError(path, "not a safetensors file: bad header (\(error.plainDescription))")
            case Header.metadataKey?:
                throw InputError(
                    path, "malformed \(Header.metadataKey) (\(error.plainDescription)): it must map strings to strings")
            case let name?: throw InputError(path, "tensor \(name): malformed header entry (\(error.plainDescription))")
            }
        }
        let bodyStart = 8 + headerLength, bodyLength = data.count - bodyStart
        var tensors = [String: Entry]()
        for (name, info) in header.tensors {
            let (dtype, shape, offsets) = (info.dtype, info.shape, info.data_offsets)
            guard offsets.count == 2 else {
                throw InputError(
                    path, "tensor \(name): malformed header entry (data_offsets holds \(offsets.count) numbers, not 2)")
            }
            let size: Int
            switch dtype {
            case "F32": size = 4
            case "F64", "U64", "I64": size = 8
            default: throw InputError(path, "tensor \(name): unsupported dtype \(dtype)")
            }
            guard shape.allSatisfy({ $0 >= 0 }), let count = product(shape, limit: bodyLength / size) else {
                throw InputError(path, "tensor \(name): shape \(shape) is negative or larger than the file")
            }
            guard offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= bodyLength else {
                throw InputError(
                    path,
                    "tensor \(name): data offsets \(offsets) lie outside the file's \(bodyLength) data bytes (truncated?)"
                )
            }
            guard offsets[1] - offsets[0] == count * size else {
                throw InputError(
                    path, "tensor \(name): \(offsets[1] - offsets[0]) bytes for shape \(shape) of \(dtype)")
            }
            let raw = data.subdata(in: bodyStart + offsets[0]..<bodyStart + offsets[1])
            func load<T>(_ type: T.Type) -> [T] { raw.withUnsafeBytes { Array($0.bindMemory(to: T.self)) } }
            let values: Values
            switch dtype {
            case "F32": values = .f32(load(Float.self))
            case "F64": values = .f64(load(Double.self))
            case "U64": values = .u64(load(UInt64.self))
            default: values = .i64(load(Int64.self))
            }
            tensors[name] = Entry(shape: shape, values: values)
        }
        return (tensors, header.metadata)
    }

    /// The JSON header: string metadata under `__metadata__`, every other key a tensor. The two
    /// kinds share one JSON object, so the keys are read one by one.
    struct Header: Codable {
        static let metadataKey = "__metadata__"

        struct Tensor: Codable {
            var dtype: String
            var shape: [Int]
            /// Start and end of the tensor's bytes, counted from the end of the header.
            var data_offsets: [Int]
        }

        var metadata: [String: String] = [:]
        var tensors: [String: Tensor] = [:]

        /// Sorted keys, compact: the same bytes for the same tensors.
        static let encoder: JSONEncoder = {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return encoder
        }()

        private struct Key: CodingKey {
            let stringValue: String
            var intValue: Int? { nil }
            init(_ name: String) { stringValue = name }
            init?(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        init(metadata: [String: String]) { self.metadata = metadata }

        init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            for key in container.allKeys {
                if key.stringValue == Self.metadataKey {
                    metadata = try container.decode([String: String].self, forKey: key)
                } else {
                    tensors[key.stringValue] = try container.decode(Tensor.self, forKey: key)
                }
            }
        }

        /// The metadata only when there is some, as Python's writer does.
        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: Key.self)
            if !metadata.isEmpty { try container.encode(metadata, forKey: Key(Self.metadataKey)) }
            for (name, tensor) in tensors { try container.encode(tensor, forKey: Key(name)) }
        }
    }

    /// The product of non-negative `dimensions`, or nil when it exceeds `limit` (or overflows).
    static func product(_ dimensions: [Int], limit: Int) -> Int? {
        var result = 1
        for d in dimensions {
            let (next, overflow) = result.multipliedReportingOverflow(by: d)
            guard !overflow else { return nil }
            result = next
        }
        return result <= limit ? result : nil
    }

    public static func read(_ path: String) throws -> (tensors: [String: Entry], metadata: [String: String]) {
        let data = try RegularFile.contents(path, what: "the safetensors file")
        return try decode(data, path: path)
    }

    /// Writes atomically.
    public static func write(_ tensors: [String: Entry], metadata: [String: String] = [:], to url: URL) throws {
        try AtomicFile.write(try encode(tensors, metadata: metadata), to: url)
    }
}
