import Foundation
import MoodCore

/// Reads POSIX (ustar) tar archives: regular files and folders, long names from GNU `L`
/// records and pax `path` headers. Entries that would land outside the target folder
/// (absolute paths, `..`) are refused.
public enum Tar {
    public struct Entry: Sendable {
        public var path: String
        public var size: Int
        public var isDirectory: Bool
    }

    /// Unpacks `archive` into `folder`; returns the regular files' paths relative to `folder`.
    @discardableResult
    public static func extract(_ archive: URL, into folder: URL) throws -> [String] {
        guard let handle = FileHandle(forReadingAtPath: archive.path) else { throw InputError(archive.path, "cannot open the archive") }
        defer { try? handle.close() }
        var files = [String]()
        var longName: String? = nil
        func read(_ count: Int) throws -> Data {
            let data = try handle.read(upToCount: count) ?? Data()
            guard data.count == count else { throw InputError(archive.path, "truncated tar archive") }
            return data
        }
        while true {
            let header = try handle.read(upToCount: 512) ?? Data()
            if header.count < 512 || header.allSatisfy({ $0 == 0 }) { break }  // end-of-archive blocks
            guard checksumMatches(header) else { throw InputError(archive.path, "damaged tar header (checksum mismatch)") }
            func field(_ offset: Int, _ length: Int) -> String {
                let bytes = header[header.startIndex + offset ..< header.startIndex + offset + length].prefix { $0 != 0 }
                return String(decoding: bytes, as: UTF8.self)
            }
            let size = Int(field(124, 12).trimmingCharacters(in: .whitespaces), radix: 8) ?? 0
            let type = header[header.startIndex + 156]
            let prefix = field(345, 155)
            var name = longName ?? (prefix.isEmpty ? field(0, 100) : prefix + "/" + field(0, 100))
            longName = nil
            let padded = (size + 511) / 512 * 512
            switch type {
            case UInt8(ascii: "L"):  // GNU long name for the next entry
                longName = String(decoding: try read(padded).prefix(size).prefix { $0 != 0 }, as: UTF8.self)
                continue
            case UInt8(ascii: "x"):  // pax extended header: records "len key=value\n"
                let text = String(decoding: try read(padded).prefix(size), as: UTF8.self)
                for record in text.split(separator: "\n") {
                    if let r = record.range(of: " path=") { longName = String(record[r.upperBound...]) }
                }
                continue
            case UInt8(ascii: "g"):
                _ = try read(padded)
                continue
            default: break
            }
            name = name.hasPrefix("./") ? String(name.dropFirst(2)) : name
            guard !name.hasPrefix("/"), !name.split(separator: "/").contains("..") else {
                throw InputError(archive.path, "refusing entry '\(name)': it points outside the target folder")
            }
            let target = folder.appendingPathComponent(name)
            if type == UInt8(ascii: "5") {
                try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
            } else if type == UInt8(ascii: "0") || type == 0 {
                let body = try read(padded).prefix(size)
                try AtomicFile.write(Data(body), to: target)
                files.append(name)
            } else {
                _ = try read(padded)  // links and devices: skipped
            }
        }
        return files
    }

    static func checksumMatches(_ header: Data) -> Bool {
        let stored = Int(String(decoding: header[header.startIndex + 148 ..< header.startIndex + 156].prefix { $0 != 0 && $0 != 32 }, as: UTF8.self), radix: 8)
        var sum = 0
        for (i, byte) in header.enumerated() { sum += (148..<156).contains(i) ? 32 : Int(byte) }
        return stored == sum
    }
}
