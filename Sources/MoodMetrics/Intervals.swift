import Foundation
import MoodCore

/// A point estimate with a 95 % interval.
public struct Estimate: Sendable, Equatable, Codable {
    public var value: Double
    public var low: Double
    public var high: Double

    public init(value: Double, low: Double, high: Double) {
        self.value = value
        self.low = low
        self.high = high
    }

    /// `0.7857 [0.7012, 0.8521]`, scaled by `scale` (100 for percentages).
    public func formatted(_ digits: Int = 4, scale: Double = 1) -> String {
        let f = "%.\(digits)f"
        return String(format: f, value * scale) + " [" + String(format: f, low * scale) + ", "
            + String(format: f, high * scale) + "]"
    }
}

public enum Intervals {
    /// Wilson's 95 % score interval for `successes` out of `trials` (z = 1.959964).
    public static func wilson(successes: Int, trials: Int, z: Double = 1.959_963_984_540_054) -> Estimate {
        guard trials > 0 else { return Estimate(value: .nan, low: 0, high: 1) }
        let n = Double(trials), p = Double(successes) / n
        let denominator = 1 + z * z / n
        let centre = (p + z * z / (2 * n)) / denominator
        let half = z * (p * (1 - p) / n + z * z / (4 * n * n)).squareRoot() / denominator
        return Estimate(value: p, low: max(0, centre - half), high: min(1, centre + half))
    }

    /// A percentile bootstrap 95 % interval of `statistic` over resamples of `0..<count`
    /// (indices drawn with replacement from `generator`).
    public static func bootstrap(
        count: Int, resamples: Int = 1000, generator: inout SeededGenerator,
        statistic: ([Int]) -> Double
    ) -> Estimate {
        let value = statistic(Array(0..<count))
        var values = [Double]()
        values.reserveCapacity(resamples)
        for _ in 0..<resamples {
            let sample = (0..<count).map { _ in Int(generator.next() % UInt64(count)) }
            let v = statistic(sample)
            if !v.isNaN { values.append(v) }
        }
        values.sort()
        guard !values.isEmpty else { return Estimate(value: value, low: .nan, high: .nan) }
        func quantile(_ q: Double) -> Double {
            values[min(values.count - 1, max(0, Int((q * Double(values.count - 1)).rounded())))]
        }
        return Estimate(value: value, low: quantile(0.025), high: quantile(0.975))
    }

    public static func meanAndStandardDeviation(_ values: [Double]) -> (mean: Double, sd: Double) {
        guard !values.isEmpty else { return (.nan, .nan) }
        let mean = values.reduce(0, +) / Double(values.count)
        guard values.count > 1 else { return (mean, 0) }
        let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count - 1)
        return (mean, variance.squareRoot())
    }
}
