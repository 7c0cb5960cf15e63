import Foundation
import MoodCore
import MoodTensor

/// fastai's `lr_find`: train for up to `steps` batches while the learning rate grows
/// exponentially from `start` to `end`, record the loss smoothed as
/// `avg = beta avg + (1 - beta) loss`, debiased by `1 - beta^(i+1)`, stop once it exceeds
/// 4x its minimum (or turns NaN), then put the model and optimiser back as they were.
///
/// Suggestions: `steepest` is the rate where the smoothed loss falls fastest (the most
/// negative slope against log10 of the rate, after the first tenth of the sweep); `minimumOverTen` is the rate at the
/// lowest smoothed loss divided by 10 (fastai's two classic suggestions).
public struct LearningRateFinder {
    public var start = 1e-7
    public var end = 10.0
    public var steps = 100
    public var beta = 0.98

    public init(start: Double = 1e-7, end: Double = 10, steps: Int = 100) {
        self.start = start
        self.end = end
        self.steps = steps
    }

    public struct Result: Sendable {
        public var learningRates: [Double]
        public var smoothedLosses: [Double]
        public var steepest: Double
        public var minimumOverTen: Double
    }

    public func run(_ learner: Learner) -> Result {
        // Keep everything the sweep changes, to restore it afterwards.
        let saved = learner.network.parameters.map { $0.value.values }
        let savedBuffers = learner.network.buffers.map { $0.tensor.values }
        let savedState = learner.optimizer.state
        let savedGenerator = learner.generator
        defer {
            for (p, v) in zip(learner.network.parameters, saved) { p.value.copy(from: v) }
            for (b, v) in zip(learner.network.buffers, savedBuffers) { b.tensor.copy(from: v) }
            learner.optimizer.state = savedState
            learner.generator = savedGenerator
        }
        var rates = [Double](), smoothed = [Double]()
        var average = 0.0, best = Double.infinity
        var order = [Int]()
        let bar = ProgressBar("lr_find", total: steps, enabled: learner.showProgress)
        defer { bar.finish() }
        for i in 0..<steps {
            if order.count < learner.batchSize {
                var fresh = Array(0..<learner.train.count)
                fresh.shuffle(using: &learner.generator)
                order += fresh
            }
            let indices = Array(order.prefix(learner.batchSize))
            order.removeFirst(indices.count)
            let lr = start * pow(end / start, Double(i) / Double(max(steps - 1, 1)))
            guard let loss = try? Double(learner.trainStep(indices, learningRate: Float(lr), momentum: 0.9)),
                loss.isFinite
            else { break }
            bar.advance()
            average = beta * average + (1 - beta) * loss
            let value = average / (1 - pow(beta, Double(i + 1)))
            rates.append(lr)
            smoothed.append(value)
            best = min(best, value)
            if value > 4 * best && i > 0 { break }
        }
        // The first tenth of the sweep is skipped (the debiased average is still noisy there, as
        // fastai's plot skips its start), and slopes are taken over five points.
        var steepest = rates.first ?? start, slope = Double.infinity
        let skip = max(2, rates.count / 10)
        if rates.count > skip + 2 {
            for i in skip..<rates.count - 2 {
                let s = (smoothed[i + 2] - smoothed[i - 2]) / (log10(rates[i + 2]) - log10(rates[i - 2]))
                if s < slope { slope = s; steepest = rates[i] }
            }
        }
        let minimumIndex = smoothed.indices.min { smoothed[$0] < smoothed[$1] } ?? 0
        return Result(
            learningRates: rates, smoothedLosses: smoothed, steepest: steepest,
            minimumOverTen: (rates.isEmpty ? start : rates[minimumIndex]) / 10)
    }
}
