import Foundation

/// The one-cycle policy (Smith 2018) as PyTorch's `OneCycleLR` computes it, with
/// fastai's `fit_one_cycle` defaults.
///
/// Warm-up over the first `pctStart` of the steps, from `maxLR / div` to `maxLR`, while
/// momentum falls from `maxMomentum` to `baseMomentum`; then cosine annealing to
/// `maxLR / div / finalDiv` while momentum rises back. Within a phase running from step
/// a to step b, `pct = (step - a) / (b - a)` and
/// `value = end + (start - end) (1 + cos(pi pct)) / 2`. Phase one ends at step
/// `pctStart * total - 1`, phase two at `total - 1`.
public struct OneCycleSchedule: Sendable, Equatable {
    public var maxLR: Double
    public var totalSteps: Int
    public var pctStart = 0.25
    public var div = 25.0
    public var finalDiv = 1e5
    public var baseMomentum = 0.85
    public var maxMomentum = 0.95

    public init(
        maxLR: Double, totalSteps: Int, pctStart: Double = 0.25, div: Double = 25, finalDiv: Double = 1e5,
        baseMomentum: Double = 0.85, maxMomentum: Double = 0.95
    ) {
        self.maxLR = maxLR
        self.totalSteps = max(totalSteps, 1)
        self.pctStart = pctStart
        self.div = div
        self.finalDiv = finalDiv
        self.baseMomentum = baseMomentum
        self.maxMomentum = maxMomentum
    }

    static func cosine(_ start: Double, _ end: Double, _ pct: Double) -> Double {
        end + (start - end) / 2 * (cos(Double.pi * pct) + 1)
    }

    /// Learning rate and momentum at `step` (0-based).
    public func values(at step: Int) -> (learningRate: Double, momentum: Double) {
        let initial = maxLR / div, minimum = initial / finalDiv
        let warmEnd = pctStart * Double(totalSteps) - 1, end = Double(totalSteps - 1)
        let s = Double(step)
        if s <= warmEnd {
            let pct = warmEnd > 0 ? s / warmEnd : 1
            return (Self.cosine(initial, maxLR, pct), Self.cosine(maxMomentum, baseMomentum, pct))
        }
        let pct = (s - warmEnd) / (end - warmEnd)
        return (Self.cosine(maxLR, minimum, pct), Self.cosine(baseMomentum, maxMomentum, pct))
    }
}
