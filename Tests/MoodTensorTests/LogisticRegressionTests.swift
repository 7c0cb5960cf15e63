import Foundation
import MoodCore
@testable import MoodTraining
import XCTest

/// `LogisticRegression` and `PenaltySearch` against scikit-learn 1.9
/// (`Tests/Scripts/logistic_regression_reference.py`): both solve the same strictly convex
/// problem, so probabilities agree to 1e-5 and the grid search picks the same C.
final class LogisticRegressionTests: XCTestCase {
    struct Reference: Decodable {
        struct Fit: Decodable { let C: Double; let probabilities: [[Double]] }
        let x: [[Double]], y: [Int], classes: Int, test: [[Double]]
        let fits: [Fit]
        let grid: [Double], folds: [[Int]]
        let mean_log_loss: [Double]
        let best_C: Double
    }

    func reference() throws -> Reference {
        try JSONDecoder().decode(
            Reference.self, from: Data(contentsOf: URL(fileURLWithPath: fixture("logistic-regression-reference.json"))))
    }

    func testProbabilitiesMatchScikitLearn() throws {
        let r = try reference()
        let scaler = Standardizer(fitting: r.x)
        for fit in r.fits {
            let model = try LogisticRegression(
                fitting: r.x.map(scaler.transform), labels: r.y, classes: r.classes, inverseRegularisation: fit.C)
            for (row, expected) in zip(r.test, fit.probabilities) {
                let got = model.probabilities(scaler.transform(row))
                for (a, b) in zip(got, expected) { XCTAssertEqual(a, b, accuracy: 1e-5, "C = \(fit.C)") }
            }
        }
    }

    /// The four-classes-at-a-time loss and gradient against the plain one-class-at-a-time loops,
    /// bit for bit, for class counts that fill a block, leave a remainder, or fit in one.
    func testBlockedGradientMatchesTheOneClassLoopsBitForBit() {
        var g = SeededGenerator(seed: 9)
        for classes in [2, 3, 4, 5, 9] {
            let (rows, features) = (23, 17)
            let problem = LogisticRegression.Problem(
                x: (0..<rows * features).map { _ in Double(g.nextNormal()) },
                labels: (0..<rows).map { $0 % classes }, rows: rows, features: features, classes: classes, penalty: 0.3)
            let theta = (0..<problem.parameterCount).map { _ in Double(g.nextNormal()) * 0.2 }
            let (fastLoss, fastGradient) = problem.lossAndGradient(theta)
            let (loss, gradient) = problem.lossAndGradientOneClassAtATime(theta)
            XCTAssertEqual(fastLoss.bitPattern, loss.bitPattern, "\(classes) classes")
            XCTAssertEqual(fastGradient.map(\.bitPattern), gradient.map(\.bitPattern), "\(classes) classes")
        }
    }

    /// The penalty search's fits shared among workers: the same losses, bit for bit, as on one.
    func testPenaltySearchGivesTheSameBitsOnAnyThreadCount() throws {
        let r = try reference()
        let one = try PenaltySearch.choose(
            x: r.x, labels: r.y, classes: r.classes, folds: r.folds, grid: r.grid, threads: 1)
        let three = try PenaltySearch.choose(
            x: r.x, labels: r.y, classes: r.classes, folds: r.folds, grid: r.grid, threads: 3)
        XCTAssertEqual(one.best, three.best)
        XCTAssertEqual(one.meanLoss.map(\.bitPattern), three.meanLoss.map(\.bitPattern))
    }

    func testPenaltySearchMatchesGridSearchCV() throws {
        let r = try reference()
        let (best, losses) = try PenaltySearch.choose(
            x: r.x, labels: r.y, classes: r.classes, folds: r.folds, grid: r.grid, threads: 2)
        XCTAssertEqual(best, r.best_C)
        for (a, b) in zip(losses, r.mean_log_loss) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    }

    /// Out of iterations: a fit within 1000 x the tolerance is kept (its probabilities agree with
    /// the fully converged fit's), one further away is an error naming the gradient.
    func testTheIterationLimitKeepsOnlyANearOptimum() throws {
        let r = try reference()
        let scaler = Standardizer(fitting: r.x)
        let x = r.x.map(scaler.transform)
        let converged = try LogisticRegression(fitting: x, labels: r.y, classes: r.classes, inverseRegularisation: 1)
        let near = try LogisticRegression(
            fitting: x, labels: r.y, classes: r.classes, inverseRegularisation: 1,
            maxIterations: converged.iterations - 1)
        for row in r.test.map(scaler.transform) {
            for (a, b) in zip(near.probabilities(row), converged.probabilities(row)) {
                XCTAssertEqual(a, b, accuracy: 1e-3)
            }
        }
        XCTAssertThrowsError(
            try LogisticRegression(
                fitting: x, labels: r.y, classes: r.classes, inverseRegularisation: 1, tolerance: 1e-12,
                maxIterations: 2)
        ) {
            XCTAssertTrue("\($0)".hasPrefix("logistic regression: no convergence after 2 iterations"), "\($0)")
        }
    }

    func testBadInputIsNamed() {
        XCTAssertThrowsError(
            try LogisticRegression(fitting: [[1, .nan]], labels: [0], classes: 2, inverseRegularisation: 1)
        ) {
            XCTAssertEqual("\($0)", "logistic regression: feature 1 of row 0 is not finite")
        }
        XCTAssertThrowsError(
            try LogisticRegression(fitting: [[1, 2], [3]], labels: [0, 1], classes: 2, inverseRegularisation: 1)
        ) {
            XCTAssertEqual("\($0)", "logistic regression: row 1 has 1 features, expected 2")
        }
        XCTAssertThrowsError(try LogisticRegression(fitting: [[1]], labels: [2], classes: 2, inverseRegularisation: 1))
        {
            XCTAssertEqual("\($0)", "logistic regression: label 2 of row 0 is outside 0..<2")
        }
        XCTAssertThrowsError(try LogisticRegression(fitting: [[1]], labels: [0], classes: 2, inverseRegularisation: 0))
    }
}
