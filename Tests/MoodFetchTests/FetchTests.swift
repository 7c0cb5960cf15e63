import Foundation
import MoodCore
@testable import MoodFetch
import Testing

/// The download path end to end against a server on 127.0.0.1 that the test starts itself:
/// an interrupted transfer resumes with a range request, a corrupted byte is caught by the
/// archive checksum, a wrong track by the track list. No other address is ever contacted.
@Suite(.serialized) struct FetchTests {
    let folder: URL
    let tracks: [(String, Data)]
    let archive: Data
    let archiveName = "autotagging_moodtheme_audio-low-00.tar"

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "mooddex-fetch-\(getpid())-\(UInt32.random(in: 0 ... .max))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var g = SeededGenerator(seed: 1)
        tracks = [("00/1000.mp3", 30000), ("00/1100.mp3", 1200), ("01/2001.mp3", 70001)].map { name, size in
            (name, Data((0..<size).map { _ in UInt8(truncatingIfNeeded: g.next()) }))
        }
        archive = tarArchive(tracks)
    }

    /// Checksum lists in the published format (`<sha256> <name>`), optionally with one track wrong.
    func writeChecksums(breakTrack: Bool = false) throws -> URL {
        let lists = folder.appendingPathComponent("checksums")
        try FileManager.default.createDirectory(at: lists, withIntermediateDirectories: true)
        try "\(SHA256.hex(archive)) \(archiveName)\n".write(
            to: lists.appendingPathComponent("autotagging_moodtheme_audio-low_sha256_tars.txt"), atomically: true,
            encoding: .utf8)
        let lines = tracks.enumerated().map { i, t in
            "\(breakTrack && i == 1 ? String(repeating: "0", count: 64) : SHA256.hex(t.1)) \(t.0)"
        }
        try (lines.joined(separator: "\n") + "\n").write(
            to: lists.appendingPathComponent("autotagging_moodtheme_audio-low_sha256_tracks.txt"), atomically: true,
            encoding: .utf8)
        return lists
    }

    func fetcher(_ server: LoopbackServer, checksums: URL) -> MTGJamendoFetch {
        var fetch = MTGJamendoFetch(
            kind: .audioLow, parts: [0], destination: folder.appendingPathComponent("audio"), checksums: checksums)
        fetch.mirrors = [server.baseURL]
        fetch.showProgress = false
        fetch.pause = 0.05
        return fetch
    }

    @Test func interruptedTransferResumesAndEveryTrackIsVerified() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = "autotagging_moodtheme/audio-low/\(archiveName)"
        let server = try LoopbackServer(files: [path: archive])
        defer { server.stop() }
        server.cut(path, after: 40000)
        let summary = try fetcher(server, checksums: try writeChecksums()).run()
        #expect(summary.archives == [archiveName] && summary.tracks == 3)
        #expect(summary.resumed == 1)
        #expect(server.requests.map(\.from) == [0, 40000], "requests: \(server.requests)")
        for (name, body) in tracks {
            #expect(try Data(contentsOf: folder.appendingPathComponent("audio/\(name)")) == body)
        }
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("audio/\(archiveName)").path))
    }

    @Test func aCorruptedByteIsCaughtAndNamed() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        var damaged = archive
        damaged[damaged.startIndex + 20000] ^= 0x40
        let server = try LoopbackServer(files: ["autotagging_moodtheme/audio-low/\(archiveName)": damaged])
        defer { server.stop() }
        var fetch = fetcher(server, checksums: try writeChecksums())
        fetch.pause = 0.01
        #expect {
            try fetch.run()
        } throws: { error in
            let text = "\(error)"
            return text.contains(archiveName) && text.contains("checksum mismatch")
        }
        #expect(server.requests.count == 4, "each attempt starts over: \(server.requests.count) requests")
    }

    @Test func aWrongTrackIsNamedAfterUnpacking() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let server = try LoopbackServer(files: ["autotagging_moodtheme/audio-low/\(archiveName)": archive])
        defer { server.stop() }
        #expect(
            throws: InputError(
                folder.appendingPathComponent("audio/00/1100.mp3").path,
                "track checksum mismatch: expected \(String(repeating: "0", count: 64)), got \(SHA256.hex(tracks[1].1))"
            )
        ) {
            try fetcher(server, checksums: try writeChecksums(breakTrack: true)).run()
        }
    }

    @Test func missingArchivesAndBadPartsAreNamed() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let server = try LoopbackServer(files: [:])
        defer { server.stop() }
        #expect {
            try fetcher(server, checksums: try writeChecksums()).run()
        } throws: { "\($0)".contains("HTTP 404") }
        #expect(server.requests.count == 1, "a 404 is not retried")
        #expect(try MTGJamendoFetch.parseParts("0-2,5") == [0, 1, 2, 5])
        #expect(throws: InvalidParameter.self) { try MTGJamendoFetch.parseParts("a-b") }
        #expect(throws: InvalidParameter.self) { try MTGJamendoFetch.parseParts("5-2") }  // once a crash
        var fetch = fetcher(server, checksums: folder.appendingPathComponent("nowhere"))
        fetch.parts = [0]
        #expect(throws: InputError.self) { try fetch.run() }
    }

    @Test func tarRefusesEntriesOutsideTheFolder() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("evil.tar")
        try tarArchive([("../escape.txt", Data("x".utf8))]).write(to: url)
        #expect(throws: InputError.self) { try Tar.extract(url, into: folder.appendingPathComponent("out")) }
        var damaged = tarArchive([("a.txt", Data("x".utf8))])
        damaged[10] ^= 1
        try damaged.write(to: url)
        #expect(
            throws: InputError(
                url.path, "not a tar archive, or its first header is damaged (libarchive: Unrecognized archive format)")
        ) {
            try Tar.extract(url, into: folder)
        }
        // A symbolic link already in the target folder is not followed out of it.
        let out = folder.appendingPathComponent("linked"), outside = folder.appendingPathComponent("outside")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: out.appendingPathComponent("link"), withDestinationURL: outside)
        try tarArchive([("link/escape.txt", Data("x".utf8))]).write(to: url)
        #expect { try Tar.extract(url, into: out) } throws: { error in
            (error as? InputError)?.path == url.path && "\(error)".contains("symlink")
        }
        #expect(!FileManager.default.fileExists(atPath: outside.appendingPathComponent("escape.txt").path))
    }

    /// A damaged or cut archive is an error naming it, wherever the damage is, never a shorter
    /// list of files; a target folder reached through a symbolic link is fine.
    @Test func tarNamesDamageAndTruncationAnywhere() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("a.tar")
        let good = tarArchive([("00/1.mp3", Data(count: 3000)), ("00/2.mp3", Data("y".utf8))])
        let secondHeader = 512 + 3072
        for (cut, what) in [
            (secondHeader + 100, "inside the second header"), (1000, "inside the first file"), (0, "empty file"),
        ] {
            try good.prefix(cut).write(to: url)
            #expect(throws: InputError.self, "cut \(what)") {
                try Tar.extract(url, into: folder.appendingPathComponent("out"))
            }
        }
        var damaged = good
        damaged[secondHeader + 10] ^= 1
        try damaged.write(to: url)
        #expect(throws: InputError(url.path, "damaged or truncated tar archive (libarchive: Damaged tar archive)")) {
            try Tar.extract(url, into: folder.appendingPathComponent("out"))
        }
        try good.write(to: url)
        let real = folder.appendingPathComponent("real"), viaLink = folder.appendingPathComponent("via-link")
        try FileManager.default.createDirectory(at: real, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: viaLink, withDestinationURL: real)
        #expect(try Tar.extract(url, into: viaLink) == ["00/1.mp3", "00/2.mp3"])
        #expect(try Data(contentsOf: real.appendingPathComponent("00/2.mp3")) == Data("y".utf8))
    }
}
