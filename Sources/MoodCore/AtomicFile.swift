import Foundation
#if canImport(Glibc)
    import Glibc
    private let systemWrite = Glibc.write
#else
    import Darwin
    private let systemWrite = Darwin.write
#endif

/// Writes files so that a reader sees either the old content or the new, never half.
///
/// The bytes go to a temporary file in the destination's folder, which is then
/// renamed over the destination (`rename(2)` is atomic within one file system).
/// An interrupted run therefore leaves no truncated cache entry or report behind, and a
/// failed write (full disk, read-only folder) leaves the old file as it was. Failures are
/// ``OutputError``s naming the destination and the reason in plain words.
public enum AtomicFile {
    public static func write(_ data: Data, to url: URL) throws {
        let folder = url.deletingLastPathComponent()
        try createFolder(folder, for: url.path)
        let temporary = folder.appendingPathComponent(
            ".\(url.lastPathComponent).\(getpid()).\(UInt32.random(in: 0 ... .max)).tmp")
        let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard descriptor >= 0 else { throw OutputError(url.path, errno: errno) }
        var failure = writeAll(data, to: descriptor)
        if close(descriptor) != 0, failure == 0 { failure = errno }  // NFS and quotas may report only here
        if failure == 0, rename(temporary.path, url.path) != 0 { failure = errno }
        if failure != 0 {
            unlink(temporary.path)
            throw OutputError(url.path, errno: failure)
        }
    }

    public static func write(_ text: String, to url: URL) throws {
        try write(Data(text.utf8), to: url)
    }

    /// Creates `folder` and its parents as needed; errors name `output`, the file it is for.
    public static func createFolder(_ folder: URL, for output: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw OutputError(output, "cannot write: \(folder.path) is a file, not a folder")
            }
            return
        }
        let parent = folder.deletingLastPathComponent()
        if parent.path != folder.path { try createFolder(parent, for: output) }
        if mkdir(folder.path, 0o777) != 0, errno != EEXIST {
            throw OutputError(output, "cannot create its folder \(folder.path): \(OutputError.reason(errno))")
        }
    }

    /// Checks, before long work, that files can be written into `folder` (created if missing,
    /// then removed again if it was): one small file is written and deleted.
    public static func checkWritable(folder: URL) throws {
        let existed = FileManager.default.fileExists(atPath: folder.path)
        let probe = folder.appendingPathComponent(".mooddex-write-check-\(getpid())")
        try write(Data(repeating: 0, count: 4096), to: probe)
        unlink(probe.path)
        if !existed { rmdir(folder.path) }
    }

    /// Writes every byte (retrying short writes); 0 or the `errno` of the failure.
    private static func writeAll(_ data: Data, to descriptor: Int32) -> Int32 {
        data.withUnsafeBytes { raw -> Int32 in
            guard let base = raw.baseAddress else { return 0 }
            var offset = 0
            while offset < raw.count {
                let written = systemWrite(descriptor, base + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += written
            }
            return 0
        }
    }
}
