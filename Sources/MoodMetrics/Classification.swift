/// Single-label classification metrics from predicted and true class indices.
public struct ClassificationReport: Sendable, Equatable {
    public let classes: Int
    /// `confusion[truth][prediction]` counts.
    public let confusion: [[Int]]

    public init(truth: [Int], predicted: [Int], classes: Int) {
        precondition(truth.count == predicted.count, "\(truth.count) labels for \(predicted.count) predictions")
        var matrix = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
        for (t, p) in zip(truth, predicted) { matrix[t][p] += 1 }
        self.classes = classes
        confusion = matrix
    }

    public var total: Int { confusion.joined().reduce(0, +) }
    public var correct: Int { (0..<classes).reduce(0) { $0 + confusion[$1][$1] } }
    public var accuracy: Double { total == 0 ? .nan : Double(correct) / Double(total) }
    public var errorRate: Double { 1 - accuracy }

    /// Of the samples predicted as `c`, the share that are `c` (0 when none are predicted as `c`, as scikit-learn does).
    public func precision(_ c: Int) -> Double {
        let predicted = (0..<classes).reduce(0) { $0 + confusion[$1][c] }
        return predicted == 0 ? 0 : Double(confusion[c][c]) / Double(predicted)
    }

    /// Of the samples that are `c`, the share predicted as `c`.
    public func recall(_ c: Int) -> Double {
        let actual = confusion[c].reduce(0, +)
        return actual == 0 ? 0 : Double(confusion[c][c]) / Double(actual)
    }

    public func f1(_ c: Int) -> Double {
        let p = precision(c), r = recall(c)
        return p + r == 0 ? 0 : 2 * p * r / (p + r)
    }

    /// Unweighted mean of the per-class F1 scores.
    public var macroF1: Double { (0..<classes).map(f1).reduce(0, +) / Double(classes) }
}
