import Foundation
import MoodCore
import MoodMetrics
import Testing

@Suite struct MetricsTests {
    /// 10 samples, 3 classes, worked by hand:
    /// truth     0 0 0 0 1 1 1 2 2 2
    /// predicted 0 0 1 2 1 1 0 2 2 1
    @Test func confusionPrecisionRecallF1ByHand() {
        let r = ClassificationReport(
            truth: [0, 0, 0, 0, 1, 1, 1, 2, 2, 2], predicted: [0, 0, 1, 2, 1, 1, 0, 2, 2, 1], classes: 3)
        #expect(r.confusion == [[2, 1, 1], [1, 2, 0], [0, 1, 2]])
        #expect(r.accuracy == 0.6)
        #expect(abs(r.errorRate - 0.4) < 1e-12)
        #expect(abs(r.precision(0) - 2.0 / 3) < 1e-12)  // predicted 0: samples 1, 2, 7
        #expect(abs(r.recall(0) - 0.5) < 1e-12)
        #expect(abs(r.f1(0) - 4.0 / 7) < 1e-12)  // 2 (2/3)(1/2) / (2/3 + 1/2)
        #expect(abs(r.precision(1) - 0.5) < 1e-12)  // predicted 1: 3, 5, 6, 10
        #expect(abs(r.f1(2) - 2.0 / 3) < 1e-12)  // precision 2/3 (samples 4, 8, 9), recall 2/3
        #expect(abs(r.macroF1 - (4.0 / 7 + (2 * 0.5 * 2.0 / 3) / (0.5 + 2.0 / 3) + 2.0 / 3) / 3) < 1e-12)
    }

    /// Scores 0.1 0.4 0.35 0.8 with truth 0 0 1 1: of the four positive/negative pairs, three
    /// are ordered right: ROC-AUC 0.75; AP = 0.5 x 1 + 0.5 x 2/3 = 0.8333 (scikit-learn's example).
    @Test func rocAUCAndAveragePrecisionOnScikitLearnsExample() {
        let scores = [0.1, 0.4, 0.35, 0.8], truth = [false, false, true, true]
        #expect(abs(Ranking.rocAUC(scores: scores, truth: truth) - 0.75) < 1e-12)
        #expect(abs(Ranking.averagePrecision(scores: scores, truth: truth) - 0.833_333_333_333) < 1e-9)
    }

    @Test func tiesCountOneHalfAndDegenerateCasesAreNaN() {
        #expect(Ranking.rocAUC(scores: [0.5, 0.5], truth: [true, false]) == 0.5)
        #expect(Ranking.averagePrecision(scores: [0.5, 0.5], truth: [true, false]) == 0.5)
        #expect(Ranking.rocAUC(scores: [0.1, 0.2], truth: [true, true]).isNaN)
        #expect(Ranking.averagePrecision(scores: [0.1, 0.2], truth: [false, false]).isNaN)
    }

    @Test func accuracyMultiCountsCells() {
        let scores = [[0.9, 0.1], [0.4, 0.6]], truth = [[true, false], [true, false]]
        #expect(MultiLabelReport.accuracyMulti(scores: scores, truth: truth) == 0.5)
        // Predicting nothing scores the share of negative cells.
        #expect(MultiLabelReport.accuracyMulti(scores: [[0, 0], [0, 0]], truth: truth) == 0.5)
    }

    /// Wilson interval for 8 of 10 (worked from the formula): [0.4902, 0.9433].
    @Test func wilsonInterval() {
        let e = Intervals.wilson(successes: 8, trials: 10)
        #expect(e.value == 0.8)
        #expect(abs(e.low - 0.490_162) < 1e-5 && abs(e.high - 0.943_318) < 1e-5, "\(e)")
        let zero = Intervals.wilson(successes: 0, trials: 20)
        #expect(zero.low == 0 && zero.high > 0.1)
    }

    @Test func bootstrapIsSeededAndCoversTheMean() {
        let values = (0..<200).map { Double($0 % 10) }
        func run() -> Estimate {
            var g = SeededGenerator(seed: 3)
            return Intervals.bootstrap(count: values.count, generator: &g) { idx in
                idx.map { values[$0] }.reduce(0, +) / Double(idx.count)
            }
        }
        let a = run(), b = run()
        #expect(a == b)
        #expect(a.low < 4.5 && a.high > 4.5 && a.high - a.low < 1)
    }
}

