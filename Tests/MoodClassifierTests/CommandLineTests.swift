import Foundation
import MoodClassifier
import MoodCore
import MoodTestSupport
import Testing

/// The built `mooddex` tool, run as a user would. `swift test` builds it beside the tests, in
/// the tests' own configuration (`.build/release` for the README's `swift test -c release`), so
/// it is looked up beside the running test binary first.
enum Tool {
    static let path: String = {
        let beside = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let candidates =
            [beside.appendingPathComponent("mooddex")]
            + ["release", "debug"].map { package.appendingPathComponent(".build/\($0)/mooddex") }
        return (candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]).path
    }()
    static var available: Bool { FileManager.default.isExecutableFile(atPath: path) }

    struct Outcome { var status: Int32; var output: String; var errors: String }

    /// Runs the tool; a watchdog kills it if it hangs, so a hang fails the test instead of CI.
    static func run(_ arguments: [String], in folder: URL? = nil) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if let folder { process.currentDirectoryURL = folder }
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let watchdog = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + 120, execute: watchdog)
        let errorData = Collected()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errorData.data = errors.fileHandleForReading.readDataToEndOfFile(); group.leave()
        }
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        watchdog.cancel()
        return Outcome(
            status: process.terminationStatus, output: String(decoding: outputData, as: UTF8.self),
            errors: String(decoding: errorData.data, as: UTF8.self))
    }
}

/// Bytes read on another thread (both pipes drain at once, so a full one never blocks the tool).
final class Collected: @unchecked Sendable { var data = Data() }

@Suite(.serialized, .enabled(if: Tool.available, "build the tool first: swift build -c release"))
struct CommandLineTests {
    let folder: URL
    init() throws { folder = try temporaryFolder("cli") }

    /// An untrained small model: enough to exercise the commands' input and output handling.
    func model() throws -> URL {
        var settings = MoodModel.Settings()
        settings.channels = [2, 2, 2, 2]
        let url = folder.appendingPathComponent("model")
        try MoodModel(settings: settings).save(to: url)
        return url
    }

    func clip(_ name: String, seconds: Double = 4, in sub: String = "") throws -> URL {
        let dir = folder.appendingPathComponent(sub)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent(name)
        try wavData(sine(440, seconds: seconds, sampleRate: 22050), channels: 1, sampleRate: 22050).write(to: url)
        return url
    }

