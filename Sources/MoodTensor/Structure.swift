import MoodCore

/// Parallel branches over one input, their outputs stacked along channels (Inception-style;
/// musicnn's front end runs five such branches over the spectrogram).
///
/// Shapes: input `x [N, ...]`; branch `b` gives `[N, C_b, H, W]` (all the same `H, W`);
/// output `[N, sum C_b, H, W]`. Backward: the output gradient is split by channels, each
/// branch turns its slice into an input gradient, and those are summed.
public final class Concatenate: Layer {
    public let branches: [Layer]
    private let output = Tensor(shape: [0])
    private let inputGradient = Tensor(shape: [0])
    private var slices: [Tensor] = []
    private var channelCounts: [Int] = []

    public init(_ branches: [Layer]) {
        self.branches = branches
        name("")
    }

    public var parameters: [Parameter] { branches.flatMap(\.parameters) }
    public var buffers: [(name: String, tensor: Tensor)] { branches.flatMap(\.buffers) }
    public var sublayers: [Layer] { branches }
    public func name(_ prefix: String) {
        for (i, branch) in branches.enumerated() { branch.name("\(prefix)\(i).") }
    }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let outputs = branches.map { $0.forward(x, training: training) }
        let n = x.shape[0], plane = outputs[0].shape[2...].reduce(1, *)
        for y in outputs {
            precondition(
                y.shape[0] == n && y.shape[2...].reduce(1, *) == plane,
                "Concatenate: branch outputs \(outputs.map(\.shape)) differ beyond the channel axis")
        }
        channelCounts = outputs.map { $0.shape[1] }
        let total = channelCounts.reduce(0, +)
        output.resize([n, total] + Array(outputs[0].shape[2...]))
        for s in 0..<n {
            var offset = 0
            for y in outputs {
                let count = y.shape[1] * plane
                (output.data + (s * total) * plane + offset).update(from: y.data + s * count, count: count)
                offset += count
            }
        }
        return output
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let n = dy.shape[0], total = dy.shape[1], plane = dy.count / (n * total)
        while slices.count < branches.count { slices.append(Tensor(shape: [0])) }
        var first = true, skipped = 0
        var channelOffset = 0
        for (b, branch) in branches.enumerated() {
            let c = channelCounts[b], slice = slices[b]
            slice.resize([n, c] + Array(dy.shape[2...]))
            for s in 0..<n {
                slice.data.advanced(by: s * c * plane)
                    .update(from: dy.data + (s * total + channelOffset) * plane, count: c * plane)
            }
            channelOffset += c
            let g = branch.backward(slice)
            if g.count == 0 {
                skipped += 1
            } else if first {
                inputGradient.copy(from: g); first = false
            } else {
                for i in 0..<g.count { inputGradient.data[i] += g.data[i] }
            }
        }
        // Either every branch or none skips the input's gradient: a partial sum would be wrong.
        precondition(
            skipped == 0 || skipped == branches.count, "\(skipped) of \(branches.count) branches gave no input gradient"
        )
        if skipped > 0 { inputGradient.resize([0]) }
        return inputGradient
    }
}

/// Zero padding of height (time) and width, possibly uneven: TensorFlow's `same` padding
/// for an even kernel puts the extra row after (128 x 1: 63 rows before, 64 after).
/// `[N, C, H, W]` to `[N, C, top + H + bottom, left + W + right]`; backward crops.
public final class ZeroPad2D: Layer {
    public let top: Int, bottom: Int, left: Int, right: Int
    private let output = Tensor(shape: [0])
    private let inputGradient = Tensor(shape: [0])
    private var inputShape = [Int]()

    public init(top: Int, bottom: Int, left: Int = 0, right: Int = 0) {
        (self.top, self.bottom, self.left, self.right) = (top, bottom, left, right)
    }

    /// TensorFlow's `same` padding for a `kernel`-long axis at stride 1: `(k - 1) / 2` before, the rest after.
    public static func same(kernelHeight: Int, kernelWidth: Int = 1) -> ZeroPad2D {
        ZeroPad2D(
            top: (kernelHeight - 1) / 2, bottom: kernelHeight / 2, left: (kernelWidth - 1) / 2, right: kernelWidth / 2)
    }

    public var parameters: [Parameter] { [] }
    public func name(_ prefix: String) {}

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        inputShape = x.shape
        let (planes, h, w) = (x.shape[0] * x.shape[1], x.shape[2], x.shape[3])
        let ho = top + h + bottom, wo = left + w + right
        output.resize([x.shape[0], x.shape[1], ho, wo])
        output.zero()
        for p in 0..<planes {
            for r in 0..<h {
                (output.data + p * ho * wo + (top + r) * wo + left).update(from: x.data + p * h * w + r * w, count: w)
            }
        }
        return output
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let (planes, h, w) = (inputShape[0] * inputShape[1], inputShape[2], inputShape[3])
        let ho = top + h + bottom, wo = left + w + right
        inputGradient.resize(inputShape)
        for p in 0..<planes {
            for r in 0..<h {
                (inputGradient.data + p * h * w + r * w).update(
                    from: dy.data + p * ho * wo + (top + r) * wo + left, count: w)
            }
        }
        return inputGradient
    }
}

/// `[N, C, H, W]` to `[N, C H W]`, values unmoved (NCHW order: channel-major).
public final class Flatten: Layer {
    private let output = Tensor(shape: [0])
    private let inputGradient = Tensor(shape: [0])
    private var inputShape = [Int]()

    public init() {}
    public var parameters: [Parameter] { [] }
    public func name(_ prefix: String) {}

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        inputShape = x.shape
        output.resize([x.shape[0], x.count / max(x.shape[0], 1)])
        output.data.update(from: x.data, count: x.count)
        return output
    }

    public func backward(_ dy: Tensor) -> Tensor {
        inputGradient.resize(inputShape)
        inputGradient.data.update(from: dy.data, count: dy.count)
        return inputGradient
    }
}
