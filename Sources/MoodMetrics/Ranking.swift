/// Threshold-free metrics of scores against 0/1 truth, as scikit-learn computes them.
public enum Ranking {
    /// ROC-AUC: the probability that a random positive outscores a random negative, ties
    /// counting one half (Mann-Whitney U from average ranks; equals `roc_auc_score`).
    /// NaN when one class is absent.
    public static func rocAUC(scores: [Double], truth: [Bool]) -> Double {
        precondition(scores.count == truth.count, "\(scores.count) scores for \(truth.count) labels")
        let positives = truth.filter { $0 }.count, negatives = truth.count - positives
        guard positives > 0, negatives > 0 else { return .nan }
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var rankSum = 0.0
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && scores[order[j + 1]] == scores[order[i]] { j += 1 }
            let averageRank = Double(i + j) / 2 + 1
            for k in i...j where truth[order[k]] { rankSum += averageRank }
            i = j + 1
        }
        return (rankSum - Double(positives) * Double(positives + 1) / 2) / (Double(positives) * Double(negatives))
    }

    /// Average precision, `sum_n (R_n - R_{n-1}) P_n` over distinct score thresholds from the
    /// top (scikit-learn's `average_precision_score`: a step function, no interpolation).
    /// NaN when there is no positive.
    public static func averagePrecision(scores: [Double], truth: [Bool]) -> Double {
        precondition(scores.count == truth.count, "\(scores.count) scores for \(truth.count) labels")
        let positives = truth.filter { $0 }.count
        guard positives > 0 else { return .nan }
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        var truePositives = 0, seen = 0, previousRecall = 0.0, ap = 0.0
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && scores[order[j + 1]] == scores[order[i]] { j += 1 }
            for k in i...j { seen += 1; if truth[order[k]] { truePositives += 1 } }
            let recall = Double(truePositives) / Double(positives), precision = Double(truePositives) / Double(seen)
            ap += (recall - previousRecall) * precision
            previousRecall = recall
            i = j + 1
        }
        return ap
    }
}

/// Multi-label metrics over a `samples x tags` score matrix and its 0/1 truth.
public struct MultiLabelReport: Sendable {
    public let rocAUCPerTag: [Double]
    public let averagePrecisionPerTag: [Double]
    public let rocAUCMicro: Double
    public let averagePrecisionMicro: Double

    public init(scores: [[Double]], truth: [[Bool]]) {
        precondition(
            scores.count == truth.count && !scores.isEmpty,
            "scores and truth must have the same, non-zero number of rows")
        let tags = scores[0].count
        rocAUCPerTag = (0..<tags).map { t in Ranking.rocAUC(scores: scores.map { $0[t] }, truth: truth.map { $0[t] }) }
        averagePrecisionPerTag = (0..<tags).map { t in
            Ranking.averagePrecision(scores: scores.map { $0[t] }, truth: truth.map { $0[t] })
        }
        rocAUCMicro = Ranking.rocAUC(scores: scores.flatMap { $0 }, truth: truth.flatMap { $0 })
        averagePrecisionMicro = Ranking.averagePrecision(scores: scores.flatMap { $0 }, truth: truth.flatMap { $0 })
    }

    /// Unweighted mean over the tags that have both classes (scikit-learn raises on the others).
    public var rocAUCMacro: Double { Self.mean(rocAUCPerTag) }
    public var averagePrecisionMacro: Double { Self.mean(averagePrecisionPerTag) }

    static func mean(_ values: [Double]) -> Double {
        let defined = values.filter { !$0.isNaN }
        return defined.isEmpty ? .nan : defined.reduce(0, +) / Double(defined.count)
    }

    /// fastai's `accuracy_multi`: the share of (sample, tag) cells where `score > threshold`
    /// agrees with the truth.
    public static func accuracyMulti(scores: [[Double]], truth: [[Bool]], threshold: Double = 0.5) -> Double {
        var agree = 0, cells = 0
        for (row, labels) in zip(scores, truth) {
            for (s, y) in zip(row, labels) { if (s > threshold) == y { agree += 1 }; cells += 1 }
        }
        return Double(agree) / Double(max(cells, 1))
    }
}