    /// Every line of an error report has the one prefix.
    func expectPrefixed(_ errors: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let lines = errors.split(separator: "\n").filter {
            !$0.hasPrefix("Usage:") && !$0.hasPrefix("  See ") && !$0.hasPrefix("Help:")
        }
        #expect(
            !lines.isEmpty && lines.allSatisfy { $0.hasPrefix("mooddex: ") }, "\(errors)",
            sourceLocation: sourceLocation)
    }

    @Test func csvQuotesEveryFieldThatNeedsIt() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = try model()
        let odd = try clip("a,b\n\"c\".wav"), plain = try clip("plain.wav")
        let run = try Tool.run(["classify", "--model", model.path, "--format", "csv", odd.path, plain.path])
        #expect(run.status == 0, "\(run.errors)")
        let table = try CSVTable(text: run.output, path: "stdout")
        #expect(table.header.prefix(2) == ["path", "mood"])
        #expect(table.rows.map { $0[0] } == [odd.path, plain.path], "\(run.output)")
    }

    @Test func filterRewritesRelativeEntriesAndFailsWhenNothingIsReadable() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = try model()
        let song = try clip("x.wav", in: "music/songs")
        let list = folder.appendingPathComponent("music/list.m3u")
        try "#EXTM3U\nsongs/x.wav\n".write(to: list, atomically: true, encoding: .utf8)
        let output = folder.appendingPathComponent("elsewhere/out.m3u")
        let run = try Tool.run([
            "filter", "--mood", "happy,sad,calm,energetic", "--model", model.path, list.path, "-o", output.path,
        ])
        #expect(run.status == 0, "\(run.errors)")
        let written = try Playlist(contentsOf: output.path)
        let text = try String(contentsOf: output, encoding: .utf8)
        #expect(written.entries.map(\.path) == [song.path], "\(text)")
        #expect(written.entries.map(\.line) == ["../music/songs/x.wav"])

        try "#EXTM3U\nsongs/missing.wav\n/nowhere/y.mp3\n".write(to: list, atomically: true, encoding: .utf8)
        let none = folder.appendingPathComponent("none.m3u")
        let failed = try Tool.run(["filter", "--mood", "calm", "--model", model.path, list.path, "-o", none.path])
        #expect(failed.status != 0)
        #expect(failed.errors.contains("none of its 2 entries could be read"), "\(failed.errors)")
        #expect(!FileManager.default.fileExists(atPath: none.path))
        expectPrefixed(failed.errors)
    }

    @Test func aBinaryFileIsRefusedAsAPlaylist() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = try model()
        let audio = try clip("song.wav")
        let run = try Tool.run([
            "filter", "--mood", "calm", "--model", model.path, audio.path, "-o",
            folder.appendingPathComponent("o.m3u").path,
        ])
        #expect(run.status != 0)
        #expect(run.errors.contains("not a text playlist"), "\(run.errors)")
        #expect(!run.errors.contains("skipped"))
    }

    @Test func anUnknownMoodGetsTheSubcommandsErrorNotTheTopLevelUsage() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = try model()
        let list = folder.appendingPathComponent("list.m3u")
        try "x.wav\n".write(to: list, atomically: true, encoding: .utf8)
        let run = try Tool.run([
            "filter", "--mood", "angry", "--model", model.path, list.path, "-o",
            folder.appendingPathComponent("o.m3u").path,
        ])
        #expect(run.status != 0)
        #expect(run.errors.contains("--mood = angry: must be among happy, sad, calm, energetic"), "\(run.errors)")
        #expect(!run.errors.contains("mooddex <subcommand>"), "\(run.errors)")
        expectPrefixed(run.errors)
    }

    @Test func negativeNumbersReachTheirOptions() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let seed = try Tool.run(["train", "--seed", "-1", "-o", folder.appendingPathComponent("m").path])
        #expect(seed.status != 0)
        #expect(seed.errors.contains("'-1' is invalid for '--seed"), "\(seed.errors)")
        #expect(!seed.errors.contains("Missing value"))
        let song = try clip("song.wav")
        let fMin = try Tool.run([
            "spectrogram", song.path, "-o", folder.appendingPathComponent("s.png").path, "--f-min", "-5",
        ])
        #expect(fMin.errors.contains("fMin = -5.0: must be 0 Hz or more"), "\(fMin.errors)")
        expectPrefixed(fMin.errors)
    }

    @Test func zeroEpochsIsAnError() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("m")
        let run = try Tool.run(["train", "--epochs", "0", "-o", output.path, "--data-root", folder.path])
        #expect(run.status != 0)
        #expect(run.errors.contains("--epochs 0: must be at least 1"), "\(run.errors)")
        #expect(!FileManager.default.fileExists(atPath: output.path))
    }

    @Test func shortClipsAreReportedUnlessPadShort() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = try model()
        let short = try clip("short.wav", seconds: 0.2)
        let run = try Tool.run(["classify", "--model", model.path, short.path])
        #expect(run.status != 0 && run.output.isEmpty, "\(run.output)")
        #expect(run.errors.contains("too short: 0.20 s of audio"), "\(run.errors)")
        let padded = try Tool.run(["classify", "--model", model.path, "--pad-short", short.path])
        #expect(padded.status == 0 && padded.output.hasPrefix(short.path), "\(padded.errors)")
    }

    @Test func aFIFOAmongGoodFilesCostsOnlyItsOwnLine() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let good = try clip("good.wav")
        let fifo = folder.appendingPathComponent("fifo.mp3")
        #expect(mkfifo(fifo.path, 0o644) == 0)
        let info = try Tool.run(["info", good.path, fifo.path, good.path])
        #expect(info.status == 1)
        #expect(info.output.split(separator: "\n").count == 2, "\(info.output)")
        #expect(info.errors.contains("is a named pipe (FIFO), not a regular file"), "\(info.errors)")
        let classify = try Tool.run(["classify", "--model", try model().path, fifo.path, good.path])
        #expect(classify.status == 1 && classify.output.hasPrefix(good.path), "\(classify.errors)")
        let features = try Tool.run([
            "features", folder.path, "--cache-dir", folder.appendingPathComponent("cache").path,
        ])
        #expect(
            features.status == 1 && features.output.hasPrefix("2 files: 1 computed"),
            "\(features.output) \(features.errors)")
    }

    /// A long list goes through in batches (bounded memory): every file gets its line, in order,
    /// bad ones in between cost only their own line, and a progress bar goes to stderr.
    @Test func aLongListIsClassifiedInBatchesInOrder() throws {
        let good = try clip("a")
        let bad = folder.appendingPathComponent("bad.mp3")
        try Data("not audio".utf8).write(to: bad)
        let files = (0..<150).map { $0 % 50 == 7 ? bad.path : good.path }
        let run = try Tool.run(["classify", "--model", try model().path, "--format", "csv", "--threads", "1"] + files)
        #expect(run.status == 1)  // some files failed
        let rows = run.output.split(separator: "\n").dropFirst()
        #expect(rows.count == 147, "\(rows.count) rows")
        #expect(rows.allSatisfy { $0.hasPrefix(good.path + ",") })
        #expect(run.errors.components(separatedBy: "bad.mp3").count - 1 == 3)
        #expect(run.errors.contains("classify"), "no progress bar: \(run.errors.prefix(300))")
    }

    @Test func helpNamesEveryFormat() throws {
        for command in ["features", "info", "classify", "spectrogram"] {
            let help = try Tool.run([command, "--help"])
            #expect(help.output.contains("Ogg Vorbis"), "\(command): \(help.output)")
        }
    }
}
