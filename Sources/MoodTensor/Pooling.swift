/// Max pooling over rectangular windows (e.g. 2 x 4), floor mode: `[N, C, H, W]` to
/// `[N, C, (H - kh) / sh + 1, (W - kw) / sw + 1]`; the stride is the window unless given
/// (musicnn's VGG pools 4 x 1 windows with stride 2 x 2). Backward sends each gradient to the
/// position that held the maximum (the first one, on ties, as PyTorch and TensorFlow do),
/// adding where windows overlap.
public final class MaxPool2D: Layer, Threaded {
    /// Worker threads for this layer (see ``Layer/setThreads(_:)``).
    public var threads = 1
    public let window: (h: Int, w: Int)
    public let stride: (h: Int, w: Int)
    // Internal, not private: the fused batch norm + ReLU + max pool (NormReLUPool.swift) shares them.
    let output = Tensor(shape: [0])
    let inputGradient = Tensor(shape: [0])
    var argmax = [Int32]()
    var inputShape = [Int]()

    public init(_ h: Int, _ w: Int, stride: (Int, Int)? = nil) {
        window = (h, w)
        self.stride = stride.map { ($0.0, $0.1) } ?? (h, w)
    }
    public var parameters: [Parameter] { [] }
    public func name(_ prefix: String) {}

    /// Scans each window in row-major order, keeping the value and position of the first
    /// maximum with selects rather than branches (a branch per element mispredicts often on
    /// real data). A window holding NaN or infinity gives NaN, so a broken value never
    /// disappears silently.
    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (kh, kw) = window, (sh, sw) = stride
        precondition(h >= kh && w >= kw, "MaxPool2D(\(kh)x\(kw)) needs at least that much input, got \(h)x\(w)")
        let ho = (h - kh) / sh + 1, wo = (w - kw) / sw + 1
        inputShape = x.shape
        output.resize([n, c, ho, wo])
        if argmax.count < output.count { argmax = [Int32](repeating: 0, count: output.count) }
        let source = x.data, y = output.data
        argmax.withUnsafeMutableBufferPointer { arg in
            let indices = arg.baseAddress!
            Compute.parallel(n * c, workers: threads) { _, planes in
                for p in planes {
                    let plane = source + p * h * w
                    for oh in 0..<ho {
                        let row = y + p * ho * wo + oh * wo, at = indices + p * ho * wo + oh * wo
                        for ow in 0..<wo {
                            let (best, index) = Self.scan(plane, start: oh * sh * w + ow * sw, rowStride: w, window)
                            row[ow] = best
                            at[ow] = Int32(truncatingIfNeeded: index)
                        }
                    }
                }
            }
        }
        return output
    }

    /// The window's first maximum (row by row) and its position in `plane`; NaN when the window
    /// holds NaN or infinity. Shared with the fused batch norm + ReLU + max pool.
    @inline(__always)
    static func scan(_ plane: UnsafePointer<Float>, start: Int, rowStride w: Int, _ window: (h: Int, w: Int))
        -> (value: Float, index: Int)
    {
        var best = plane[start], index = start
        var poison: Float = 0  // v * 0 is 0 for numbers, NaN for NaN or infinity
        for i in 0..<window.h {
            let line = start + i * w
            for j in 0..<window.w {
                let v = plane[line + j]
                let greater = v > best  // strict: the first maximum wins, as in PyTorch
                index = greater ? line + j : index
                best = greater ? v : best
                poison += v * 0
            }
        }
        return (best + poison, index)
    }

    /// Each output's gradient goes to the position that held its maximum.
    public func backward(_ dy: Tensor) -> Tensor {
        let (n, c, h, w) = (inputShape[0], inputShape[1], inputShape[2], inputShape[3])
        let planeOut = dy.shape[2] * dy.shape[3]
        inputGradient.resize(inputShape)
        let g = dy.data, dx = inputGradient.data
        argmax.withUnsafeBufferPointer { arg in
            let indices = arg.baseAddress!
            Compute.parallel(n * c, workers: threads) { _, planes in
                for p in planes {
                    let grad = dx + p * h * w
                    grad.update(repeating: 0, count: h * w)
                    let gp = g + p * planeOut, a = indices + p * planeOut
                    for i in 0..<planeOut { grad[Int(a[i])] += gp[i] }
                }
            }
        }
        return inputGradient
    }
}

/// Mean over height and width: `[N, C, H, W]` to `[N, C]`.
public final class GlobalAveragePool: Layer {
    private let output = Tensor(shape: [0])
    private let inputGradient = Tensor(shape: [0])
    private var inputShape = [Int]()

    public init() {}
    public var parameters: [Parameter] { [] }
    public func name(_ prefix: String) {}

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        inputShape = x.shape
        let planes = x.shape[0] * x.shape[1], size = x.shape[2] * x.shape[3]
        output.resize([x.shape[0], x.shape[1]])
        for p in 0..<planes {
            var sum: Float = 0
            for i in 0..<size { sum += x.data[p * size + i] }
            output.data[p] = sum / Float(size)
        }
        return output
    }

    public func backward(_ dy: Tensor) -> Tensor {
        inputGradient.resize(inputShape)
        let planes = inputShape[0] * inputShape[1], size = inputShape[2] * inputShape[3]
        for p in 0..<planes {
            let g = dy.data[p] / Float(size)
            for i in 0..<size { inputGradient.data[p * size + i] = g }
        }
        return inputGradient
    }
}

/// Global max and mean pooling, interleaved: `[N, C, H, W]` to `[N, 2C]` with
/// `y[n, 2c] = max x[n, c]` and `y[n, 2c + 1] = mean x[n, c]` (musicnn's back end stacks
/// `[max, mean]` per feature before flattening, in that order). Backward: the max's
/// gradient goes to its first position, the mean's is spread evenly.
public final class GlobalMaxMeanPool: Layer {
    private let output = Tensor(shape: [0])
    private let inputGradient = Tensor(shape: [0])
    private var inputShape = [Int]()
    private var argmax = [Int]()

    public init() {}
    public var parameters: [Parameter] { [] }
    public func name(_ prefix: String) {}

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        inputShape = x.shape
        let planes = x.shape[0] * x.shape[1], size = x.shape[2...].reduce(1, *)
        output.resize([x.shape[0], 2 * x.shape[1]])
        if argmax.count < planes { argmax = [Int](repeating: 0, count: planes) }
        for p in 0..<planes {
            let v = x.data + p * size
            var best = v[0], index = 0, sum: Float = 0, poison: Float = 0
            for i in 0..<size {
                let greater = v[i] > best
                index = greater ? i : index
                best = greater ? v[i] : best
                sum += v[i]
                poison += v[i] * 0  // NaN stays NaN in the max too
            }
            argmax[p] = index
            output.data[2 * p] = best + poison
            output.data[2 * p + 1] = sum / Float(size)
        }
        return output
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let planes = inputShape[0] * inputShape[1], size = inputShape[2...].reduce(1, *)
        inputGradient.resize(inputShape)
        for p in 0..<planes {
            let g = inputGradient.data + p * size, share = dy.data[2 * p + 1] / Float(size)
            g.update(repeating: share, count: size)
            g[argmax[p]] += dy.data[2 * p]
        }
        return inputGradient
    }
}
