import Foundation

/// Batch normalisation over the channels of `[N, C, H, W]` (PyTorch's `BatchNorm2d`).
///
/// Training: per channel c, over the M = N H W values, `mu = mean x`, `var = mean (x - mu)^2`,
/// `xhat = (x - mu) / sqrt(var + eps)`, `y = gamma xhat + beta`; the running statistics move
/// by `momentum` toward `mu` and the unbiased variance `var M / (M - 1)`.
/// Evaluation uses the running statistics instead.
/// Backward (training): `dgamma = sum dy xhat`, `dbeta = sum dy`,
/// `dx = gamma / (M sqrt(var + eps)) (M dy - dbeta - xhat dgamma)`; in evaluation mode
/// the statistics are constants and `dx = gamma dy / sqrt(running_var + eps)`.
/// Sums run in Double per channel, over Float partial sums in the order ``summation`` names.
public final class BatchNorm2D: Layer, Threaded {
    /// Worker threads for this layer (see ``Layer/setThreads(_:)``).
    public var threads = 1
    /// How the per-channel sums (statistics and backward) add their values up; `.sequential`
    /// unless the network was set to train on oneDNN with ``Layer/setTrainingBackend(_:)``
    /// (setting a convolution's `trainingBackend` alone leaves this as it is).
    public var summation = Summation.sequential
    public let channels: Int
    public let epsilon: Float
    public let momentum: Float
    public let gamma: Parameter
    public let beta: Parameter
    public let runningMean: Tensor
    public let runningVariance: Tensor
    private var prefix = ""

    private let output = Tensor(shape: [0])
    // Internal, not private: the fused batch norm + ReLU + max pool (NormReLUPool.swift) shares them.
    let inputGradient = Tensor(shape: [0])
    var input: Tensor?
    var mean = [Float](), inverseStd = [Float]()
    var trainedLast = true

    public init(_ channels: Int, epsilon: Float = 1e-5, momentum: Float = 0.1) {
        self.channels = channels
        self.epsilon = epsilon
        self.momentum = momentum
        gamma = Parameter(name: "weight", shape: [channels], decays: false)
        gamma.value.fill(1)
        beta = Parameter(name: "bias", shape: [channels], decays: false)
        runningMean = Tensor(shape: [channels])
        runningVariance = Tensor(shape: [channels])
        runningVariance.fill(1)
    }

    public var parameters: [Parameter] { [gamma, beta] }
    public var buffers: [(name: String, tensor: Tensor)] {
        [(prefix + "running_mean", runningMean), (prefix + "running_var", runningVariance)]
    }

