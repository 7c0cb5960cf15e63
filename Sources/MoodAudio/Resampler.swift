import Foundation

/// A polyphase windowed-sinc resampler for rational rate ratios (used for WAV input;
/// MP3 input is resampled by libmpg123 itself).
///
/// Output sample n sits at input position t = n * from / to. With the ratio reduced to
/// up/down, t's fractional part takes `up` values, so one filter per phase is
/// precomputed: h(x) = c * sinc(c * x) * hann(x / half), c = min(1, to/from) * 0.95
/// (cut-off a little below the lower Nyquist rate), `half` = 16 / c input samples.
public struct Resampler {
    public let from: Int
    public let to: Int
    private let up: Int
    private let down: Int
    private let half: Int
    private let taps: [Float]  // up phases x (2 * half) taps

    public init(from: Int, to: Int) {
        precondition(from > 0 && to > 0, "sample rates must be positive")
        self.from = from
        self.to = to
        var a = from, b = to
        while b != 0 { (a, b) = (b, a % b) }
        up = to / a
        down = from / a
        let cutoff = min(1.0, Double(to) / Double(from)) * 0.95
        half = Int((16 / cutoff).rounded(.up))
        var taps = [Float](repeating: 0, count: up * 2 * half)
        for phase in 0..<up {
            let fraction = Double(phase) / Double(up)  // t - floor(t)
            for j in 0..<(2 * half) {
                let x = Double(j - half + 1) - fraction  // input index offset minus t
                let arg = cutoff * x
                let sinc = arg == 0 ? 1.0 : sin(Double.pi * arg) / (Double.pi * arg)
                let window = 0.5 + 0.5 * cos(Double.pi * x / Double(half))
                taps[phase * 2 * half + j] = Float(cutoff * sinc * (abs(x) < Double(half) ? window : 0))
            }
        }
        self.taps = taps
    }

    /// Output frames `resample` makes from `inputFrames` input frames.
    public func outputFrames(forInputFrames inputFrames: Int) -> Int {
        from == to ? inputFrames : Int((Int64(inputFrames) * Int64(up) + Int64(down) - 1) / Int64(down))
    }

    /// The input frames `first ..< last` that outputs `outputs` depend on, widened so that
    /// `first` is a multiple of `down` (resampling `first ..< last` alone then puts output
    /// `outputs.lowerBound` at index `skip`, computed from exactly the same input values as
    /// when the whole signal is resampled).
    public func inputSpan(outputs: Range<Int>, inputFrames: Int) -> (first: Int, last: Int, skip: Int) {
        let lowest = max(0, outputs.lowerBound * down / up - half + 1)
        let highest = min(inputFrames, (outputs.upperBound - 1) * down / up + half + 1)
        let first = lowest / down * down
        return (first, max(highest, first), outputs.lowerBound - first / down * up)
    }

    /// Resamples interleaved `samples` of `channels` channels.
    public func resample(_ samples: [Float], channels: Int = 1) -> [Float] {
        if from == to { return samples }
        let inFrames = samples.count / channels
        let outFrames = Int((Int64(inFrames) * Int64(up) + Int64(down) - 1) / Int64(down))
        var out = [Float](repeating: 0, count: outFrames * channels)
        let width = 2 * half
        samples.withUnsafeBufferPointer { x in
            taps.withUnsafeBufferPointer { h in
                for n in 0..<outFrames {
                    let numerator = n * down
                    let base = numerator / up, phase = numerator % up
                    let filter = h.baseAddress! + phase * width
                    let first = base - half + 1
                    for c in 0..<channels {
                        var sum: Float = 0
                        for j in 0..<width {
                            let k = first + j
                            if k >= 0 && k < inFrames { sum += filter[j] * x[k * channels + c] }
                        }
                        out[n * channels + c] = sum
                    }
                }
            }
        }
        return out
    }
}
