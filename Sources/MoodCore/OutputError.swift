import Foundation

/// An output that could not be written, named with the path and the reason in plain
/// words ("disk full", "read-only file system"), never the raw Foundation error text,
/// and never blamed on the input that was being processed.
public struct OutputError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file (or folder) that could not be written.
    public let path: String
    /// Why, in words.
    public let problem: String

    public init(_ path: String, _ problem: String) {
        self.path = path
        self.problem = problem
    }

    /// An error from the C library's `errno` while writing `path`.
    public init(_ path: String, errno code: Int32) {
        self.init(path, "cannot write: \(Self.reason(code))")
    }

    public var description: String { "\(path): \(problem)" }

    /// `errno` in plain words for the failures users meet when writing.
    public static func reason(_ code: Int32) -> String {
        switch code {
        case ENOSPC: return "disk full (no space left on the device)"
        case EDQUOT: return "disk quota exceeded"
        case EROFS: return "read-only file system"
        case EACCES, EPERM: return "permission denied"
        case ENOTDIR: return "a part of the path is a file, not a folder"
        case EISDIR: return "is a folder"
        case EFBIG: return "file too large"
        case EIO: return "input/output error (failing disk or lost network share?)"
        default: return String(cString: strerror(code))
        }
    }
}
