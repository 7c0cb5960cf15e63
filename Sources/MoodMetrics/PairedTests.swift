import Foundation

/// Whether two classifiers differ on the same items: McNemar's exact test.
///
/// Only the discordant items count: `b` where A is right and B wrong, `c` the reverse.
/// Under "no difference" each discordant item is a fair coin, so the two-sided p-value is
/// `min(1, 2 P(X <= min(b, c)))` with `X ~ Binomial(b + c, 1/2)` (as `statsmodels`'
/// `mcnemar(exact=True)` computes it).
public struct McNemar: Sendable, Equatable {
    /// Items A gets right and B wrong.
    public let onlyA: Int
    /// Items B gets right and A wrong.
    public let onlyB: Int
    public let pValue: Double

    public init(aCorrect: [Bool], bCorrect: [Bool]) {
        precondition(aCorrect.count == bCorrect.count, "paired results must cover the same items")
        onlyA = zip(aCorrect, bCorrect).filter { $0 && !$1 }.count
        onlyB = zip(aCorrect, bCorrect).filter { !$0 && $1 }.count
        pValue = Self.exactPValue(onlyA, onlyB)
    }

    public static func exactPValue(_ b: Int, _ c: Int) -> Double {
        let n = b + c
        guard n > 0 else { return 1 }
        // P(X <= k) for X ~ Binomial(n, 1/2), summed in log space (n can be several hundred).
        let k = min(b, c)
        var logTerms = [Double]()
        for i in 0...k {
            logTerms.append(
                lgamma(Double(n + 1)) - lgamma(Double(i + 1)) - lgamma(Double(n - i + 1)) - Double(n) * log(2))
        }
        let top = logTerms.max()!
        let tail = exp(top) * logTerms.reduce(0) { $0 + exp($1 - top) }
        return min(1, 2 * tail)
    }

    /// "better than", "worse than" or "no different from" (at the 5 % level), as a report words it.
    public func verdict(level: Double = 0.05) -> String {
        guard pValue < level else { return "no different from" }
        return onlyA > onlyB ? "better than" : "worse than"
    }

    /// "89 vs 53 discordant clips, McNemar p = 0.003"; below 0.001 it says "p < 0.001".
    public var summary: String {
        String(
            format: "%d vs %d discordant clips, McNemar p %@", onlyA, onlyB,
            pValue < 0.001 ? "< 0.001" : String(format: "= %.3f", pValue))
    }
}
