import MoodCore
import MoodTensor

/// What a model learns to predict for each sample.
public enum Targets: Sendable {
    /// One class index per sample, out of `classes`.
    case classes([Int], count: Int)
    /// A 0/1 vector per sample (multi-label tagging), all of the same length.
    case tags([[Float]])

    public var sampleCount: Int {
        switch self {
        case .classes(let labels, _): return labels.count
        case .tags(let rows): return rows.count
        }
    }

    /// Output units the model needs.
    public var outputs: Int {
        switch self {
        case .classes(_, let count): return count
        case .tags(let rows): return rows.first?.count ?? 0
        }
    }
}

/// Samples for training or evaluation: fixed-shape inputs and their targets.
public protocol TrainingData {
    var count: Int { get }
    /// One sample's shape, e.g. `[1, 96, 1292]`.
    var sampleShape: [Int] { get }
    var targets: Targets { get }
    /// Writes sample `index` to `destination`; when `augment` is true the sample may be
    /// altered (crops, masks) with numbers drawn from `generator` only.
    func load(
        _ index: Int, into destination: UnsafeMutablePointer<Float>, augment: Bool, generator: inout SeededGenerator)
}

/// Samples held in memory: Float16 by default (half the bytes of Float32, ample for log-mel
/// dB values; computation stays Float32), or Float32 for tabular features that need it.
public struct InMemoryData: TrainingData {
    public enum Storage: Sendable { case float16, float32 }

    public let sampleShape: [Int]
    public let targets: Targets
    private let halves: [Float16]
    private let singles: [Float]
    public var count: Int { targets.sampleCount }

    public init(samples: [[Float]], sampleShape: [Int], targets: Targets, storage: Storage = .float16) {
        let size = sampleShape.reduce(1, *)
        precondition(
            samples.count == targets.sampleCount, "\(samples.count) samples for \(targets.sampleCount) targets")
        precondition(samples.allSatisfy { $0.count == size }, "every sample must hold \(size) values")
        self.sampleShape = sampleShape
        self.targets = targets
        halves = storage == .float16 ? samples.flatMap { $0.map { Float16($0) } } : []
        singles = storage == .float32 ? samples.flatMap { $0 } : []
    }

    /// Bytes the inputs take in memory.
    public var inputBytes: Int { halves.count * MemoryLayout<Float16>.size + singles.count * MemoryLayout<Float>.size }

    public func load(
        _ index: Int, into destination: UnsafeMutablePointer<Float>, augment: Bool, generator: inout SeededGenerator
    ) {
        let size = sampleShape.reduce(1, *)
        if !singles.isEmpty {
            singles.withUnsafeBufferPointer { s in destination.update(from: s.baseAddress! + index * size, count: size)
            }
        } else {
            halves.withUnsafeBufferPointer { s in
                for i in 0..<size { destination[i] = Float(s[index * size + i]) }
            }
        }
    }
}
