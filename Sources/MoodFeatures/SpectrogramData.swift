import Foundation
import MoodCore
import MoodSpectrogram
import MoodTensor
import MoodTraining

/// Log-mel spectrograms as training data: each clip's spectrogram from the feature cache,
/// average-pooled by `pool` (bands, frames), standardised with a mean and standard
/// deviation taken from training clips only, held as Float16.
///
/// Augmentation (training only, drawn from the learner's seeded generator): a random
/// circular shift in time (a crop that wraps around), one time mask and one frequency mask
/// of random width set to the mean (SpecAugment's masks, Park et al. 2019).
public struct SpectrogramData: TrainingData {
    public let sampleShape: [Int]
    public let targets: Targets
    public var count: Int { targets.sampleCount }
    private let values: [Float16]
    public var timeMask = 40
    public var frequencyMask = 8
    public var shift = true

    /// Pooled, unstandardised spectrograms (`bands x frames` each) for `paths`, computed or
    /// read through `cache`, on all cores.
    public static func load(_ paths: [String], cache: FeatureCache, pool: (Int, Int), progress: Bool) throws
        -> [[Float]]
    {
        let report = cache.build(paths, progress: progress)
        if let failure = report.failures.first { throw failure }
        if report.interrupted { throw CancellationError() }
        return try paths.map { try Self.pooled(cache.spectrogram(for: $0), pool) }
    }

    /// Average pooling of a `bands x frames` spectrogram by `pool` (bands, frames).
    public static func pooled(_ s: Spectrogram, _ pool: (Int, Int)) -> [Float] {
        let bands = s.bands / pool.0, frames = s.frames / pool.1
        var out = [Float](repeating: 0, count: bands * frames)
        let scale = 1 / Float(pool.0 * pool.1)
        for b in 0..<bands {
            for f in 0..<frames {
                var sum: Float = 0
                for i in 0..<pool.0 { for j in 0..<pool.1 { sum += s[b * pool.0 + i, f * pool.1 + j] } }
                out[b * frames + f] = sum * scale
            }
        }
        return out
    }

    /// Mean and standard deviation over every value of `samples`.
    public static func statistics(_ samples: [[Float]]) -> (mean: Float, std: Float) {
        var sum = 0.0, squares = 0.0, n = 0.0
        for s in samples { for v in s { sum += Double(v); squares += Double(v) * Double(v); n += 1 } }
        let mean = sum / max(n, 1)
        return (Float(mean), Float(max(squares / max(n, 1) - mean * mean, 1e-12).squareRoot()))
    }

    public init(samples: [[Float]], shape: (bands: Int, frames: Int), targets: Targets, mean: Float, std: Float) {
        sampleShape = [1, shape.bands, shape.frames]
        self.targets = targets
        values = samples.flatMap { $0.map { Float16(($0 - mean) / std) } }
    }

    public func load(
        _ index: Int, into destination: UnsafeMutablePointer<Float>, augment: Bool, generator: inout SeededGenerator
    ) {
        let bands = sampleShape[1], frames = sampleShape[2], size = bands * frames
        let offset = augment && shift ? Int(generator.next() % UInt64(frames)) : 0
        values.withUnsafeBufferPointer { v in
            let source = v.baseAddress! + index * size
            for b in 0..<bands {
                // The circular shift as two runs: out[f] = row[(f + offset) % frames].
                let row = source + b * frames, out = destination + b * frames
                Compute.convert(row + offset, to: out, count: frames - offset)
                Compute.convert(row, to: out + frames - offset, count: offset)
            }
        }
        guard augment else { return }
        if timeMask > 0 {
            let width = Int(generator.next() % UInt64(timeMask + 1)),
                start = Int(generator.next() % UInt64(max(frames - width, 1)))
            for b in 0..<bands { for f in start..<min(frames, start + width) { destination[b * frames + f] = 0 } }
        }
        if frequencyMask > 0 {
            let width = Int(generator.next() % UInt64(frequencyMask + 1)),
                start = Int(generator.next() % UInt64(max(bands - width, 1)))
            for b in start..<min(bands, start + width) { for f in 0..<frames { destination[b * frames + f] = 0 } }
        }
    }
}
