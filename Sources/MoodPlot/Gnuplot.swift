import Foundation
import MoodCore

/// Figures drawn by `/usr/bin/gnuplot`, fed a script through a pipe.
///
/// The user's card named `libgnuplot-iostream-dev`; that is a C++-only header (and
/// boost) that does exactly this piping, so Swift does the piping itself.
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

    /// Runs `script`, in which `$OUTPUT` stands for the PNG to write; the PNG appears at
    /// `output` only when gnuplot succeeded (written beside it, then renamed).
    public static func render(_ script: String, to output: URL) throws {
        guard let gnuplot = executable else {
            throw Failure(description: "gnuplot not found on PATH: install it with scripts/setup (Debian package gnuplot-nox)")
        }
        let folder = output.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let temporary = folder.appendingPathComponent(".\(output.lastPathComponent).\(getpid()).tmp.png")
        defer { try? FileManager.default.removeItem(at: temporary) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: gnuplot)
        let input = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let text = script.replacingOccurrences(of: "$OUTPUT", with: quoted(temporary.path))
        if ProcessInfo.processInfo.environment["MOODDEX_GNUPLOT_DEBUG"] != nil { FileHandle.standardError.write(Data(text.utf8)) }
        input.fileHandleForWriting.write(Data(text.utf8))
        try input.fileHandleForWriting.close()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0, FileManager.default.fileExists(atPath: temporary.path) else {
            throw Failure(description: "gnuplot failed drawing \(output.path): \(message.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        if FileManager.default.fileExists(atPath: output.path) { try FileManager.default.removeItem(at: output) }
        try FileManager.default.moveItem(at: temporary, to: output)
    }

    /// A gnuplot string literal (single quotes; a quote inside is doubled).
    public static func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }

    /// Writes Float32 values to a temporary binary file for `binary array=` plots.
    static func binaryFile(_ values: [Float]) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mooddex-plot-\(getpid())-\(UInt32.random(in: 0 ... .max)).f32")
        try values.withUnsafeBytes { Data($0) }.write(to: url)
        return url
    }
}
