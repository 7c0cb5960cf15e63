import Foundation

/// A numpy `.npy` array (format versions 1-3), read without Python.
///
/// Supports little-endian `f4`, `f8`, `i1`-`i8`, `u1`-`u8` and `b1`, C order. Values come
/// back as Double (exact for every supported type but 64-bit integers beyond 2^53).
public struct NPYArray: Sendable {
    public var shape: [Int]
    public var values: [Double]
    /// The numpy dtype string, e.g. `<f4`.
    public var dtype: String

    public var count: Int { values.count }
    public var floats: [Float] { values.map(Float.init) }

    public init(shape: [Int], values: [Double], dtype: String) {
        self.shape = shape
        self.values = values
        self.dtype = dtype
    }

    public init(contentsOf path: String) throws {
        let data = try RegularFile.contents(path, what: "the .npy file")
        try self.init(data: data, path: path)
    }

    public init(data: Data, path: String = "<data>") throws {
        let bytes = [UInt8](data)
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1...5]) == Array("NUMPY".utf8) else {
            throw InputError(path, "not a .npy file: missing the \\x93NUMPY magic")
        }
        let major = bytes[6]
        let headerLength: Int, headerStart: Int
        switch major {
        case 1: headerLength = Int(bytes[8]) | Int(bytes[9]) << 8; headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw InputError(path, "truncated .npy header") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24;
            headerStart = 12
        default: throw InputError(path, "unsupported .npy format version \(major)")
        }
        guard headerStart + headerLength <= bytes.count else { throw InputError(path, "truncated .npy header") }
        let header = String(decoding: bytes[headerStart..<headerStart + headerLength], as: UTF8.self)
        func field(_ key: String) -> String? {
            guard let r = header.range(of: "'\(key)':") else { return nil }
            return String(header[r.upperBound...]).trimmingCharacters(in: .whitespaces)
        }
        guard let descrField = field("descr"), let q1 = descrField.firstIndex(of: "'"),
            let q2 = descrField[descrField.index(after: q1)...].firstIndex(of: "'")
        else {
            throw InputError(path, ".npy header has no dtype: \(header)")
        }
        dtype = String(descrField[descrField.index(after: q1)..<q2])
        if let order = field("fortran_order"), order.hasPrefix("True") {
            throw InputError(path, "Fortran-ordered .npy arrays are not supported")
        }
        guard let shapeField = field("shape"), let open = shapeField.firstIndex(of: "("),
            let close = shapeField.firstIndex(of: ")")
        else {
            throw InputError(path, ".npy header has no shape: \(header)")
        }
        shape = shapeField[shapeField.index(after: open)..<close].split(separator: ",")
            .compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let count = shape.reduce(1, *)
        let kind = dtype.dropFirst()  // drop the byte-order character
        guard dtype.first != ">" else { throw InputError(path, "big-endian .npy arrays are not supported (\(dtype))") }
        let sizes: [Substring: Int] = [
            "f4": 4, "f8": 8, "i1": 1, "i2": 2, "i4": 4, "i8": 8, "u1": 1, "u2": 2, "u4": 4, "u8": 8, "b1": 1,
        ]
        guard let size = sizes[kind] else { throw InputError(path, "unsupported .npy dtype \(dtype)") }
        let start = headerStart + headerLength
        guard bytes.count - start >= count * size else {
            throw InputError(
                path,
                "truncated .npy data: shape \(shape) needs \(count * size) bytes, the file holds \(bytes.count - start)"
            )
        }
        var values = [Double](repeating: 0, count: count)
        bytes.withUnsafeBytes { raw in
            let base = raw.baseAddress! + start
            for i in 0..<count {
                let o = i * size
                switch kind {
                case "f4": values[i] = Double(Float(bitPattern: base.loadUnaligned(fromByteOffset: o, as: UInt32.self)))
                case "f8": values[i] = Double(bitPattern: base.loadUnaligned(fromByteOffset: o, as: UInt64.self))
                case "i1": values[i] = Double(base.load(fromByteOffset: o, as: Int8.self))
                case "i2": values[i] = Double(base.loadUnaligned(fromByteOffset: o, as: Int16.self))
                case "i4": values[i] = Double(base.loadUnaligned(fromByteOffset: o, as: Int32.self))
                case "i8": values[i] = Double(base.loadUnaligned(fromByteOffset: o, as: Int64.self))
                case "u1", "b1": values[i] = Double(base.load(fromByteOffset: o, as: UInt8.self))
                case "u2": values[i] = Double(base.loadUnaligned(fromByteOffset: o, as: UInt16.self))
                case "u4": values[i] = Double(base.loadUnaligned(fromByteOffset: o, as: UInt32.self))
                default: values[i] = Double(base.loadUnaligned(fromByteOffset: o, as: UInt64.self))
                }
            }
        }
        self.values = values
    }
}
