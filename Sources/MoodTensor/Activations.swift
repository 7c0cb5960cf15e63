import MoodCore

/// `y = max(0, x)`; backward `dx = dy` where `y > 0`, else 0. A NaN input stays NaN
/// (Swift's `max(0, .nan)` would return 0 and hide it).
public final class ReLU: Layer, Threaded {
    /// Worker threads for this layer (see ``Layer/setThreads(_:)``).
    public var threads = 1
    private let output = Tensor(shape: [0])
    private let inputGradient = Tensor(shape: [0])

    public init() {}
    public var parameters: [Parameter] { [] }
    public func name(_ prefix: String) {}

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        output.resize(x.shape)
        let source = x.data, y = output.data
        Compute.parallel(x.count, workers: threads, grain: 1 << 15) { _, range in
            for i in range { let v = source[i]; y[i] = v < 0 ? 0 : v }
        }
        return output
    }

    public func backward(_ dy: Tensor) -> Tensor {
        inputGradient.resize(dy.shape)
        // Raw pointers in locals and a multiply by a 0/1 mask: a loop LLVM vectorises without
        // branches (a branch per element mispredicts half the time here: 5x slower).
        let y = output.data, g = dy.data, dx = inputGradient.data
        Compute.parallel(dy.count, workers: threads, grain: 1 << 15) { _, range in
            for i in range { dx[i] = g[i] * (y[i] > 0 ? 1 : 0) }
        }
        return inputGradient
    }
}

/// Layers that draw random numbers keep their own seeded generator, saved in checkpoints.
public protocol RandomStateful: AnyObject {
    var generator: SeededGenerator { get set }
}

/// Inverted dropout: in training each value is zeroed with probability `p` and the rest
/// scaled by `1 / (1 - p)`; in evaluation it is the identity.
public final class Dropout: Layer, RandomStateful {
    public let probability: Float
    public var generator: SeededGenerator
    private let output = Tensor(shape: [0])
    private let inputGradient = Tensor(shape: [0])
    private let mask = Tensor(shape: [0])
    private var trainedLast = false

    public init(_ probability: Float, generator: inout SeededGenerator) {
        precondition(probability >= 0 && probability < 1, "dropout probability must be in [0, 1), got \(probability)")
        self.probability = probability
        self.generator = generator.split()
    }

    public var parameters: [Parameter] { [] }
    public func name(_ prefix: String) {}

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        trainedLast = training && probability > 0
        if !trainedLast { return x }  // the identity: no copy (VGG's four dropouts cost 4 % of a pass copying)
        output.resize(x.shape)
        mask.resize(x.shape)
        let keep = 1 / (1 - probability)
        for i in 0..<x.count {
            mask.data[i] = generator.nextUniform() < probability ? 0 : keep
            output.data[i] = x.data[i] * mask.data[i]
        }
        return output
    }

    public func backward(_ dy: Tensor) -> Tensor {
        if !trainedLast { return dy }
        inputGradient.resize(dy.shape)
        for i in 0..<dy.count { inputGradient.data[i] = dy.data[i] * mask.data[i] }
        return inputGradient
    }
}