/// The published MediaEval 2019 baseline scores, recomputed from its predictions.
@Suite struct MediaEvalTests {
    static let folder = Locations.dataRoot().appendingPathComponent("mtg-jamendo/results/mediaeval")
    static let present = FileManager.default.fileExists(atPath: folder.appendingPathComponent("groundtruth.npy").path)

    @Test(
        .enabled(
            if: present,
            "MTG-Jamendo results absent: set MOODDEX_DATA_ROOT to a folder holding mtg-jamendo/ (see README, Data)"))
    func vggishBaselineScores() throws {
        let truth = try NPYArray(contentsOf: Self.folder.appendingPathComponent("groundtruth.npy").path)
        let predictions = try NPYArray(
            contentsOf: Self.folder.appendingPathComponent("baseline_vggish_predictions.npy").path)
        let decisions = try NPYArray(
            contentsOf: Self.folder.appendingPathComponent("baseline_vggish_decisions.npy").path)
        #expect(truth.shape == [4231, 56] && predictions.shape == [4231, 56])
        let rows = 4231, tags = 56
        let t = (0..<rows).map { r in (0..<tags).map { truth.values[r * tags + $0] > 0.5 } }
        let p = (0..<rows).map { r in Array(predictions.values[(r * tags)..<((r + 1) * tags)]) }
        let report = MultiLabelReport(scores: p, truth: t)
        #expect(abs(report.rocAUCMacro - 0.725821) < 5e-6, "ROC-AUC macro \(report.rocAUCMacro)")
        #expect(abs(report.averagePrecisionMacro - 0.107734) < 5e-6, "PR-AUC macro \(report.averagePrecisionMacro)")
        #expect(abs(report.rocAUCMicro - 0.775029) < 5e-6, "ROC-AUC micro \(report.rocAUCMicro)")
        #expect(abs(report.averagePrecisionMicro - 0.140913) < 5e-6, "PR-AUC micro \(report.averagePrecisionMicro)")
        #expect(abs(MultiLabelReport.accuracyMulti(scores: p, truth: t) - 0.968202) < 5e-7)
        // The published decisions use per-tag thresholds; predicting no tag at all scores 1 - 1.7878/56.
        #expect(decisions.count == rows * tags)
        let nothing = MultiLabelReport.accuracyMulti(scores: p.map { $0.map { _ in 0 } }, truth: t)
        #expect(abs(nothing - 0.968076) < 5e-7)
    }
}

/// McNemar's exact test against values from scipy.stats.binomtest (two-sided, p = 0.5),
/// which statsmodels' mcnemar(exact=True) uses: b = 10, c = 2 -> 0.0385742; b = 3, c = 3 -> 1;
/// b = 40, c = 60 -> 0.0569; b = 0, c = 0 -> 1.
@Suite struct PairedTestTests {
    @Test func exactPValuesMatchTheBinomialTest() {
        #expect(abs(McNemar.exactPValue(10, 2) - 0.0385742) < 1e-6)
        #expect(McNemar.exactPValue(3, 3) == 1)
        #expect(abs(McNemar.exactPValue(40, 60) - 0.056887) < 1e-5)
        #expect(McNemar.exactPValue(0, 0) == 1)
    }

    @Test func verdictFollowsTheTest() {
        let a = [true, true, true, true, true, true, true, true, true, true, false, false]
        let b = [false, false, false, false, false, false, false, false, false, false, true, true]
        let test = McNemar(aCorrect: a, bCorrect: b)
        #expect(test.onlyA == 10 && test.onlyB == 2)
        #expect(test.verdict() == "better than")
        #expect(McNemar(aCorrect: b, bCorrect: a).verdict() == "worse than")
        #expect(McNemar(aCorrect: [true, false], bCorrect: [false, true]).verdict() == "no different from")
    }

    /// The sentence a report prints: "p = 0.039", or "p < 0.001" (never "p = < 0.001").
    @Test func summaryWordsThePValue() {
        let a = Array(repeating: true, count: 10) + [false, false]
        let b = Array(repeating: false, count: 10) + [true, true]
        #expect(McNemar(aCorrect: a, bCorrect: b).summary == "10 vs 2 discordant clips, McNemar p = 0.039")
        let many = Array(repeating: true, count: 30)
        #expect(
            McNemar(aCorrect: many, bCorrect: Array(repeating: false, count: 30)).summary
                == "30 vs 0 discordant clips, McNemar p < 0.001")
    }
}
