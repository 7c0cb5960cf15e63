import Foundation
import MoodCore
import MoodPlot
import Testing

/// A 64 KiB tmpfs mounted for one test: a disk that really fills up or turns read-only.
/// Mounting needs root with CAP_SYS_ADMIN; elsewhere the tests that need it are skipped.
struct SmallDisk {
    let folder: URL

    static let available: Bool = {
        guard getuid() == 0, let disk = try? SmallDisk() else { return false }
        disk.unmount()
        return true
    }()

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "mooddex-disk-\(getpid())-\(UInt32.random(in: 0 ... .max))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        guard Self.mount(["-t", "tmpfs", "-o", "size=64k", "tmpfs", folder.path]) else {
            try? FileManager.default.removeItem(at: folder)
            throw CocoaError(.fileWriteNoPermission)
        }
    }

    /// Fills what is left with one file (the write stops at ENOSPC).
    func fill() {
        let descriptor = open(folder.appendingPathComponent("filler").path, O_WRONLY | O_CREAT, 0o644)
        let block = [UInt8](repeating: 0, count: 4096)
        while write(descriptor, block, block.count) > 0 {}
        close(descriptor)
    }

    func makeReadOnly() -> Bool { Self.mount(["-o", "remount,ro", folder.path]) }

    func unmount() {
        _ = Self.mount(["-u", folder.path], tool: "/bin/umount")
        try? FileManager.default.removeItem(at: folder)
    }

    static func mount(_ arguments: [String], tool: String = "/bin/mount") -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments.first == "-u" ? Array(arguments.dropFirst()) : arguments
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }
}

/// A failed write names the output and the reason in plain words and leaves the old file intact.
@Suite(.serialized) struct OutputFailureTests {
    func expectPlain(_ error: Error, path: String, reason: String) {
        let text = "\(error)"
        #expect(text.contains(path), "\(text) should name \(path)")
        #expect(text.contains(reason), "\(text) should say \(reason)")
        #expect(!text.contains("NSCocoaErrorDomain") && !text.contains("Code="), "raw Foundation text: \(text)")
    }

    @Test func aFolderThatIsAFileIsNamedInPlainWords() throws {
        let folder = try temporaryFolder("output")
        defer { try? FileManager.default.removeItem(at: folder) }
        let blocker = folder.appendingPathComponent("reports")
        try Data("a file".utf8).write(to: blocker)
        let target = blocker.appendingPathComponent("x.md")
        do { try AtomicFile.write("text", to: target); Issue.record("wrote below a file") } catch {
            expectPlain(error, path: target.path, reason: "is a file, not a folder")
        }
    }

    @Test(.enabled(if: SmallDisk.available, "needs root to mount a small tmpfs"))
    func aFullDiskKeepsTheOldFileAndSaysDiskFull() throws {
        let disk = try SmallDisk()
        defer { disk.unmount() }
        let report = disk.folder.appendingPathComponent("report.md")
        try AtomicFile.write("old", to: report)
        disk.fill()
        do {
            try AtomicFile.write(String(repeating: "new ", count: 10_000), to: report);
            Issue.record("wrote on a full disk")
        } catch {
            expectPlain(error, path: report.path, reason: "disk full")
        }
        #expect(try String(contentsOf: report, encoding: .utf8) == "old")
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: disk.folder.path).sorted() == ["filler", "report.md"])
    }

    @Test(
        .enabled(if: SmallDisk.available && Gnuplot.executable != nil, "needs root to mount a small tmpfs, and gnuplot")
    )
    func aFigureOnAFullDiskKeepsTheOldOne() throws {
        let disk = try SmallDisk()
        defer { disk.unmount() }
        let png = disk.folder.appendingPathComponent("figure.png")
        var figure = HeatmapFigure(
            values: (0..<4096).map { Float($0 % 97) }, rows: 64, columns: 64, title: "t", xLabel: "x", yLabel: "y",
            colourLabel: "c")
        figure.size = (120, 80)
        try figure.render(to: png)
        let old = try Data(contentsOf: png)
        disk.fill()
        figure.size = (1600, 1200)
        do { try figure.render(to: png); Issue.record("drew on a full disk") } catch {
            expectPlain(error, path: png.path, reason: "disk full")
        }
        #expect(try Data(contentsOf: png) == old)
    }

    /// `train -o` is checked before training: a file in the way, a full or read-only disk.
    @Test func anOutputFolderIsCheckedBeforeLongWork() throws {
        let folder = try temporaryFolder("check")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("model")
        try Data("x".utf8).write(to: file)
        #expect(throws: OutputError.self) { try AtomicFile.checkWritable(folder: file) }
        let fresh = folder.appendingPathComponent("new/model")
        try AtomicFile.checkWritable(folder: fresh)
        #expect(!FileManager.default.fileExists(atPath: fresh.path), "the check left an empty folder behind")
        guard SmallDisk.available else { return }
        let disk = try SmallDisk()
        defer { disk.unmount() }
        disk.fill()
        do {
            try AtomicFile.checkWritable(folder: disk.folder.appendingPathComponent("model"));
            Issue.record("full disk passed the check")
        } catch {
            expectPlain(error, path: disk.folder.path, reason: "disk full")
        }
    }

    @Test(.enabled(if: SmallDisk.available, "needs root to mount a small tmpfs"))
    func aReadOnlyFolderSaysReadOnly() throws {
        let disk = try SmallDisk()
        defer { disk.unmount() }
        let report = disk.folder.appendingPathComponent("sub/report.md")
        try AtomicFile.write("old", to: report)
        #expect(disk.makeReadOnly())
        do { try AtomicFile.write("new", to: report); Issue.record("wrote on a read-only disk") } catch {
            expectPlain(error, path: report.path, reason: "read-only file system")
        }
        let fresh = disk.folder.appendingPathComponent("new/deeper/report.md")
        do { try AtomicFile.write("new", to: fresh); Issue.record("wrote on a read-only disk") } catch {
            expectPlain(error, path: fresh.path, reason: "read-only file system")
        }
        #expect(try String(contentsOf: report, encoding: .utf8) == "old")
    }
}
