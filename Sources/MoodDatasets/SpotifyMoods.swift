import Foundation
import MoodCore

/// The Spotify four-mood table (Veas 2020): audio features and a mood per track.
public struct SpotifyMoods: Sendable {
    /// The 10 features the article's model used, in its order.
    public static let featureNames = ["length", "danceability", "acousticness", "energy", "instrumentalness",
                                      "liveness", "valence", "loudness", "speechiness", "tempo"]
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
                throw InputError(path, "line \(line + 2): unknown mood '\(mood)' (expected one of \(Self.moods.joined(separator: ", ")))")
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

/// Min-max scaling to [0, 1] per column, fitted on some rows and applied to any.
public struct MinMaxScaler: Sendable {
    public let minimum: [Double]
    public let maximum: [Double]

    public init(fitting rows: [[Double]]) {
        let width = rows.first?.count ?? 0
        minimum = (0..<width).map { c in rows.map { $0[c] }.min() ?? 0 }
        maximum = (0..<width).map { c in rows.map { $0[c] }.max() ?? 1 }
    }

    /// A constant column maps to 0 (scikit-learn's behaviour).
    public func transform(_ row: [Double]) -> [Double] {
        row.enumerated().map { c, v in
            let range = maximum[c] - minimum[c]
            return range == 0 ? 0 : (v - minimum[c]) / range
        }
    }
}

/// Splits for cross-validation, drawn from an explicit seed.
public enum CrossValidation {
    /// scikit-learn's `KFold(n_splits: k, shuffle: true)` scheme: indices shuffled, then cut into
    /// k folds whose sizes differ by at most one (the first `count % k` folds one larger).
    /// Returns the validation indices of each fold.
    public static func kFold(count: Int, folds k: Int, generator: inout SeededGenerator) -> [[Int]] {
        precondition(k >= 2 && k <= count, "k-fold needs 2 <= k (\(k)) <= samples (\(count))")
        var order = Array(0..<count)
        order.shuffle(using: &generator)
        var result = [[Int]](), start = 0
        for f in 0..<k {
            let size = count / k + (f < count % k ? 1 : 0)
            result.append(Array(order[start ..< start + size]))
            start += size
        }
        return result
    }

    /// Folds that keep every group (artist) whole: groups shuffled, then each assigned to the
    /// fold with the fewest samples so far (largest groups first), as scikit-learn's GroupKFold.
    public static func groupKFold(groups: [String], folds k: Int, generator: inout SeededGenerator) -> [[Int]] {
        var members = [String: [Int]]()
        for (i, g) in groups.enumerated() { members[g, default: []].append(i) }
        var names = members.keys.sorted()
        names.shuffle(using: &generator)
        names.sort { members[$0]!.count > members[$1]!.count }  // stable: ties keep the shuffled order
        var result = [[Int]](repeating: [], count: k)
        for name in names {
            let smallest = result.indices.min { result[$0].count < result[$1].count }!
            result[smallest] += members[name]!
        }
        return result.map { $0.sorted() }
    }
}
