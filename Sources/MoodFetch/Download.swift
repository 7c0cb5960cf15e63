import CCurl
import Foundation
import MoodCore

/// Downloads one file over HTTP(S) with libcurl: into `<destination>.part`, resuming an
/// interrupted transfer with an HTTP range request, retrying with growing pauses, checking
/// the SHA-256, and only then moving the file into place.
public struct Download {
    public var url: String
    public var destination: URL
    public var sha256: String?
    public var attempts = 4
    /// Seconds before the first retry; doubled after each failure.
    public var pause = 1.0
    public var stallSeconds = 60
    public var showProgress = true

    public init(url: String, destination: URL, sha256: String?) {
        self.url = url
        self.destination = destination
        self.sha256 = sha256
    }

    /// What happened, for logs and tests.
    public struct Result: Sendable {
        public var bytes: Int
        public var attempts: Int
        public var resumedFrom: [Int]
        public var skipped: Bool
    }

    public func run() throws -> Result {
        let fm = FileManager.default
        if let sha256, fm.fileExists(atPath: destination.path), (try? SHA256.hex(ofFile: destination.path)) == sha256 {
            return Result(
                bytes: (try? fm.attributesOfItem(atPath: destination.path)[.size] as? Int) ?? 0, attempts: 0,
                resumedFrom: [], skipped: true)
        }
        try fm.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        let part = destination.appendingPathExtension("part")
        var resumed = [Int](), lastError = "", wait = pause, made = 0
        for attempt in 1...attempts {
            made = attempt
            let have = (try? fm.attributesOfItem(atPath: part.path)[.size] as? Int) ?? 0
            if have > 0 { resumed.append(have) }
            var status = 0
            let (code, message) = transfer(into: part, from: have, status: &status)
            if code == 0 {
                let got = try SHA256.hex(ofFile: part.path)
                if let sha256, got != sha256 {
                    try? fm.removeItem(at: part)  // a damaged byte cannot be fixed by resuming: start over
                    lastError = "checksum mismatch: expected \(sha256), got \(got)"
                } else {
                    if fm.fileExists(atPath: destination.path) { try fm.removeItem(at: destination) }
                    try fm.moveItem(at: part, to: destination)
                    let size = (try? fm.attributesOfItem(atPath: destination.path)[.size] as? Int) ?? 0
                    return Result(bytes: size, attempts: attempt, resumedFrom: resumed, skipped: false)
                }
            } else if status == 416 {
                // The server has nothing past what we hold: the part file is complete or too long; start over.
                try? fm.removeItem(at: part)
                lastError = "HTTP 416 (range not satisfiable) after \(have) bytes"
            } else {
                lastError = status >= 400 ? "HTTP \(status): \(message)" : message
                if status == 404 || status == 403 || status == 401 { break }  // retrying will not help
            }
            if Interrupt.requested { throw CancellationError() }
            if attempt < attempts {
                FileHandle.standardError.write(
                    Data("fetch: \(destination.lastPathComponent): \(lastError); retrying in \(Int(wait)) s\n".utf8))
                Thread.sleep(forTimeInterval: wait)
                wait *= 2
            }
        }
        throw InputError(
            url,
            "download failed after \(made) attempt\(made == 1 ? "" : "s"): \(lastError) (partial data kept in \(part.path) when there is any; run again to resume)"
        )
    }

    /// One libcurl transfer appending to `part` from byte `offset`; returns (curl code, message).
    private func transfer(into part: URL, from offset: Int, status: inout Int) -> (Int32, String) {
        guard let file = fopen(part.path, offset > 0 ? "ab" : "wb") else {
            return (-1, "cannot write \(part.path): \(String(cString: strerror(errno)))")
        }
        defer { fclose(file) }
        let bar = showProgress ? ProgressBar(destination.lastPathComponent, total: 100) : nil
        final class Box { var bar: ProgressBar?; var shown = 0; init(_ b: ProgressBar?) { bar = b } }
        let box = Box(bar)
        var error = [CChar](repeating: 0, count: 512)
        var httpStatus = 0
        let code = withExtendedLifetime(box) {
            ccurl_get(
                url, file, Int64(offset), stallSeconds, &httpStatus, &error,
                { context, received, total in
                    let box = Unmanaged<Box>.fromOpaque(context!).takeUnretainedValue()
                    if total > 0, let bar = box.bar {
                        let percent = Int(100 * received / total)
                        if percent > box.shown { bar.advance(by: percent - box.shown); box.shown = percent }
                    }
                    return Interrupt.requested ? 1 : 0
                }, Unmanaged.passUnretained(box).toOpaque())
        }
        bar?.finish()
        status = httpStatus
        return (code, String(cString: error))
    }
}
