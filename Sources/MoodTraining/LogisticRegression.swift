import Foundation
import MoodCore
import MoodTensor

/// Multinomial logistic regression with an L2 penalty, fitted to its exact optimum in Double
/// precision: the linear probe of transfer learning, where hundreds of correlated embedding
/// dimensions meet a few hundred clips and the penalty decides the result.
///
/// Objective (scikit-learn's `LogisticRegression`, lbfgs, multinomial), over `n` rows `x_i`
/// with labels `y_i`, weights `W` (`classes x features`) and unpenalised intercepts `b`:
///
///     minimise  C Σ_i −log softmax(W x_i + b)[y_i]  +  ½ ‖W‖²
///
/// solved as the equivalent `(1/n) Σ_i CE_i + ‖W‖² / (2 C n)` with L-BFGS (memory 10,
/// backtracking Armijo line search) until the largest gradient entry is below `tolerance`
/// (or within `1000 tolerance` when the line search or the iteration limit stops it first;
/// scikit-learn's lbfgs stops at 1e-4).
/// The problem is strictly convex in `W`, so the fit is the same whatever the start; there is
/// no randomness and no seed.
public struct LogisticRegression: Sendable {
    /// `classes x features`, row-major.
    public let weights: [Double]
    public let intercepts: [Double]
    public let classes: Int
    public let features: Int
    /// The inverse penalty strength `C` it was fitted with.
    public let inverseRegularisation: Double
    /// L-BFGS iterations used.
    public let iterations: Int

    public enum FitError: Error, CustomStringConvertible {
        case empty
        case ragged(row: Int, width: Int, expected: Int)
        case notFinite(row: Int, column: Int)
        case badLabel(row: Int, label: Int, classes: Int)
        case badPenalty(Double)
        case notConverged(iterations: Int, gradient: Double)
        case labelCount(Int, rows: Int)

        public var description: String {
            switch self {
            case .empty: return "logistic regression: no training rows"
            case .ragged(let r, let w, let e): return "logistic regression: row \(r) has \(w) features, expected \(e)"
            case .notFinite(let r, let c): return "logistic regression: feature \(c) of row \(r) is not finite"
            case .badLabel(let r, let l, let k):
                return "logistic regression: label \(l) of row \(r) is outside 0..<\(k)"
            case .badPenalty(let c): return "logistic regression: C must be positive and finite, got \(c)"
            case .notConverged(let i, let g):
                return "logistic regression: no convergence after \(i) iterations (largest gradient \(g))"
            case .labelCount(let l, let r): return "logistic regression: \(l) labels for \(r) rows"
            }
        }
    }

    /// Fits the model; throws on ragged, non-finite or mislabelled input instead of fitting it.
    public init(
        fitting x: [[Double]], labels: [Int], classes: Int, inverseRegularisation c: Double,
        tolerance: Double = 1e-7, maxIterations: Int = 5000
    ) throws {
        guard let width = x.first?.count, !x.isEmpty else { throw FitError.empty }
        guard c > 0, c.isFinite else { throw FitError.badPenalty(c) }
        guard labels.count == x.count else { throw FitError.labelCount(labels.count, rows: x.count) }
        for (r, row) in x.enumerated() {
            guard row.count == width else { throw FitError.ragged(row: r, width: row.count, expected: width) }
            if let j = row.firstIndex(where: { !$0.isFinite }) { throw FitError.notFinite(row: r, column: j) }
            guard (0..<classes).contains(labels[r]) else {
                throw FitError.badLabel(row: r, label: labels[r], classes: classes)
            }
        }
        let problem = Problem(
            x: x.flatMap { $0 }, labels: labels, rows: x.count, features: width, classes: classes,
            penalty: 1 / (c * Double(x.count)))
        let (theta, iterations) = try LBFGS.minimise(
            start: [Double](repeating: 0, count: problem.parameterCount),
            tolerance: tolerance, maxIterations: maxIterations, problem.lossAndGradient)
        self.weights = Array(theta[0..<classes * width])
        self.intercepts = Array(theta[(classes * width)...])
        self.classes = classes
        self.features = width
        self.inverseRegularisation = c
        self.iterations = iterations
    }

    /// A fitted model from its saved numbers (`weights` row-major `classes x features`).
    public init(weights: [Double], intercepts: [Double], inverseRegularisation: Double) {
        precondition(!intercepts.isEmpty && weights.count % intercepts.count == 0, "weights must be classes x features")
        self.weights = weights
        self.intercepts = intercepts
        self.classes = intercepts.count
        self.features = weights.count / intercepts.count
        self.inverseRegularisation = inverseRegularisation
        self.iterations = 0
    }