    public func name(_ prefix: String) {
        self.prefix = prefix
        gamma.name = prefix + "weight"
        beta.name = prefix + "bias"
    }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        computeStatistics(x, training: training)
        let n = x.shape[0], plane = x.count / (n * channels)
        output.resize(x.shape)
        Compute.parallel(channels, workers: threads) { _, range in
            for c in range {
                let (scale, shift) = affine(c)
                for s in 0..<n {
                    let p = x.data + (s * channels + c) * plane, y = output.data + (s * channels + c) * plane
                    for i in 0..<plane { y[i] = p[i] * scale + shift }
                }
            }
        }
        return output
    }

    /// Sets `mean` and `inverseStd` per channel (the batch's in training, moving the running
    /// statistics; the running ones otherwise) and remembers `x` for the backward pass.
    func computeStatistics(_ x: Tensor, training: Bool) {
        precondition(
            x.shape.count >= 2 && x.shape[1] == channels, "BatchNorm2D expects [N, \(channels), ...], got \(x.shape)")
        input = x
        trainedLast = training
        let n = x.shape[0], plane = x.count / (n * channels), m = n * plane
        mean = [Float](repeating: 0, count: channels)
        inverseStd = [Float](repeating: 0, count: channels)
        Compute.parallel(channels, workers: threads) { _, range in
            for c in range {
                var mu: Float, invStd: Float
                if training {
                    // One pass: sums of (x - k) and (x - k)^2 with k the channel's first value, so the
                    // variance E[(x-k)^2] - E[x-k]^2 does not cancel catastrophically.
                    let k = x.data[c * plane]
                    var sum = 0.0, squares = 0.0
                    for s in 0..<n {
                        let p = x.data + (s * channels + c) * plane
                        switch summation {
                        case .sequential:
                            var start = 0
                            while start < plane {  // Float sums over 256 values, Double across them
                                let end = min(plane, start + 256)
                                var partial: Float = 0, partialSquares: Float = 0
                                for i in start..<end { let d = p[i] - k; partial += d; partialSquares += d * d }
                                sum += Double(partial); squares += Double(partialSquares)
                                start = end
                            }
                        case .lanes:
                            let (a, b) = Summation.shiftedSums(p, count: plane, shift: k)
                            sum += a; squares += b
                        }
                    }
                    let shiftedMean = sum / Double(m)
                    let meanD = Double(k) + shiftedMean
                    let variance = max(0, squares / Double(m) - shiftedMean * shiftedMean)
                    mu = Float(meanD)
                    invStd = Float(1 / (variance + Double(epsilon)).squareRoot())
                    runningMean.data[c] = (1 - momentum) * runningMean.data[c] + momentum * mu
                    runningVariance.data[c] =
                        (1 - momentum) * runningVariance.data[c]
                        + momentum * Float(variance * Double(m) / Double(max(m - 1, 1)))
                } else {
                    mu = runningMean.data[c]
                    invStd = 1 / (runningVariance.data[c] + epsilon).squareRoot()
                }
                mean[c] = mu
                inverseStd[c] = invStd
            }
        }
    }

    /// Sets `mean` and `inverseStd` from the running statistics, as evaluation does (for the
    /// fused first block, which never sees this layer's input).
    func useRunningStatistics() {
        trainedLast = false
        input = nil
        mean = runningMean.values
        inverseStd = (0..<channels).map { 1 / (runningVariance.data[$0] + epsilon).squareRoot() }
    }

    /// Channel `c`'s `y = x scale + shift` after ``computeStatistics(_:training:)``.
    @inline(__always)
    func affine(_ c: Int) -> (scale: Float, shift: Float) {
        let scale = gamma.value.data[c] * inverseStd[c]
        return (scale, beta.value.data[c] - mean[c] * scale)
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("BatchNorm2D.backward before forward") }
        let n = x.shape[0], plane = x.count / (n * channels)
        inputGradient.resize(x.shape)
        Compute.parallel(channels, workers: threads) { _, range in
            for c in range {
                backwardChannel(c, x: x, samples: n, plane: plane) { s in
                    UnsafePointer(dy.data + (s * channels + c) * plane)
                }
            }
        }
        return inputGradient
    }

    /// Channel `c`'s backward pass into ``inputGradient`` and the parameters' gradients, given
    /// the gradient reaching this layer's output one plane at a time: `gradient(s)` for sample
    /// `s` (asked for twice per sample; the fused batch norm + ReLU + max pool rebuilds it each
    /// time instead of storing it, and shares these sums so its bits are this layer's).
    @inline(__always)
    func backwardChannel(
        _ c: Int, x: Tensor, samples n: Int, plane: Int, gradient: (Int) -> UnsafePointer<Float>
    ) {
        let m = Float(n * plane)
        let mu = mean[c], invStd = inverseStd[c], g = gamma.value.data[c]
        var sumDy = 0.0, sumDyXhat = 0.0
        for s in 0..<n {
            let p = x.data + (s * channels + c) * plane, d = gradient(s)
            switch summation {
            case .sequential:
                var a: Float = 0, b: Float = 0
                for i in 0..<plane { a += d[i]; b += d[i] * (p[i] - mu) }
                sumDy += Double(a); sumDyXhat += Double(b) * Double(invStd)
            case .lanes:
                let (a, b) = Summation.gradientSums(d, x: p, mean: mu, count: plane)
                sumDy += a; sumDyXhat += b * Double(invStd)
            }
        }
        gamma.gradient.data[c] += Float(sumDyXhat)
        beta.gradient.data[c] += Float(sumDy)
        for s in 0..<n {
            let p = x.data + (s * channels + c) * plane, d = gradient(s)
            let out = inputGradient.data + (s * channels + c) * plane
            if trainedLast {
                let k = g * invStd / m, meanDy = Float(sumDy), meanDyXhat = Float(sumDyXhat)
                for i in 0..<plane { out[i] = k * (m * d[i] - meanDy - (p[i] - mu) * invStd * meanDyXhat) }
            } else {
                let k = g * invStd
                for i in 0..<plane { out[i] = k * d[i] }
            }
        }
    }
}
