import Foundation
import MoodCore

/// An M3U / M3U8 playlist, or a plain list of paths: entries in order, each with the lines
/// that described it (`#EXTINF`), relative paths resolved against the playlist's folder.
public struct Playlist: Sendable {
    public struct Entry: Sendable {
        /// The line as written in the playlist.
        public var line: String
        /// The file it names.
        public var path: String
        /// `#EXTINF` and other comment lines just before it.
        public var comments: [String]
    }

    public let path: String
    public let entries: [Entry]

    public init(contentsOf path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw InputError(path, isDirectory.boolValue ? "is a folder, not a playlist" : "no such playlist")
        }
        let data = try RegularFile.contents(path, what: "the playlist")
        // An MP3 given by mistake would otherwise be read as lines of binary "paths".
        guard !data.contains(0) else {
            throw InputError(path, "not a text playlist: it holds binary data (an M3U lists one path a line)")
        }
        let text = String(decoding: data, as: UTF8.self)
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        var entries = [Entry](), comments = [String]()
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            if line.hasPrefix("#") { if line != "#EXTM3U" { comments.append(line) }; continue }
            let target = Self.target(of: line)
            let resolved = target.hasPrefix("/") ? target : Self.normalized(folder.appendingPathComponent(target).path)
            entries.append(Entry(line: line, path: resolved, comments: comments))
            comments = []
        }
        guard !entries.isEmpty else { throw InputError(path, "the playlist names no files") }
        self.path = path
        self.entries = entries
    }

    /// Writes `entries` as an extended M3U, atomically. Entries written as relative paths stay
    /// relative, but to the new playlist's folder, so they still name the same files.
    public static func write(_ entries: [Entry], to url: URL) throws {
        let folder = url.deletingLastPathComponent().standardized.path
        var lines = ["#EXTM3U"]
        for e in entries {
            lines += e.comments
            lines.append(target(of: e.line).hasPrefix("/") ? e.line : relativePath(e.path, from: folder))
        }
        try AtomicFile.write(lines.joined(separator: "\n") + "\n", to: url)
    }

    /// The path a line names: itself, or a `file://` URL's path.
    static func target(of line: String) -> String {
        line.hasPrefix("file://") ? URL(string: line)?.path ?? String(line.dropFirst(7)) : line
    }

    /// An absolute path without `.`, `..` or doubled slashes, so one file has one spelling.
    static func normalized(_ path: String) -> String {
        "/" + URL(fileURLWithPath: path).standardized.pathComponents.dropFirst().joined(separator: "/")
    }

    /// `path` relative to `folder` (both absolute), e.g. `../songs/a.mp3`.
    static func relativePath(_ path: String, from folder: String) -> String {
        let target = URL(fileURLWithPath: path).standardized.pathComponents,
            base = URL(fileURLWithPath: folder).standardized.pathComponents
        var common = 0
        while common < min(target.count, base.count), target[common] == base[common] { common += 1 }
        return (Array(repeating: "..", count: base.count - common) + target[common...]).joined(separator: "/")
    }

    /// The mood a playlist's file name carries (`calm evening.m3u` -> calm), if any.
    public static func mood(ofName name: String, moods: [String]) -> Int? {
        let words = name.lowercased().split { !$0.isLetter }.map(String.init)
        return moods.firstIndex { words.contains($0) }
    }
}
