import Foundation
import MoodCore

/// `mooddex fetch mtg-jamendo`: the official archives of the mood/theme subset, checked
/// against the published SHA-256 lists (per archive, then per track after unpacking).
public struct MTGJamendoFetch {
    public enum Kind: String, CaseIterable, Sendable { case audio, audioLow = "audio-low", melspecs }

    /// The public mirrors, tried in order (`--mirror` replaces them).
    public static let mirrors = [
        "https://cdn.freesound.org/mtg-jamendo/", "https://essentia.upf.edu/documentation/datasets/mtg-jamendo/",
    ]
    public static let dataset = "autotagging_moodtheme"

    public var kind: Kind
    public var parts: [Int]
    public var destination: URL
    /// Folder with `<dataset>_<kind>_sha256_tars.txt` and `_tracks.txt` (the data root's `mtg-jamendo/data/download`).
    public var checksums: URL
    public var mirrors = MTGJamendoFetch.mirrors
    public var keepArchives = false
    public var showProgress = true
    public var pause = 1.0

    public init(kind: Kind, parts: [Int], destination: URL, checksums: URL) {
        self.kind = kind
        self.parts = parts
        self.destination = destination
        self.checksums = checksums
    }

    public struct Summary: Sendable {
        public var archives: [String] = []
        public var tracks = 0
        public var resumed = 0
        public var skipped = 0
    }

    /// Parses `0-2,5` into [0, 1, 2, 5].
    public static func parseParts(_ text: String) throws -> [Int] {
        var parts = [Int]()
        for piece in text.split(separator: ",") {
            let ends = piece.split(separator: "-").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !ends.isEmpty, ends.allSatisfy({ $0 != nil && $0! >= 0 && $0! <= 99 }), ends.count <= 2 else {
                throw InvalidParameter("parts", text, "must be archive numbers 0-99, as 3 or 0-2 or 0-2,5")
            }
            guard ends.count == 1 || ends[0]! <= ends[1]! else {
                throw InvalidParameter("parts", text, "the range \(piece) runs backwards: write it low-high")
            }
            parts += ends.count == 1 ? [ends[0]!] : Array(ends[0]!...ends[1]!)
        }
        return parts
    }

    static func checksumList(_ url: URL) throws -> [String: String] {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw InputError(
                url.path,
                "checksum list not found: it ships with the MTG-Jamendo metadata (data/download/ of MTG/mtg-jamendo-dataset)"
            )
        }
        var list = [String: String]()
        for line in text.split(whereSeparator: \.isNewline) {
            let f = line.split(separator: " ", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if f.count == 2 { list[f[1]] = f[0] }
        }
        guard !list.isEmpty else { throw InputError(url.path, "no checksums in the list") }
        return list
    }

    public func run() throws -> Summary {
        let tars = try Self.checksumList(
            checksums.appendingPathComponent("\(Self.dataset)_\(kind.rawValue)_sha256_tars.txt"))
        let tracks = try Self.checksumList(
            checksums.appendingPathComponent("\(Self.dataset)_\(kind.rawValue)_sha256_tracks.txt"))
        var summary = Summary()
        for part in parts {
            let name = "\(Self.dataset)_\(kind.rawValue)-\(String(format: "%02d", part)).tar"
            guard let sha = tars[name] else { throw InputError(name, "not in the checksum list: no such archive") }
            let archive = destination.appendingPathComponent(name)
            var lastError: Error? = nil
            var fetched: Download.Result? = nil
            for mirror in mirrors {
                var download = Download(
                    url: mirror + "\(Self.dataset)/\(kind.rawValue)/\(name)", destination: archive, sha256: sha)
                download.showProgress = showProgress
                download.pause = pause
                do { fetched = try download.run(); break } catch is CancellationError {
                    throw CancellationError()
                } catch { lastError = error }
            }
            guard let fetched else { throw lastError ?? InputError(name, "no mirror answered") }
            summary.resumed += fetched.resumedFrom.count
            if fetched.skipped { summary.skipped += 1 }
            let files = try Tar.extract(archive, into: destination)
            for file in files {
                guard let expected = tracks[file] else {
                    throw InputError(destination.appendingPathComponent(file).path, "not in the track checksum list")
                }
                let got = try SHA256.hex(ofFile: destination.appendingPathComponent(file).path)
                guard got == expected else {
                    throw InputError(
                        destination.appendingPathComponent(file).path,
                        "track checksum mismatch: expected \(expected), got \(got)")
                }
            }
            summary.tracks += files.count
            summary.archives.append(name)
            if !keepArchives { try? FileManager.default.removeItem(at: archive) }
        }
        return summary
    }
}
