/// The order in which a batch norm adds up its per-channel sums.
///
/// A Float sum in one running total is a chain of dependent additions: each waits for the
/// last (4 cycles), so it runs at a quarter of an add per cycle whatever the vector width.
/// `.lanes` keeps 16 running totals (value `i` goes to lane `i mod 16`; a plane's last values
/// that do not fill 16 lanes go to one scalar total) and adds the lanes
/// pairwise at the end: the chain is broken, the loop vectorises, and in MoodCNN's first block
/// (0.5 GB per pass) the sums become memory-bound instead of latency-bound.
/// Both orders are fixed by the code, so each gives the same bits on every machine; they give
/// different bits from each other (rounding: about 1e-7 relative per sum). `.sequential` is the
/// order every committed report was trained with, so the reference backend keeps it; the oneDNN
/// backends, whose convolutions already round differently per CPU, take `.lanes`.
public enum Summation: Sendable {
    case sequential, lanes

    private typealias Lanes = SIMD16<Float>

    /// Values per block before the partial sums move to Double (each lane sums 256 of them).
    private static let block = 16 * 256

    @inline(__always)
    private static func load(_ p: UnsafePointer<Float>) -> Lanes {
        UnsafeRawPointer(p).loadUnaligned(as: Lanes.self)
    }

    /// The lanes added pairwise in a fixed order (`SIMD.sum()` leaves its order unspecified).
    @inline(__always)
    static func total(_ v: SIMD16<Float>) -> Float {
        let a = v.lowHalf + v.highHalf, b = a.lowHalf + a.highHalf, c = b.lowHalf + b.highHalf
        return c[0] + c[1]
    }

    /// `(sum (p[i] - shift), sum (p[i] - shift)^2)` over `count` values, lane-wise.
    @inline(__always)
    static func shiftedSums(_ p: UnsafePointer<Float>, count: Int, shift: Float) -> (Double, Double) {
        var sum = 0.0, squares = 0.0
        let k = Lanes(repeating: shift)
        var start = 0
        while start < count {
            let end = min(count, start + block)
            var s = Lanes(), q = Lanes(), i = start
            while i + 16 <= end {
                let d = load(p + i) - k
                s += d
                q += d * d
                i += 16
            }
            var tail: Float = 0, tailSquares: Float = 0
            while i < end { let d = p[i] - shift; tail += d; tailSquares += d * d; i += 1 }
            sum += Double(total(s)) + Double(tail)
            squares += Double(total(q)) + Double(tailSquares)
            start = end
        }
        return (sum, squares)
    }

    /// `(sum d[i], sum d[i] (x[i] - mean))` over `count` values, lane-wise.
    @inline(__always)
    static func gradientSums(_ d: UnsafePointer<Float>, x: UnsafePointer<Float>, mean: Float, count: Int)
        -> (Double, Double)
    {
        var sum = 0.0, products = 0.0
        let mu = Lanes(repeating: mean)
        var start = 0
        while start < count {
            let end = min(count, start + block)
            var a = Lanes(), b = Lanes(), i = start
            while i + 16 <= end {
                let g = load(d + i)
                a += g
                b += g * (load(x + i) - mu)
                i += 16
            }
            var tail: Float = 0, tailProducts: Float = 0
            while i < end { tail += d[i]; tailProducts += d[i] * (x[i] - mean); i += 1 }
            sum += Double(total(a)) + Double(tail)
            products += Double(total(b)) + Double(tailProducts)
            start = end
        }
        return (sum, products)
    }
}
