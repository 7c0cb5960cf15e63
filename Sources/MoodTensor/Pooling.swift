/// Max pooling over non-overlapping rectangular windows (e.g. 2 x 4), floor mode:
/// `[N, C, H, W]` to `[N, C, H / kh, W / kw]`. Backward sends each gradient to the
/// position that held the maximum (the first one, on ties, as PyTorch does).
public final class MaxPool2D: Layer {
    public let window: (h: Int, w: Int)
    private let output = Tensor(shape: [0])
    private let inputGradient = Tensor(shape: [0])
    private var argmax = [Int32]()
    private var inputShape = [Int]()

    public init(_ h: Int, _ w: Int) { window = (h, w) }
    public var parameters: [Parameter] { [] }
    public func name(_ prefix: String) {}

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let ho = h / window.h, wo = w / window.w
        precondition(ho > 0 && wo > 0, "MaxPool2D(\(window.h)x\(window.w)) needs at least that much input, got \(h)x\(w)")
        inputShape = x.shape
        output.resize([n, c, ho, wo])
        if argmax.count < output.count { argmax = [Int32](repeating: 0, count: output.count) }
        argmax.withUnsafeMutableBufferPointer { arg in
            Compute.parallel(n * c) { _, planes in
                for p in planes {
                    let source = x.data + p * h * w, y = output.data + p * ho * wo, a = arg.baseAddress! + p * ho * wo
                    for oh in 0..<ho {
                        for ow in 0..<wo {
                            var at = (oh * window.h) * w + ow * window.w
                            var best = source[at]
                            for i in 0..<window.h {
                                let row = (oh * window.h + i) * w + ow * window.w
                                for j in 0..<window.w {
                                    let v = source[row + j]
                                    if v > best || (v.isNaN && !best.isNaN) { best = v; at = row + j }  // NaN wins, as in PyTorch
                                }
                            }
                            y[oh * wo + ow] = best
                            a[oh * wo + ow] = Int32(at)
                        }
                    }
                }
            }
        }
        return output
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let (n, c, h, w) = (inputShape[0], inputShape[1], inputShape[2], inputShape[3])
        let planeOut = dy.shape[2] * dy.shape[3]
        inputGradient.resize(inputShape)
        argmax.withUnsafeBufferPointer { arg in
            Compute.parallel(n * c) { _, planes in
                for p in planes {
                    let dx = inputGradient.data + p * h * w
                    dx.update(repeating: 0, count: h * w)
                    let g = dy.data + p * planeOut, a = arg.baseAddress! + p * planeOut
                    for i in 0..<planeOut { dx[Int(a[i])] += g[i] }
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
