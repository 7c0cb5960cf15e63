import Foundation
import MoodCore

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
            result.append(Array(order[start..<start + size]))
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

    /// ``groupKFold(groups:folds:generator:)`` with a generator of its own, drawn from `seed`:
    /// the folds a seed deals, wherever they are built. The penalty searches' inner folds come
    /// from here too, so the embedding model and the fine-tuning that starts from its head
    /// search the same folds for the same seed.
    public static func groupKFold(groups: [String], folds k: Int, seed: UInt64) -> [[Int]] {
        var generator = SeededGenerator(seed: seed)
        return groupKFold(groups: groups, folds: k, generator: &generator)
    }
}