    /// Class probabilities of one row.
    public func probabilities(_ row: [Double]) -> [Double] {
        precondition(row.count == features, "logistic regression: row has \(row.count) features, model has \(features)")
        var logits = intercepts
        for k in 0..<classes {
            var s = 0.0
            for j in 0..<features { s += weights[k * features + j] * row[j] }
            logits[k] += s
        }
        return Self.softmax(logits)
    }

    static func softmax(_ logits: [Double]) -> [Double] {
        let top = logits.max()!
        let e = logits.map { exp($0 - top) }
        let sum = e.reduce(0, +)
        return e.map { $0 / sum }
    }

    /// The penalised mean cross-entropy and its gradient over flat parameters `[W | b]`.
    struct Problem {
        let x: [Double]
        let labels: [Int]
        let rows: Int, features: Int, classes: Int
        /// Coefficient of ½‖W‖² after dividing the objective by `C n`.
        let penalty: Double
        var parameterCount: Int { classes * (features + 1) }

        /// The cross-entropy and its gradient. Classes go four at a time through each row: four
        /// independent sums instead of one chain of dependent additions, each still summed over
        /// `j` in order, so the bits are those of one class at a time, about three times faster.
        func lossAndGradient(_ theta: [Double]) -> (Double, [Double]) {
            var gradient = [Double](repeating: 0, count: theta.count)
            var loss = 0.0
            let d = features, k = classes
            var logits = [Double](repeating: 0, count: k), residuals = [Double](repeating: 0, count: k)
            x.withUnsafeBufferPointer { x in
                theta.withUnsafeBufferPointer { t in
                    gradient.withUnsafeMutableBufferPointer { g in
                        for i in 0..<rows {
                            let row = x.baseAddress! + i * d
                            for c in stride(from: 0, to: k, by: 4) {
                                // Beyond the last class, the block repeats class c (computed, dropped).
                                let class1 = c + 1 < k ? c + 1 : c, class2 = c + 2 < k ? c + 2 : c,
                                    class3 = c + 3 < k ? c + 3 : c
                                let w0 = t.baseAddress! + c * d, w1 = t.baseAddress! + class1 * d,
                                    w2 = t.baseAddress! + class2 * d, w3 = t.baseAddress! + class3 * d
                                var s0 = t[k * d + c], s1 = t[k * d + class1], s2 = t[k * d + class2],
                                    s3 = t[k * d + class3]
                                for j in 0..<d {
                                    let v = row[j]
                                    s0 += w0[j] * v; s1 += w1[j] * v; s2 += w2[j] * v; s3 += w3[j] * v
                                }
                                logits[c] = s0
                                if c + 1 < k { logits[c + 1] = s1 }
                                if c + 2 < k { logits[c + 2] = s2 }
                                if c + 3 < k { logits[c + 3] = s3 }
                            }
                            let top = logits.max()!
                            var sum = 0.0
                            for c in 0..<k { logits[c] = exp(logits[c] - top); sum += logits[c] }
                            loss -= log(logits[labels[i]] / sum)
                            for c in 0..<k {
                                residuals[c] = (logits[c] / sum - (c == labels[i] ? 1 : 0)) / Double(rows)
                                g[k * d + c] += residuals[c]
                            }
                            for c in stride(from: 0, to: k, by: 4) {
                                // Each gradient entry gets the same single addition as class by class.
                                let (r0, r1, r2, r3) = (
                                    residuals[c], c + 1 < k ? residuals[c + 1] : 0, c + 2 < k ? residuals[c + 2] : 0,
                                    c + 3 < k ? residuals[c + 3] : 0
                                )
                                let g0 = g.baseAddress! + c * d
                                switch min(4, k - c) {
                                case 4:
                                    let (g1, g2, g3) = (g0 + d, g0 + 2 * d, g0 + 3 * d)
                                    for j in 0..<d {
                                        let v = row[j]
                                        g0[j] += r0 * v; g1[j] += r1 * v; g2[j] += r2 * v; g3[j] += r3 * v
                                    }
                                case 3:
                                    let (g1, g2) = (g0 + d, g0 + 2 * d)
                                    for j in 0..<d { let v = row[j]; g0[j] += r0 * v; g1[j] += r1 * v; g2[j] += r2 * v }
                                case 2:
                                    let g1 = g0 + d
                                    for j in 0..<d { let v = row[j]; g0[j] += r0 * v; g1[j] += r1 * v }
                                default:
                                    for j in 0..<d { g0[j] += r0 * row[j] }
                                }
                            }
                        }
                    }
                }
            }
            loss /= Double(rows)
            for j in 0..<k * d {
                loss += 0.5 * penalty * theta[j] * theta[j]
                gradient[j] += penalty * theta[j]
            }
            return (loss, gradient)
        }

