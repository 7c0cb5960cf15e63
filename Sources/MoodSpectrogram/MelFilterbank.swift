import Foundation

/// The Slaney mel scale and filterbank (librosa's `htk=False, norm="slaney"`).
///
/// Scale: linear below 1 kHz, `mel = 3 f / 200`; logarithmic above,
/// `mel = 15 + 27 ln(f / 1000) / ln 6.4`.
/// Filter i is a triangle over FFT bin frequencies rising from mel point i to i+1
/// and falling to i+2 (with `melBands + 2` points evenly spaced in mel between fMin
/// and fMax), scaled by `2 / (f[i+2] - f[i])` so each has unit area in Hz.
/// Weights are computed in Double and stored as Float, as librosa does.
public struct MelFilterbank: Sendable {
    /// One filter's non-zero span: weights for bins `firstBin ..< firstBin + weights.count`.
    public struct Filter: Sendable {
        public var firstBin: Int
        public var weights: [Float]
    }

    public let filters: [Filter]
    public let bins: Int

    public static func hzToMel(_ hz: Double) -> Double {
        let fSp = 200.0 / 3, minLogHz = 1000.0, minLogMel = minLogHz / fSp, logStep = log(6.4) / 27
        return hz >= minLogHz ? minLogMel + log(hz / minLogHz) / logStep : hz / fSp
    }

    public static func melToHz(_ mel: Double) -> Double {
        let fSp = 200.0 / 3, minLogHz = 1000.0, minLogMel = minLogHz / fSp, logStep = log(6.4) / 27
        return mel >= minLogMel ? minLogHz * exp(logStep * (mel - minLogMel)) : fSp * mel
    }

    /// `count` frequencies evenly spaced on the mel scale from `fMin` to `fMax` (both included).
    public static func melFrequencies(count: Int, fMin: Double, fMax: Double) -> [Double] {
        let low = hzToMel(fMin), high = hzToMel(fMax)
        return (0..<count).map { melToHz(low + (high - low) * Double($0) / Double(max(count - 1, 1))) }
    }

    public init(_ p: SpectrogramParameters) {
        let bins = p.bins
        let fftFrequencies = (0..<bins).map { Double($0) * Double(p.sampleRate) / Double(p.nFFT) }
        let points = Self.melFrequencies(count: p.melBands + 2, fMin: p.fMin, fMax: p.effectiveFMax)
        var filters = [Filter]()
        for i in 0..<p.melBands {
            let lowerWidth = points[i + 1] - points[i], upperWidth = points[i + 2] - points[i + 1]
            let norm = 2 / (points[i + 2] - points[i])
            var first = -1
            var weights = [Float]()
            for (bin, f) in fftFrequencies.enumerated() {
                let rising = (f - points[i]) / lowerWidth
                let falling = (points[i + 2] - f) / upperWidth
                let w = Float(max(0, min(rising, falling)) * norm)
                if w > 0 {
                    if first < 0 { first = bin }
                    // Zeros between non-zero weights cannot occur in a triangle; pad defensively.
                    while first + weights.count < bin { weights.append(0) }
                    weights.append(w)
                }
            }
            filters.append(Filter(firstBin: max(first, 0), weights: weights))
        }
        self.filters = filters
        self.bins = bins
    }

    /// The filterbank as a dense `melBands x bins` matrix, row-major (librosa's `mel()` output).
    public var dense: [Float] {
        var matrix = [Float](repeating: 0, count: filters.count * bins)
        for (i, filter) in filters.enumerated() {
            for (j, w) in filter.weights.enumerated() { matrix[i * bins + filter.firstBin + j] = w }
        }
        return matrix
    }
}
