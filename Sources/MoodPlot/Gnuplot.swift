import Foundation
import MoodCore

/// Figures drawn by `/usr/bin/gnuplot`, fed a script through a pipe.
///
/// The user's card named `libgnuplot-iostream-dev`; that is a C++-only header (and
/// boost) that does exactly this piping, so Swift does the piping itself.
///
/// Text from users (titles, labels, file names) reaches the script only through
/// ``quoted(_:)`` or ``datum(_:)``, which cannot end a string or a line; the output path never
/// enters the script at all (gnuplot writes the PNG to its standard output).
public enum Gnuplot {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The gnuplot executable on PATH, if any.
    public static var executable: String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for folder in path.split(separator: ":") {
            let candidate = "\(folder)/gnuplot"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs `script`, in which `$OUTPUT` stands for the PNG to write. The PNG replaces
    /// `output` only when gnuplot succeeded and the image is complete; otherwise the old
    /// file stays and the error names `output` and the reason.
    public static func render(_ script: String, to output: URL) throws {
        guard let gnuplot = executable else {
            throw Failure(
                description: "gnuplot not found on PATH: install it with scripts/setup (Debian package gnuplot-nox)")
        }
        // `set output` without a name sends the PNG to standard output.
        let text = script.replacingOccurrences(of: "$OUTPUT", with: "")
        if ProcessInfo.processInfo.environment["MOODDEX_GNUPLOT_DEBUG"] != nil {
            FileHandle.standardError.write(Data(text.utf8))
        }
        // A script file, not standard input: gnuplot then stops at the first error instead of going on.
        let scriptFile = FileManager.default.temporaryDirectory.appendingPathComponent(
            "mooddex-plot-\(getpid())-\(UInt32.random(in: 0 ... .max)).gp")
        try AtomicFile.write(text, to: scriptFile)
        defer { try? FileManager.default.removeItem(at: scriptFile) }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: gnuplot)
        process.arguments = [scriptFile.path]
        let image = Pipe(), errors = Pipe()
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = image
        process.standardError = errors
        try process.run()
        // Both pipes drained at once, so a full one never blocks gnuplot.
        let message = Drained(errors.fileHandleForReading)
        let png = image.fileHandleForReading.readDataToEndOfFile()
        let problem = message.wait().trimmingCharacters(in: .whitespacesAndNewlines)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(
                description:
                    "\(output.path): not written: gnuplot failed: \(problem.isEmpty ? "exit status \(process.terminationStatus)" : problem)"
            )
        }
        guard isCompletePNG(png) else {
            throw Failure(
                description:
                    "\(output.path): not written: gnuplot produced an incomplete PNG (\(png.count) bytes, no IEND chunk)"
            )
        }
        try AtomicFile.write(png, to: output)
    }

    /// Whether `data` starts with the PNG signature and ends with the IEND chunk.
    public static func isCompletePNG(_ data: Data) -> Bool {
        let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        let iend: [UInt8] = [0, 0, 0, 0, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82]
        return data.count >= signature.count + iend.count && Array(data.prefix(8)) == signature
            && Array(data.suffix(12)) == iend
    }

    /// A gnuplot string literal: single quotes (no backslash or backquote processing inside),
    /// a quote inside doubled, and every control or line-breaking character shown as `?`, so
    /// the text can end neither the string nor the line.
    public static func quoted(_ text: String) -> String {
        "'" + printable(text).replacingOccurrences(of: "'", with: "''") + "'"
    }

    /// A double-quoted string field of an inline data block (`$name << EOD`): no line break
    /// (which could end the block) and no double quote inside.
    public static func datum(_ text: String) -> String {
        "\"" + printable(text).replacingOccurrences(of: "\"", with: "'") + "\""
    }

    /// `text` with control characters and Unicode line/paragraph separators replaced by `?`.
    static func printable(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            let category = scalar.properties.generalCategory
            let unsafe = category == .control || category == .lineSeparator || category == .paragraphSeparator
            scalars.append(unsafe ? "?" : scalar)
        }
        return String(scalars)
    }

    /// Writes Float32 values to a temporary binary file for `binary array=` plots.
    static func binaryFile(_ values: [Float]) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "mooddex-plot-\(getpid())-\(UInt32.random(in: 0 ... .max)).f32")
        try AtomicFile.write(values.withUnsafeBytes { Data($0) }, to: url)
        return url
    }
}

/// Everything a file handle yields until its end, read on another thread.
final class Drained: @unchecked Sendable {
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        DispatchQueue.global().async {
            self.data = handle.readDataToEndOfFile()
            self.done.signal()
        }
    }

    func wait() -> String {
        done.wait()
        return String(decoding: data, as: UTF8.self)
    }
}
