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

        var dtype: String { switch self { case .f32: "F32"; case .f64: "F64"; case .u64: "U64"; case .i64: "I64" } }
        var count: Int { switch self { case .f32(let v): v.count; case .f64(let v): v.count; case .u64(let v): v.count; case .i64(let v): v.count } }
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
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var body = Data()
        for name in tensors.keys.sorted() {
            let entry = tensors[name]!
            let bytes = entry.values.bytes
            header[name] = ["dtype": entry.values.dtype, "shape": entry.shape, "data_offsets": [body.count, body.count + bytes.count]]
            body.append(bytes)
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }  // pad with spaces to keep data 8-byte aligned
        var out = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        return out + json + body
    }

    /// Parses a safetensors file's bytes; `path` names the file in errors.
    public static func decode(_ data: Data, path: String = "<data>") throws -> (tensors: [String: Entry], metadata: [String: String]) {
        guard data.count >= 8 else { throw InputError(path, "not a safetensors file: shorter than its 8-byte header length") }
        let headerLength = data.withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
        guard headerLength > 0, 8 + headerLength <= data.count,
              let header = try? JSONSerialization.jsonObject(with: data.subdata(in: 8 ..< 8 + headerLength)) as? [String: Any] else {
            throw InputError(path, "not a safetensors file: bad header")
        }
        let bodyStart = 8 + headerLength
        var tensors = [String: Entry]()
        var metadata = [String: String]()
        for (name, value) in header {
            if name == "__metadata__" { metadata = value as? [String: String] ?? [:]; continue }
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                  let shape = info["shape"] as? [Int], let offsets = info["data_offsets"] as? [Int], offsets.count == 2 else {
                throw InputError(path, "tensor \(name): malformed header entry")
            }
            let count = shape.reduce(1, *)
            let start = bodyStart + offsets[0], end = bodyStart + offsets[1]
            guard start <= end, end <= data.count else { throw InputError(path, "tensor \(name): data lies past the end of the file (truncated?)") }
            let raw = data.subdata(in: start ..< end)
            func load<T>(_ type: T.Type) throws -> [T] {
                guard raw.count == count * MemoryLayout<T>.size else {
                    throw InputError(path, "tensor \(name): \(raw.count) bytes for shape \(shape) of \(dtype)")
                }
                return raw.withUnsafeBytes { Array($0.bindMemory(to: T.self)) }
            }
            let values: Values
            switch dtype {
            case "F32": values = .f32(try load(Float.self))
            case "F64": values = .f64(try load(Double.self))
            case "U64": values = .u64(try load(UInt64.self))
            case "I64": values = .i64(try load(Int64.self))
            default: throw InputError(path, "tensor \(name): unsupported dtype \(dtype)")
            }
            tensors[name] = Entry(shape: shape, values: values)
        }
        return (tensors, metadata)
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
