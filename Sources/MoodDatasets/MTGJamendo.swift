import Foundation
import MoodCore

/// The MTG-Jamendo mood/theme metadata (Bogdanov et al. 2019): tracks, their tags, official splits.
public struct MTGJamendo: Sendable {
    public struct Track: Sendable {
        public var id: String
        public var artist: String
        public var album: String
        /// Relative audio path, e.g. `48/948.mp3`.
        public var path: String
        public var duration: Double
        /// Tag names without the `mood/theme---` prefix.
        public var tags: [String]
    }

    public static let prefix = "mood/theme---"

    /// Reads a metadata TSV: TRACK_ID, ARTIST_ID, ALBUM_ID, PATH, DURATION, then one column per tag.
    public static func tracks(_ path: String) throws -> [Track] {
        guard let text = String(data: try RegularFile.contents(path), encoding: .utf8) else {
            throw InputError(path, "not UTF-8 text")
        }
        // Split on any line break: "\r\n" is one Character in Swift, so splitting on "\n" alone would miss it.
        var lines = text.split(whereSeparator: \.isNewline)
        guard let header = lines.first?.split(separator: "\t").map(String.init) else {
            throw InputError(path, "empty file")
        }
        let expected = ["TRACK_ID", "ARTIST_ID", "ALBUM_ID", "PATH", "DURATION"]
        guard Array(header.prefix(5)) == expected else {
            throw InputError(
                path, "header \(header.prefix(5).joined(separator: ", ")) is not \(expected.joined(separator: ", "))")
        }
        lines.removeFirst()
        guard !lines.isEmpty else { throw InputError(path, "no tracks after the header") }
        return try lines.enumerated().map { n, line in
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            guard fields.count >= 6, let duration = Double(fields[4]) else {
                throw InputError(
                    path, "line \(n + 2): expected at least 6 tab-separated fields with a numeric DURATION")
            }
            let tags = fields[5...].filter { !$0.isEmpty }.map {
                $0.hasPrefix(prefix) ? String($0.dropFirst(prefix.count)) : $0
            }
            return Track(
                id: fields[0], artist: fields[1], album: fields[2], path: fields[3], duration: duration, tags: tags)
        }
    }

    /// Tag names, one per line (`data/tags/moodtheme_split.txt`), prefix removed.
    public static func tagList(_ path: String) throws -> [String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw InputError(path, "cannot read the file")
        }
        let tags = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter {
            !$0.isEmpty
        }
        .map { $0.hasPrefix(prefix) ? String($0.dropFirst(prefix.count)) : $0 }
        guard !tags.isEmpty else { throw InputError(path, "no tags") }
        return tags
    }
}

extension MTGJamendo {
    /// An official split whose audio is on disk: the tracks of `split-N/<part>.tsv` found under
    /// `audioFolder` at their `PATH` (the layout `mooddex fetch mtg-jamendo` unpacks), with
    /// 0/1 targets over `tags` (the 56 of `moodtheme_split.txt`).
    public struct AudioSplit: Sendable {
        public var paths: [String]
        public var artists: [String]
        public var targets: [[Float]]
        /// Tracks listed in the split whose audio is missing.
        public var missing: Int
    }

    public static func audioSplit(metadata: URL, split: Int, part: String, audioFolder: URL, tags: [String]) throws
        -> AudioSplit
    {
        let file = metadata.appendingPathComponent("splits/split-\(split)/autotagging_moodtheme-\(part).tsv")
        let tracks = try Self.tracks(file.path)
        var result = AudioSplit(paths: [], artists: [], targets: [], missing: 0)
        for track in tracks {
            var path = audioFolder.appendingPathComponent(track.path).path
            if !FileManager.default.fileExists(atPath: path) {
                // The low-quality archives name files <id>.low.mp3.
                let low = audioFolder.appendingPathComponent(
                    track.path.replacingOccurrences(of: ".mp3", with: ".low.mp3")
                ).path
                guard FileManager.default.fileExists(atPath: low) else { result.missing += 1; continue }
                path = low
            }
            result.paths.append(path)
            result.artists.append(track.artist)
            result.targets.append(tags.map { track.tags.contains($0) ? 1 : 0 })
        }
        return result
    }
}
