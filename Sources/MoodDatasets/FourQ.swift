import Foundation
import MoodCore

/// The 4Q audio emotion dataset (Panda, Malheiro & Paiva 2018): 30-s clips in Q1..Q4
/// folders with a `metadata.csv` (Song, Artist, Quadrant, MoodsStrSplit, ...).
public struct FourQ: Sendable {
    /// The thesis's four moods, in the order MoodDex's models output them.
    public static let moods = ["happy", "sad", "calm", "energetic"]
    /// Russell quadrant -> mood: Q1 high arousal and positive valence (happy), Q2 high and
    /// negative (energetic, here tense), Q3 low and negative (sad), Q4 low and positive (calm).
    public static let quadrantMood = ["Q1": 0, "Q2": 3, "Q3": 1, "Q4": 2]

    public struct Clip: Sendable {
        public var id: String
        public var path: String
        public var artist: String
        public var title: String
        /// Index into `FourQ.moods`.
        public var mood: Int
        /// AllMusic mood tags, lower-case.
        public var tags: [String]
    }

    public let folder: URL
    public let clips: [Clip]

    /// Reads `folder/metadata.csv` and finds each clip's MP3 in its quadrant folder.
    public init(folder: URL) throws {
        let table = try CSVTable(contentsOf: folder.appendingPathComponent("metadata.csv").path)
        let ids = try table.strings("Song"), artists = try table.strings("Artist"), titles = try table.strings("Title")
        let quadrants = try table.strings("Quadrant"), tags = try table.strings("MoodsStrSplit")
        var clips = [Clip]()
        for i in ids.indices {
            guard let mood = Self.quadrantMood[quadrants[i]] else {
                throw InputError(
                    folder.appendingPathComponent("metadata.csv").path,
                    "line \(i + 2): unknown quadrant '\(quadrants[i])'")
            }
            let path = folder.appendingPathComponent("\(quadrants[i])/\(ids[i]).mp3").path
            guard FileManager.default.fileExists(atPath: path) else {
                throw InputError(path, "listed in metadata.csv but missing")
            }
            clips.append(
                Clip(
                    id: ids[i], path: path, artist: artists[i], title: titles[i], mood: mood,
                    tags: tags[i].split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
                        .filter { !$0.isEmpty }))
        }
        guard !clips.isEmpty else { throw InputError(folder.path, "no clips in metadata.csv") }
        self.folder = folder
        self.clips = clips
    }
}