        /// ``lossAndGradient(_:)`` one class at a time: the plain loops the fast one is held to, bit for bit.
        func lossAndGradientOneClassAtATime(_ theta: [Double]) -> (Double, [Double]) {
            var gradient = [Double](repeating: 0, count: theta.count)
            var loss = 0.0
            let d = features, k = classes
            var logits = [Double](repeating: 0, count: k)
            for i in 0..<rows {
                let row = i * d
                for c in 0..<k {
                    var s = theta[k * d + c]
                    for j in 0..<d { s += theta[c * d + j] * x[row + j] }
                    logits[c] = s
                }
                let top = logits.max()!
                var sum = 0.0
                for c in 0..<k { logits[c] = exp(logits[c] - top); sum += logits[c] }
                loss -= log(logits[labels[i]] / sum)
                for c in 0..<k {
                    let residual = (logits[c] / sum - (c == labels[i] ? 1 : 0)) / Double(rows)
                    for j in 0..<d { gradient[c * d + j] += residual * x[row + j] }
                    gradient[k * d + c] += residual
                }
            }
            loss /= Double(rows)
            for j in 0..<k * d {
                loss += 0.5 * penalty * theta[j] * theta[j]
                gradient[j] += penalty * theta[j]
            }
            return (loss, gradient)
        }
    }
}

/// Limited-memory BFGS for smooth unconstrained problems (Nocedal & Wright, algorithm 7.4,
/// two-loop recursion; backtracking line search on the Armijo condition).
enum LBFGS {
    static func minimise(
        start: [Double], memory: Int = 10, tolerance: Double, maxIterations: Int,
        _ f: ([Double]) -> (Double, [Double])
    ) throws -> ([Double], Int) {
        var x = start
        var (value, gradient) = f(x)
        var steps = [[Double]](), changes = [[Double]](), curvatures = [Double]()
        func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
        for iteration in 0..<maxIterations {
            let largest = gradient.map(abs).max() ?? 0
            if largest < tolerance { return (x, iteration) }
            // Two-loop recursion: direction = −H g.
            var q = gradient
            var alphas = [Double](repeating: 0, count: steps.count)
            for m in stride(from: steps.count - 1, through: 0, by: -1) {
                alphas[m] = curvatures[m] * dot(steps[m], q)
                for j in q.indices { q[j] -= alphas[m] * changes[m][j] }
            }
            if let s = steps.last, let y = changes.last {
                let scale = dot(s, y) / dot(y, y)
                for j in q.indices { q[j] *= scale }
            }
            for m in steps.indices {
                let beta = curvatures[m] * dot(changes[m], q)
                for j in q.indices { q[j] += steps[m][j] * (alphas[m] - beta) }
            }
            var direction = q.map { -$0 }
            var slope = dot(direction, gradient)
            if !(slope < 0) {  // not a descent direction (lost curvature): restart from the gradient
                direction = gradient.map { -$0 }
                slope = dot(direction, gradient)
                steps.removeAll(); changes.removeAll(); curvatures.removeAll()
            }
            var rate = steps.isEmpty ? min(1, 1 / max(largest, 1e-12)) : 1.0
            var next: [Double] = x, nextValue = value, nextGradient = gradient
            var accepted = false
            for _ in 0..<60 {
                next = zip(x, direction).map { $0 + rate * $1 }
                (nextValue, nextGradient) = f(next)
                if nextValue.isFinite, nextValue <= value + 1e-4 * rate * slope { accepted = true; break }
                rate *= 0.5
            }
            guard accepted else {
                // No decrease is representable any more: at the optimum to machine precision.
                if largest < tolerance * 1e3 { return (x, iteration) }
                throw LogisticRegression.FitError.notConverged(iterations: iteration, gradient: largest)
            }
            let s = zip(next, x).map { $0 - $1 }, y = zip(nextGradient, gradient).map { $0 - $1 }
            let sy = dot(s, y)
            if sy > 1e-12 * dot(y, y) {
                steps.append(s); changes.append(y); curvatures.append(1 / sy)
                if steps.count > memory { steps.removeFirst(); changes.removeFirst(); curvatures.removeFirst() }
            }
            (x, value, gradient) = (next, nextValue, nextGradient)
        }
        // Out of iterations within a thousand times the tolerance (a weakly penalised fit on a
        // thousand features creeps there): the optimum to the printed digits, as above. Beyond
        // that, an error, never a silently unfinished fit.
        let largest = gradient.map(abs).max() ?? 0
        if largest < tolerance * 1e3 { return (x, maxIterations) }
        throw LogisticRegression.FitError.notConverged(iterations: maxIterations, gradient: largest)
    }
}

