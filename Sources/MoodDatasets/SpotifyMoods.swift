import Foundation
import MoodCore

/// The Spotify four-mood table (Veas 2020): audio features and a mood per track.
public struct SpotifyMoods: Sendable {
    /// The 10 features the article's model used, in its order.
    public static let featureNames = [
        "length", "danceability", "acousticness", "energy", "instrumentalness",
        "liveness", "valence", "loudness", "speechiness", "tempo",
    ]
    /// Keras's LabelEncoder order (alphabetical).
    public static let moods = ["Calm", "Energetic", "Happy", "Sad"]

    public let path: String
    public let ids: [String]
    public let features: [[Double]]
    public let labels: [Int]

    public init(contentsOf path: String) throws {
        let table = try CSVTable(contentsOf: path)
        let columns = try Self.featureNames.map { try table.numbers($0) }
        let moodText = try table.strings("mood")
        ids = try table.strings("id")
        labels = try moodText.enumerated().map { line, mood in
            guard let label = Self.moods.firstIndex(of: mood) else {
                throw InputError(
                    path,
                    "line \(line + 2): unknown mood '\(mood)' (expected one of \(Self.moods.joined(separator: ", ")))")
            }
            return label
        }
        features = (0..<table.rows.count).map { r in columns.map { $0[r] } }
        guard !features.isEmpty else { throw InputError(path, "no rows") }
        self.path = path
    }

    public var count: Int { labels.count }

    /// Ids that appear with more than one mood, and how many rows they take.
    public var conflictingIDs: (ids: Int, rows: Int) {
        var moods = [String: Set<Int>](), rows = [String: Int]()
        for (id, label) in zip(ids, labels) { moods[id, default: []].insert(label); rows[id, default: 0] += 1 }
        let conflicting = moods.filter { $0.value.count > 1 }.keys
        return (conflicting.count, conflicting.reduce(0) { $0 + rows[$1]! })
    }

    /// The best accuracy any classifier can reach: each id predicted as its most frequent mood.
    public var accuracyCeiling: Double {
        var counts = [String: [Int: Int]]()
        for (id, label) in zip(ids, labels) { counts[id, default: [:]][label, default: 0] += 1 }
        return Double(counts.values.reduce(0) { $0 + ($1.values.max() ?? 0) }) / Double(count)
    }
}