/// Centres and scales every feature by the mean and population standard deviation of the rows it
/// was fitted on (scikit-learn's `StandardScaler`; a constant feature keeps scale 1).
public struct Standardizer: Sendable {
    public let mean: [Double]
    public let scale: [Double]

    public init(mean: [Double], scale: [Double]) {
        precondition(mean.count == scale.count, "one mean and one scale per feature")
        self.mean = mean
        self.scale = scale
    }

    public init(fitting rows: [[Double]]) {
        let n = Double(rows.count), width = rows.first?.count ?? 0
        var mean = [Double](repeating: 0, count: width), variance = [Double](repeating: 0, count: width)
        for row in rows { for j in 0..<width { mean[j] += row[j] / n } }
        for row in rows { for j in 0..<width { variance[j] += (row[j] - mean[j]) * (row[j] - mean[j]) / n } }
        self.mean = mean
        self.scale = variance.map { $0 > 0 ? $0.squareRoot() : 1 }
    }

    public func transform(_ row: [Double]) -> [Double] {
        (0..<mean.count).map { (row[$0] - mean[$0]) / scale[$0] }
    }
}

/// Choosing the penalty without looking at the test rows: cross-validation inside the
/// training set (scikit-learn's `GridSearchCV` with `neg_log_loss`).
public enum PenaltySearch {
    /// The default grid: half decades from 0.001 to 10.
    public static let grid: [Double] = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10]

    /// Held-out cross-entropy of every `C` in `grid`, averaged over `folds` (indices into `x`;
    /// each fold is held out once, standardised on the rest; the mean of the per-fold means, as
    /// scikit-learn scores), and the `C` with the lowest (ties: the smaller `C`, the stronger penalty).
    /// The fits, one per fold and `C`, are independent: `threads` workers share them and the
    /// losses are added in one fixed order, so any thread count gives the same bits.
    public static func choose(
        x: [[Double]], labels: [Int], classes: Int, folds: [[Int]], grid: [Double] = grid, threads: Int
    ) throws -> (best: Double, meanLoss: [Double]) {
        // Fold-major, so each worker's contiguous share mixes cheap strong penalties with dear weak ones.
        let jobs = folds.indices.flatMap { f in grid.indices.map { (fold: f, c: $0) } }
        var foldLosses = [Double](repeating: .nan, count: jobs.count)
        var errors = [Error?](repeating: nil, count: jobs.count)
        foldLosses.withUnsafeMutableBufferPointer { out in
            errors.withUnsafeMutableBufferPointer { failures in
                Compute.parallel(jobs.count, workers: threads) { _, range in
                    for j in range {
                        do {
                            out[j] = try heldOutLoss(
                                x: x, labels: labels, classes: classes, held: folds[jobs[j].fold], c: grid[jobs[j].c])
                        } catch { failures[j] = error }
                    }
                }
            }
        }
        if let error = errors.first(where: { $0 != nil }) { throw error! }
        let losses = grid.indices.map { c in
            folds.indices.reduce(0.0) { $0 + foldLosses[$1 * grid.count + c] } / Double(folds.count)
        }
        let best = losses.indices.min { losses[$0] < losses[$1] }!
        return (grid[best], losses)
    }

    /// The mean cross-entropy on the rows `held` of a fit with penalty `c` on the other rows.
    static func heldOutLoss(x: [[Double]], labels: [Int], classes: Int, held: [Int], c: Double) throws -> Double {
        let heldSet = Set(held)
        let train = x.indices.filter { !heldSet.contains($0) }
        let scaler = Standardizer(fitting: train.map { x[$0] })
        let model = try LogisticRegression(
            fitting: train.map { scaler.transform(x[$0]) }, labels: train.map { labels[$0] },
            classes: classes, inverseRegularisation: c)
        var foldLoss = 0.0
        for i in held { foldLoss -= log(max(model.probabilities(scaler.transform(x[i]))[labels[i]], 1e-300)) }
        return foldLoss / Double(held.count)
    }

    /// The whole probe: the penalty chosen over `folds`, then standardisation and the fit on all of `x`.
    public static func fit(
        x: [[Double]], labels: [Int], classes: Int, folds: [[Int]], grid: [Double] = grid, threads: Int
    ) throws -> (scaler: Standardizer, model: LogisticRegression, meanLoss: [Double]) {
        let (c, losses) = try choose(
            x: x, labels: labels, classes: classes, folds: folds, grid: grid, threads: threads)
        let scaler = Standardizer(fitting: x)
        let model = try LogisticRegression(
            fitting: x.map(scaler.transform), labels: labels, classes: classes, inverseRegularisation: c)
        return (scaler, model, losses)
    }
}
